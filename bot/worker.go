package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

const (
	pendingBatch = 1000
	// maxBackoff bounds the wait between tries: the item at the head of a
	// chat or issue holds back everything behind it, so after an outage it
	// must notice the recovery within a minute.
	maxBackoff = time.Minute
)

// work handles queued items until ctx ends. Items that share a key are
// handled strictly in order: while one waits for a retry, the later ones wait
// behind it.
func (b *Bot) work(ctx context.Context) {
	sweep := time.NewTicker(time.Hour)
	defer sweep.Stop()
	for {
		wait := b.drain(ctx)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-b.store.Notify():
		case <-timer.C:
		case <-sweep.C:
			if n, err := b.store.SweepDedup(); err != nil {
				b.log.WithError(err).Warn("dedup sweep failed")
			} else if n > 0 {
				b.log.WithField("expired", n).Debug("dedup keys swept")
			}
		}
		timer.Stop()
	}
}

// drain handles every ready item once and returns how long until the
// earliest waiting one is due. The store returns only items whose turn has
// come (a waiting item holds back its own chat or issue, nobody else's), so
// thousands of items waiting for a retry neither make the worker spin nor
// hide the ready items behind them.
func (b *Bot) drain(ctx context.Context) time.Duration {
	now := b.now()
	items, due, err := b.store.Ready(now, pendingBatch)
	if err != nil {
		b.log.WithError(err).Error("cannot read the queue")
		return 5 * time.Second
	}
	next := time.Hour
	if !due.IsZero() {
		next = max(due.Sub(now), 0)
	}
	groups := groupItems(items)
	blocked := make(map[string]bool)
	done := make(map[uint64]bool)
	for _, it := range items {
		if ctx.Err() != nil {
			return next
		}
		if done[it.ID] || (it.Key != "" && blocked[it.Key]) {
			continue
		}
		batch := []storage.Item{it}
		if it.Group != "" {
			batch = groups[it.Group]
		}
		if wait := b.waitFor(batch); wait > 0 {
			blocked[it.Key] = true
			next = min(next, wait)
			continue
		}
		for _, g := range batch {
			done[g.ID] = true
		}
		if retryIn, ok := b.handle(ctx, batch); !ok {
			blocked[it.Key] = true
			next = min(next, retryIn)
		}
	}
	return next
}

// groupItems collects the items of each group, in queue order.
func groupItems(items []storage.Item) map[string][]storage.Item {
	groups := make(map[string][]storage.Item)
	for _, it := range items {
		if it.Group != "" {
			groups[it.Group] = append(groups[it.Group], it)
		}
	}
	return groups
}

// waitFor says how long a batch must still wait: for its retry time, and
// for a group, until no new member has arrived for the group's quiet period.
func (b *Bot) waitFor(batch []storage.Item) time.Duration {
	now := b.now()
	var wait time.Duration
	var last time.Time
	for _, it := range batch {
		wait = max(wait, it.NotBefore.Sub(now))
		if it.Received.After(last) {
			last = it.Received
		}
	}
	if batch[0].Group != "" {
		quiet := b.quiet(batch[0])
		// A group that never falls quiet (a busy project) still goes out.
		if patience := batch[0].Received.Add(groupPatience * quiet); last.After(patience) {
			last = patience
		}
		wait = max(wait, last.Add(quiet).Sub(now))
	}
	return wait
}

// groupPatience bounds, in quiet periods, how long a group may keep growing.
const groupPatience = 4

// quiet is how long a group waits for more members.
func (b *Bot) quiet(it storage.Item) time.Duration {
	if it.Source == "jira" {
		return b.cfg.CoalesceWindow
	}
	return albumQuiet
}

// albumQuiet is how long an album waits for more of its photos: Telegram
// sends them as separate updates within a second or so.
const albumQuiet = 2 * time.Second

