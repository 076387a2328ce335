package bot

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/storage"
	"github.com/sirupsen/logrus"
	tele "gopkg.in/telebot.v3"
)

const (
	pendingBatch = 1000
	maxBackoff   = 10 * time.Minute
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
// earliest waiting one is due.
func (b *Bot) drain(ctx context.Context) time.Duration {
	next := time.Hour
	items, err := b.store.Pending(pendingBatch)
	if err != nil {
		b.log.WithError(err).Error("cannot read the queue")
		return 5 * time.Second
	}
	blocked := make(map[string]bool)
	for _, it := range items {
		if ctx.Err() != nil {
			return next
		}
		if it.Key != "" && blocked[it.Key] {
			continue
		}
		if wait := it.NotBefore.Sub(b.now()); wait > 0 {
			blocked[it.Key] = true
			next = min(next, wait)
			continue
		}
		if retryIn, ok := b.handle(ctx, it); !ok {
			blocked[it.Key] = true
			next = min(next, retryIn)
		}
	}
	if len(items) == pendingBatch {
		return 0
	}
	return next
}

// handle processes one item and records the outcome. ok is false when the
// item stays queued; retryIn says when to look again.
func (b *Bot) handle(ctx context.Context, it storage.Item) (retryIn time.Duration, ok bool) {
	log := b.log.WithFields(logrus.Fields{"item": it.ID, "source": it.Source, "attempt": it.Attempts + 1})
	err := b.process(ctx, it)
	if err == nil {
		if err := b.store.Done(it.ID); err != nil {
			log.WithError(err).Error("cannot remove a handled item")
		}
		return 0, true
	}
	if ctx.Err() != nil {
		// Shutting down: the item stays as it was and runs again after restart.
		return 0, false
	}
	err = redactErr(err, b.cfg.TelegramToken)
	retry, after := decide(err, it.Attempts)
	if !retry {
		log.WithError(err).Warn("giving up: moved to dead letters")
		if err := b.store.Bury(it.ID, err.Error()); err != nil {
			log.WithError(err).Error("cannot move an item to the dead letters")
		}
		return 0, true
	}
	entry := log.WithError(err).WithField("retry_in", after.Round(time.Second).String())
	if isConfigProblem(err) {
		entry.Error("Jira refuses jtbot's account or project: check JIRA_USER, JIRA_TOKEN and the project mapping; will retry")
	} else {
		entry.Warn("will retry")
	}
	if err := b.store.Retry(it.ID, b.now().Add(after), err.Error()); err != nil {
		log.WithError(err).Error("cannot reschedule an item")
	}
	return after, false
}

func (b *Bot) process(ctx context.Context, it storage.Item) error {
	switch it.Source {
	case "telegram":
		return b.handleUpdate(ctx, it.Payload)
	case "jira":
		return b.handleJira(ctx, it.Payload)
	}
	return permanent(errors.New("unknown item source " + strconv.Quote(it.Source)))
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
	backoff := min(2*time.Second<<min(attempts, 16), maxBackoff)
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

func isConfigProblem(err error) bool {
	var je *jira.Error
	return errors.As(err, &je) && (je.Status == http.StatusUnauthorized || je.Status == http.StatusForbidden)
}

var telegramCode = regexp.MustCompile(`\((\d{3})\)$`)

func decideTelegram(err error, backoff time.Duration) (bool, time.Duration) {
	var flood tele.FloodError
	if errors.As(err, &flood) {
		return true, max(time.Duration(flood.RetryAfter)*time.Second, time.Second)
	}
	code := 0
	var te *tele.Error
	if errors.As(err, &te) {
		code = te.Code
	} else if m := telegramCode.FindStringSubmatch(err.Error()); m != nil {
		// telebot reports unknown API errors as plain text ending in "(code)".
		code, _ = strconv.Atoi(m[1])
	}
	if code >= 400 && code < 500 && code != http.StatusTooManyRequests {
		return false, 0
	}
	return true, backoff
}
