package bot

import (
	"fmt"
	"sync"
	"time"

	"github.com/jtbot/jtbot/storage"
)

// Telegram's limits on what one bot may send (Bot API FAQ): about one
// message a second in a chat, twenty a minute in a group or channel, thirty
// a second overall.
const (
	chatInterval = time.Second
	groupWindow  = time.Minute
	groupMax     = 20
	globalWindow = time.Second
	globalMax    = 30
)

// limiter tracks jtbot's own sends so that Jira notifications stay inside
// Telegram's limits. It only answers "send now" or "wait this long": the
// waiting happens in the durable queue, never in the worker. Its zero value
// is ready to use.
type limiter struct {
	mu     sync.Mutex
	chats  map[int64][]time.Time // recent sends per chat, oldest first
	all    []time.Time
	paused map[int64]time.Time // chats under a Telegram retry_after
}

// reserve records a send to chat at now and returns 0, or returns how long
// to wait first without recording anything.
func (l *limiter) reserve(chat int64, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.waitLocked(chat, now); wait > 0 {
		return wait
	}
	l.recordLocked(chat, now)
	return 0
}

// record counts a send that admission already allowed.
func (l *limiter) record(chat int64, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recordLocked(chat, now)
}

func (l *limiter) recordLocked(chat int64, now time.Time) {
	if l.chats == nil {
		l.chats = make(map[int64][]time.Time)
	}
	delete(l.paused, chat)
	l.chats[chat] = append(l.chats[chat], now)
	l.all = append(l.all, now)
}

// peek says how long a send to chat would have to wait, recording nothing.
func (l *limiter) peek(chat int64, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.waitLocked(chat, now), 0)
}

func (l *limiter) waitLocked(chat int64, now time.Time) time.Duration {
	if l.chats == nil {
		l.chats = make(map[int64][]time.Time)
	}
	recent := trim(l.chats[chat], now.Add(-groupWindow))
	l.chats[chat] = recent
	l.all = trim(l.all, now.Add(-globalWindow))

	wait := l.paused[chat].Sub(now)
	if n := len(recent); n > 0 {
		wait = max(wait, recent[n-1].Add(chatInterval).Sub(now))
	}
	if chat < 0 && len(recent) >= groupMax {
		wait = max(wait, recent[len(recent)-groupMax].Add(groupWindow).Sub(now))
	}
	if len(l.all) >= globalMax {
		wait = max(wait, l.all[len(l.all)-globalMax].Add(globalWindow).Sub(now))
	}
	return wait
}

// pause holds a chat until Telegram's retry_after has passed.
func (l *limiter) pause(chat int64, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.paused == nil {
		l.paused = make(map[int64]time.Time)
	}
	if until.After(l.paused[chat]) {
		l.paused[chat] = until
	}
}

// trim drops the times before since; ts is sorted.
func trim(ts []time.Time, since time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(since) {
		i++
	}
	if i == len(ts) {
		return ts[:0]
	}
	return ts[i:]
}

// rateWait asks the worker to keep the items queued for a while: a send
// would exceed Telegram's limits. It is not a failure.
type rateWait struct {
	chat  int64
	after time.Duration
}

func (e rateWait) Error() string {
	if e.chat == 0 {
		return fmt.Sprintf("telegram rate limit for a watcher: waiting %s", e.after.Round(time.Millisecond))
	}
	return fmt.Sprintf("telegram rate limit for chat %d: waiting %s", e.chat, e.after.Round(time.Millisecond))
}

// partialError reports that a handler finished some items of a batch
// before err stopped it: those are done, the others follow err's fate.
type partialError struct {
	done []uint64
	err  error
}

func (e partialError) Error() string { return e.err.Error() }
func (e partialError) Unwrap() error { return e.err }

// remaining returns the items of batch that are not done.
func (e partialError) remaining(batch []storage.Item) (done, rest []storage.Item) {
	finished := make(map[uint64]bool, len(e.done))
	for _, id := range e.done {
		finished[id] = true
	}
	for _, it := range batch {
		if finished[it.ID] {
			done = append(done, it)
		} else {
			rest = append(rest, it)
		}
	}
	return done, rest
}