// handle processes a batch (one item, or a whole group) and records the
// outcome for all of it. ok is false when the batch stays queued; retryIn
// says when to look again.
func (b *Bot) handle(ctx context.Context, batch []storage.Item) (retryIn time.Duration, ok bool) {
	first := batch[0]
	log := b.log.WithFields(logrus.Fields{"item": first.ID, "items": len(batch), "source": first.Source, "attempt": first.Attempts + 1})
	err := b.processSafely(ctx, batch)
	var partial partialError
	if errors.As(err, &partial) {
		// The handler finished some items before it had to stop.
		var done []storage.Item
		done, batch = partial.remaining(batch)
		b.finish(log, done, b.store.DoneAll)
		for _, it := range done {
			b.stats.Delivered(it.Source, it.Received)
		}
		err = partial.err
		if len(batch) == 0 {
			return 0, true
		}
	}
	if err == nil {
		b.finish(log, batch, b.store.DoneAll)
		for _, it := range batch {
			b.stats.Delivered(it.Source, it.Received)
		}
		return 0, true
	}
	if ctx.Err() != nil {
		// Shutting down: the items stay as they were and run again after restart.
		return 0, false
	}
	if te, ok := telegram.AsError(err); ok && te.Limited {
		// Not a failure: the items wait in the queue for Telegram's limits.
		log.WithField("retry_in", te.RetryAfter.String()).Debug("waiting for telegram's rate limit")
		b.finish(log, batch, func(ids []uint64) error { return b.store.DelayAll(ids, b.now().Add(te.RetryAfter)) })
		return te.RetryAfter, false
	}
	retry, after := decide(err, first.Attempts)
	overdue := retry && b.now().Sub(first.Received) > b.cfg.RetryBudget
	b.stats.Failed(first.Source, reasonOf(err), retry && !overdue)
	if overdue {
		err = fmt.Errorf("still failing after the retry budget (RETRY_BUDGET=%s): %w", b.cfg.RetryBudget, err)
		b.tellGivenUp(ctx, first)
	}
	if !retry || overdue {
		log.WithError(err).Warn("giving up: moved to dead letters")
		b.finish(log, batch, func(ids []uint64) error { return b.store.BuryAll(ids, err.Error()) })
		return 0, true
	}
	entry := log.WithError(err).WithField("retry_in", after.Round(time.Second).String())
	if isConfigProblem(err) {
		entry.Error("Jira refuses jtbot's account or project: check JIRA_USER, JIRA_TOKEN and the project mapping; will retry")
	} else {
		entry.Warn("will retry")
	}
	b.finish(log, batch, func(ids []uint64) error { return b.store.RetryAll(ids, b.now().Add(after), err.Error()) })
	return after, false
}

func (b *Bot) finish(log logrus.FieldLogger, batch []storage.Item, record func([]uint64) error) {
	if len(batch) == 0 {
		return
	}
	ids := make([]uint64, len(batch))
	for i, it := range batch {
		ids[i] = it.ID
	}
	// One transaction for the whole batch: it was handled as one.
	if err := record(ids); err != nil {
		log.WithError(err).WithField("items", len(ids)).Error("cannot record the outcome of handled items")
	}
}

// processSafely is process with a panic turned into a permanent failure:
// the item goes to the dead letters with the panic's message, and the
// daemon keeps working instead of restarting onto the same item forever.
func (b *Bot) processSafely(ctx context.Context, batch []storage.Item) (err error) {
	defer func() {
		if r := recover(); r != nil {
			b.log.WithFields(logrus.Fields{"item": batch[0].ID, "stack": string(debug.Stack())}).Error("handling an item panicked")
			err = permanent(fmt.Errorf("panic: %v", r))
		}
	}()
	return b.process(ctx, batch)
}

