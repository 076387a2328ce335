package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jtbot/jtbot/monitoring/promtest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// TestAlertsFireOnTheDaemon: a real Prometheus scrapes a real jtbot (over
// HTTPS, as in production) that the fakes drove into each bad state the
// alerts are written for, with monitoring/alerts.yml loaded, and Prometheus
// says each alert is pending or firing: every expression names series the
// daemon really exports, with the values it really gives them.
//
// Shortened for the test: every "for" (to 1s, by promtest) and the
// daemon's watch interval (to 100 ms, from a minute). No threshold is
// changed: the certificate really expires in 3 days, the webhook error is
// seconds old and the pending updates really grow.
func TestAlertsFireOnTheDaemon(t *testing.T) {
	prometheusBin := promtest.Binary(t, "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	certPEM, certFile, keyFile := selfSignedCertFor(t, dir, "short-lived", 3*24*time.Hour) // CertificateExpiresSoon
	w := newWorld(t)
	w.watchInterval = 100 * time.Millisecond

	// DeadLetters: the post's issue exists, then the chat is gone, so the
	// notification of a Jira comment gets a permanent 400. Over plain HTTP:
	// the fake Jira, like Jira itself, would not trust the self-signed
	// certificate the daemon serves below.
	first := w.start(t, false)
	post := w.tg.ChannelPost(channel, "Backups failed tonight")
	w.tg.Push(post)
	w.waitSent(t, func(m telegramtest.SentMessage) bool { return m.ReplyTo == messageID(post, "channel_post") })
	for _, chat := range []int64{channelID, groupID} {
		w.tg.SetChatError(chat, 400, "Bad Request: chat not found")
	}
	if _, err := w.jira.As(jane).Comment("OPS-1", "Restored from yesterday's snapshot"); err != nil {
		t.Fatal(err)
	}
	w.waitMetric(t, first.addr, "jtbot_dead_letters", func(v float64) bool { return v > 0 })
	if code := first.stop(); code != 0 {
		t.Fatalf("first daemon: exit %d", code)
	}

	// JiraCredentialsRefused: the token was revoked; jtbot restarts on the
	// same database (the dead letter stays), now serving HTTPS with the
	// short-lived certificate, and a new post meets Jira's 401.
	w.https, w.client = true, trusting(certPEM)
	d := w.start(t, false, "TLS_CERT_FILE="+certFile, "TLS_KEY_FILE="+keyFile, "JIRA_TOKEN=revoked-token")
	w.tg.Push(w.tg.ChannelPost(channel, "Disk full on db-2"))
	w.waitMetric(t, d.addr, "jtbot_jira_credentials_refused", func(v float64) bool { return v == 1 })

	prom := promtest.Start(ctx, t, prometheusBin, filepath.Join(dir, "prometheus"), promtest.Config{
		Rules: filepath.Join("monitoring", "alerts.yml"), Targets: []string{d.addr}, HTTPS: true})
	// TelegramWebhookFailing needs Prometheus to have seen the pending
	// updates before they grow.
	if !promtest.Poll(ctx, 15*time.Second, func() bool {
		v, ok := prom.Value(ctx, t, `jtbot_telegram_pending_updates{job="jtbot"}`)
		return ok && v == 0
	}) {
		t.Fatalf("Prometheus never scraped jtbot_telegram_pending_updates 0 from the daemon:\n%s", w.logs)
	}
	// Telegram can no longer deliver: the webhook now points where nothing
	// listens (a proxy that is down, a URL changed by hand), and updates
	// pile up at Telegram with its delivery errors.
	w.setWebhook(t, "http://"+closedAddr(t)+"/webhook/telegram/")
	for _, text := range []string{"Anyone there?", "Hello?"} {
		w.tg.Push(w.tg.ChannelPost(channel, text))
	}
	if !w.tg.WaitFor(waitLong, func() bool { return w.tg.LastWebhookError() != "" }) {
		t.Fatal("the fake Telegram reports no webhook error")
	}

	states := prom.WaitAlerts(ctx, t, 20*time.Second,
		"JiraCredentialsRefused", "DeadLetters", "CertificateExpiresSoon", "TelegramWebhookFailing")
	if s, ok := states["JtbotDown"]; ok {
		t.Errorf("JtbotDown is %s while the daemon serves", s)
	}
	if t.Failed() {
		t.Logf("daemon log:\n%s", w.logs)
	}

	// JtbotDown: the daemon stops and its port refuses the scrape.
	if code := d.stop(); code != 0 {
		t.Errorf("daemon: exit %d", code)
	}
	prom.WaitAlerts(ctx, t, 15*time.Second, "JtbotDown")
}

// waitMetric waits until the daemon's /metrics has an unlabelled series
// name whose value satisfies ok.
func (w *world) waitMetric(t *testing.T, addr, name string, ok func(float64) bool) {
	t.Helper()
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`)
	var last string
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		resp, err := w.client.Get(w.scheme() + "://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := line.FindSubmatch(body); m != nil {
			last = string(m[1])
			if v, err := strconv.ParseFloat(last, 64); err == nil && ok(v) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/metrics: %s is %q, never what the test waits for:\n%s", name, last, w.logs)
}

// setWebhook points the fake Telegram's webhook at u, as anyone holding
// the bot token can.
func (w *world) setWebhook(t *testing.T, u string) {
	t.Helper()
	resp, err := http.PostForm(w.tg.URL+"/bot"+testToken+"/setWebhook", url.Values{"url": {u}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("setWebhook: %s: %s", resp.Status, body)
	}
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
