package main

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/metrics"
	"github.com/jtbot/jtbot/server"
	"github.com/jtbot/jtbot/telegram"
)

// defaultWatchInterval is how often the gauges that alerts read are
// refreshed from outside jtbot: the alert rules look at 10–15 minute
// windows. hooks.watchInterval overrides it (tests).
const defaultWatchInterval = time.Minute

// every runs f now and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watchWebhook exports Telegram's view of our webhook (getWebhookInfo):
// deliveries Telegram could not make show up there, not in our logs.
func watchWebhook(ctx context.Context, interval time.Duration, tg *telegram.Client, stats *metrics.Metrics, log logrus.FieldLogger) {
	every(ctx, interval, func() {
		info, err := tg.WebhookInfo(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.WithError(err).Warn("cannot read Telegram's webhook state")
			}
			return
		}
		var lastError time.Time
		if info.LastErrorDate != 0 {
			lastError = time.Unix(info.LastErrorDate, 0)
		}
		stats.SetWebhookInfo(info.PendingUpdateCount, lastError)
	})
}

// watchCerts exports the serving certificate's expiry, after SIGHUP
// reloads and ACME renewals too.
func watchCerts(ctx context.Context, interval time.Duration, cfg *config.Config, files *server.CertFiles, stats *metrics.Metrics) {
	if files == nil && cfg.TLSDomain == "" {
		return
	}
	every(ctx, interval, func() {
		if files != nil {
			stats.SetCertExpiry(files.Leaf().NotAfter)
			return
		}
		if c, err := server.CachedACMECert(server.ACMECacheDir(cfg.DBPath), cfg.TLSDomain); err == nil && c != nil {
			stats.SetCertExpiry(c.NotAfter)
		}
	})
}