// tellGivenUp tells a chat, under the post, that the post will not become
// an issue: it failed for the whole retry budget. Other items are only
// dead-lettered.
func (b *Bot) tellGivenUp(ctx context.Context, it storage.Item) {
	if it.Source != telegram.Source {
		return
	}
	var u tele.Update
	if json.Unmarshal(it.Payload, &u) != nil {
		return
	}
	m := u.ChannelPost
	if m == nil {
		m = u.Message
	}
	if m == nil || m.Chat == nil {
		return
	}
	text := "⚠️ This message could not reach Jira for " + b.cfg.RetryBudget.String() +
		": jtbot gave up (it is kept in the dead letters; an admin can retry it with <code>jtbot queue -retry</code>)."
	if _, err := b.post(ctx, refOf(m), text, nil, mayWait); err != nil {
		b.log.WithError(err).WithField("chat", m.Chat.ID).Warn("cannot tell the chat that a post was given up")
	}
}

// process hands a batch to its source's handler. Batches of more than one
// item are always one group of one source.
func (b *Bot) process(ctx context.Context, batch []storage.Item) error {
	switch batch[0].Source {
	case "telegram":
		return b.handleUpdates(ctx, batch)
	case "jira":
		return b.handleJiraEvents(ctx, batch)
	}
	return permanent(errors.New("unknown item source " + strconv.Quote(batch[0].Source)))
}

// permanentError marks a failure that no retry can fix.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func permanent(err error) error { return permanentError{err} }

// transientError marks a failure worth retrying even though its cause
// looks final (a project that an admin can still fix).
type transientError struct{ error }

func (e transientError) Unwrap() error { return e.error }

// decide says whether to retry and after how long: network trouble, 5xx and
// 429 are retried with exponential backoff (or the server's Retry-After);
// other 4xx go to the dead letters. Jira 401/403 are retried, slowly: they
// mean a setting to fix, and the posts in between must not be lost.
func decide(err error, attempts int) (bool, time.Duration) {
	backoff := min(time.Second<<min(attempts, 16), maxBackoff)
	var pe permanentError
	if errors.As(err, &pe) {
		return false, 0
	}
	var te transientError
	if errors.As(err, &te) {
		return true, backoff
	}
	var je *jira.Error
	if errors.As(err, &je) {
		switch {
		case je.Temporary():
			return true, max(backoff, je.RetryAfter)
		case isConfigProblem(err):
			return true, max(backoff, time.Minute)
		}
		return false, 0
	}
	return decideTelegram(err, backoff)
}

// reasonOf classifies a failure for metrics, with bounded label values.
func reasonOf(err error) string {
	var je *jira.Error
	if errors.As(err, &je) {
		return statusReason("jira", je.Status)
	}
	if te, ok := telegram.AsError(err); ok {
		return statusReason("telegram", te.Code)
	}
	var pe permanentError
	if errors.As(err, &pe) {
		return "permanent"
	}
	return "other"
}

// statusReason names a failed call by its HTTP status (0: no answer).
func statusReason(system string, status int) string {
	switch {
	case status == 0:
		return system + "_unreachable"
	case status == http.StatusTooManyRequests:
		return system + "_429"
	case status >= 500:
		return system + "_5xx"
	}
	return system + "_4xx"
}

func isConfigProblem(err error) bool {
	var je *jira.Error
	return errors.As(err, &je) && (je.Status == http.StatusUnauthorized || je.Status == http.StatusForbidden)
}

// decideTelegram reads the verdict a Telegram error carries: temporary
// failures are retried (after Telegram's retry_after when it gave one),
// refusals are final. Errors that are neither Jira's nor Telegram's (the
// database, a cancelled context) are retried.
func decideTelegram(err error, backoff time.Duration) (bool, time.Duration) {
	te, ok := telegram.AsError(err)
	switch {
	case !ok:
		return true, backoff
	case te.Code == http.StatusTooManyRequests || te.Limited:
		return true, max(te.RetryAfter, time.Second)
	case te.Temporary():
		return true, backoff
	}
	return false, 0
}
