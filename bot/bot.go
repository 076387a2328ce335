// Package bot owns the Telegram side of jtbot and the bridge between the
// two: it receives updates (webhook or long polling) into the durable queue,
// and its worker turns queued Telegram updates into Jira actions and queued
// Jira events into Telegram messages.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/metrics"
	"github.com/jtbot/jtbot/storage"
	"github.com/sirupsen/logrus"
	tele "gopkg.in/telebot.v3"
)

// AllowedUpdates are the update kinds jtbot asks Telegram for.
var AllowedUpdates = []string{"message", "edited_message", "channel_post", "edited_channel_post", "callback_query"}

// Options are the parts a Bot is built from.
type Options struct {
	Config *config.Config
	Store  *storage.Store
	Jira   *jira.Client
	Log    logrus.FieldLogger
	// HTTPClient talks to the Bot API; its timeout must exceed the 30 s long poll.
	HTTPClient *http.Client
	// WebhookCert is a certificate file setWebhook uploads (self-signed HTTPS).
	WebhookCert string
	// Metrics records what happens; nil records nothing.
	Metrics *metrics.Metrics
	// Now replaces the clock in tests.
	Now func() time.Time
}

// Bot is the running bridge.
type Bot struct {
	cfg   *config.Config
	store *storage.Store
	jira  *jira.Client
	log   logrus.FieldLogger
	tg    *tele.Bot
	http  *http.Client
	now   func() time.Time
	stats *metrics.Metrics
	cert  string

	running atomic.Bool // the Telegram side is up (getMe done, updates flowing)
	jiraMe  atomic.Pointer[jira.User]
	out     outbox // Jira → Telegram: rate limits and known names (jira.go)
}

// New builds the bot without contacting Telegram; Run does that.
func New(o Options) (*Bot, error) {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	b := &Bot{cfg: o.Config, store: o.Store, jira: o.Jira, log: o.Log.WithField("component", "bot"), now: o.Now, stats: o.Metrics, cert: o.WebhookCert, http: o.HTTPClient}
	tg, err := tele.NewBot(tele.Settings{
		URL:     o.Config.TelegramAPIURL,
		Token:   o.Config.TelegramToken,
		Client:  o.HTTPClient,
		Offline: true, // getMe happens in Run, with retries
		Poller:  b.poller(),
		OnError: func(err error, _ tele.Context) {
			b.log.WithError(RedactToken(err, o.Config.TelegramToken)).Warn("telegram")
		},
	})
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.tg = tg
	return b, nil
}

// Healthy reports why the Telegram side is not serving, or nil.
func (b *Bot) Healthy() error {
	if !b.running.Load() {
		return errors.New("telegram side not running")
	}
	return nil
}

// Run connects to Telegram, starts receiving updates and works the queue
// until ctx ends. It returns an error only when it cannot start at all.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.connect(ctx); err != nil {
		return err
	}
	if err := b.registerCommands(); err != nil {
		b.log.WithError(RedactToken(err, b.cfg.TelegramToken)).Warn("cannot set the command menu")
	}
	started := make(chan struct{})
	go func() {
		close(started)
		b.tg.Start()
	}()
	<-started
	b.running.Store(true)
	b.log.WithField("username", b.tg.Me.Username).Info("telegram connected")

	b.work(ctx)

	b.running.Store(false)
	b.tg.Stop()
	return nil
}

// connect calls getMe until it works: a Telegram outage at start delays
// jtbot, while a refused token stops it with a clear message.
func (b *Bot) connect(ctx context.Context) error {
	delay := time.Second
	for {
		me, err := b.getMe()
		if err == nil {
			b.tg.Me = me
			return nil
		}
		if errors.Is(err, tele.ErrUnauthorized) || errors.Is(err, tele.ErrNotFound) {
			return fmt.Errorf("TELEGRAM_HOOK_TOKEN: Telegram refused the bot token (%v)", RedactToken(err, b.cfg.TelegramToken))
		}
		b.log.WithError(RedactToken(err, b.cfg.TelegramToken)).Warnf("telegram getMe failed, retrying in %s", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

func (b *Bot) getMe() (*tele.User, error) {
	data, err := b.tg.Raw("getMe", nil)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Result *tele.User `json:"result"`
	}
	if err := json.Unmarshal(data, &resp); err != nil || resp.Result == nil {
		return nil, fmt.Errorf("telegram: getMe: unexpected answer")
	}
	return resp.Result, nil
}

// Username is the bot's @username (without @), known once Run connected.
func (b *Bot) Username() string {
	if b.tg.Me == nil {
		return ""
	}
	return b.tg.Me.Username
}
