package route

import (
	"context"
	"sync"
	"time"
)

// Checker asks Jira whether an issue matches a JQL query
// (jira.Client.MatchesJQL).
type Checker interface {
	MatchesJQL(ctx context.Context, key, jql string) (bool, error)
}

// JQLCache remembers Jira's answers to "does this issue match this JQL"
// for a while (the coalescing window), so that a burst of events on one
// issue asks Jira once per JQL, not once per event; identical questions
// asked at the same time share one request. Errors are not remembered.
type JQLCache struct {
	check Checker
	ttl   time.Duration
	now   func() time.Time

	mu       sync.Mutex
	answers  map[question]answer
	inFlight map[question]*pending
	sweepAt  int // len(answers) at which expired answers are dropped
}

type question struct{ issue, jql string }

type answer struct {
	match bool
	until time.Time
}

// pending is a question being asked; done closes when it is answered.
type pending struct {
	done  chan struct{}
	match bool
	err   error
}

// NewJQLCache keeps answers for ttl; now is the clock (nil: time.Now).
func NewJQLCache(check Checker, ttl time.Duration, now func() time.Time) *JQLCache {
	if now == nil {
		now = time.Now
	}
	return &JQLCache{check: check, ttl: ttl, now: now,
		answers: map[question]answer{}, inFlight: map[question]*pending{}, sweepAt: 1024}
}

// Matches answers for one issue — name it the same way every time, by
// its id when known (jira.Client.MatchesJQL then needs no extra read).
func (c *JQLCache) Matches(ctx context.Context, issue, jql string) (bool, error) {
	q := question{issue, jql}
	c.mu.Lock()
	if a, ok := c.answers[q]; ok && c.now().Before(a.until) {
		c.mu.Unlock()
		return a.match, nil
	}
	if p, ok := c.inFlight[q]; ok {
		c.mu.Unlock()
		select {
		case <-p.done:
			return p.match, p.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	p := &pending{done: make(chan struct{})}
	c.inFlight[q] = p
	c.mu.Unlock()

	p.match, p.err = c.check.MatchesJQL(ctx, issue, jql)

	c.mu.Lock()
	delete(c.inFlight, q)
	if p.err == nil {
		c.remember(q, answer{match: p.match, until: c.now().Add(c.ttl)})
	}
	c.mu.Unlock()
	close(p.done)
	return p.match, p.err
}

// remember stores an answer; now and then it drops the expired ones, so
// the cache holds about one window's worth of questions.
func (c *JQLCache) remember(q question, a answer) {
	c.answers[q] = a
	if len(c.answers) < c.sweepAt {
		return
	}
	now := c.now()
	for k, v := range c.answers {
		if !now.Before(v.until) {
			delete(c.answers, k)
		}
	}
	c.sweepAt = max(1024, 2*len(c.answers))
}

// Due reports whether a delivery is due for the issue: m is Always due,
// or one of its JQLs matches. When none matches and asking failed, the
// error says so (the caller retries rather than drop the delivery).
func (c *JQLCache) Due(ctx context.Context, issue string, m Match) (bool, error) {
	if m.Always {
		return true, nil
	}
	var firstErr error
	for _, jql := range m.JQLs {
		ok, err := c.Matches(ctx, issue, jql)
		if ok {
			return true, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return false, firstErr
}
