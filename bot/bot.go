// Package bot is jtbot's behaviour: the worker that drains the durable
// queue, posts → issues and replies → comments (posts.go), Jira events →
// Telegram messages (notify.go), commands and buttons. It reaches Telegram,
// Jira and the database only through the small interfaces of ports.go.
package bot

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/route"
)

// Options are the parts a Bot is built from.
type Options struct {
	Config   *config.Config
	Store    Store
	Jira     Jira
	Telegram Telegram
	Log      logrus.FieldLogger
	// Metrics records what happens; nil records nothing.
	Metrics Stats
	// Now replaces the clock in tests.
	Now func() time.Time
	// OAuth signs people in to Jira (JIRA_OAUTH_CLIENT_ID); nil: /connect
	// takes a personal token instead.
	OAuth OAuthProvider
	// PersonalHTTP makes the calls of personal token clients; nil: one
	// with a 30 s timeout.
	PersonalHTTP *http.Client
}

// Bot is the running bridge.
type Bot struct {
	cfg   *config.Config
	store Store
	jira  Jira
	tg    Telegram
	log   logrus.FieldLogger
	now   func() time.Time
	stats Stats

	running atomic.Bool              // connected to Telegram and working the queue
	ready   chan struct{}            // closed once running
	names   names                    // Jira accountId, name or key → display name
	members *answers[[2]int64, bool] // getChatMember: chat, user → member
	linked  *answers[int64, int64]   // getChat: chat → linked chat
	desks   *answers[string, bool]   // project → a Service Management project

	oauth   OAuthProvider
	http    *http.Client
	clients personalClients         // one Jira client per connected person
	seen    *answers[seenKey, bool] // what a person's own client could read, for the coalescing window

	subs atomic.Pointer[subscriptionSet] // the subscriptions as read; nil: read them again
	jql  *route.JQLCache                 // Jira's answers for subscriptions' JQL
}

// New builds the bot without contacting anything; Run does that.
func New(o Options) *Bot {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = noStats{}
	}
	return &Bot{cfg: o.Config, store: o.Store, jira: o.Jira, tg: o.Telegram, log: o.Log.WithField("component", "bot"),
		now: o.Now, stats: o.Metrics, ready: make(chan struct{}), oauth: o.OAuth, http: o.PersonalHTTP,
		jql:     route.NewJQLCache(o.Jira, jqlMemory(o.Config.CoalesceWindow), o.Now),
		members: newAnswers[[2]int64, bool](askTTL), linked: newAnswers[int64, int64](askTTL),
		desks: newAnswers[string, bool](askTTL), seen: newAnswers[seenKey, bool](o.Config.CoalesceWindow)}
}

// jqlMemory is how long Jira's answer to a subscription's JQL is kept for
// an issue: the coalescing window, so a burst asks once, and at least a
// few seconds when coalescing is off, for the same reason.
func jqlMemory(window time.Duration) time.Duration { return max(window, 5*time.Second) }

type noStats struct{}

func (noStats) Delivered(string, time.Time) {}
func (noStats) Failed(string, string, bool) {}

// Healthy reports why the bot is not working, or nil.
func (b *Bot) Healthy() error {
	if !b.running.Load() {
		return errors.New("telegram side not running")
	}
	return nil
}

// Ready is closed once Run has connected and works the queue.
func (b *Bot) Ready() <-chan struct{} { return b.ready }

// Run connects to Telegram and works the queue until ctx ends. It returns
// an error only when it cannot start at all (Telegram refused the token).
func (b *Bot) Run(ctx context.Context) error {
	if err := b.tg.Connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := b.registerCommands(ctx); err != nil {
		b.log.WithError(err).Warn("cannot set the command menu")
	}
	b.running.Store(true)
	close(b.ready)
	b.log.WithField("username", b.tg.Username()).Info("telegram connected")
	b.work(ctx)
	b.running.Store(false)
	return nil
}

// Username is the bot's @username (without @), known once Run connected.
func (b *Bot) Username() string { return b.tg.Username() }
