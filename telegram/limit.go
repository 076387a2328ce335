package telegram

import (
	"sync"
	"time"
)

// Telegram's limits on what one bot may send (Bot API FAQ): about one
// message a second in a chat, twenty a minute in a group or channel, thirty
// a second overall.
const (
	ChatInterval = time.Second
	GroupWindow  = time.Minute
	GroupMax     = 20
	GlobalWindow = time.Second
	GlobalMax    = 30
)

// limiter tracks jtbot's own sends so that every message stays inside
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
	recent := trim(l.chats[chat], now.Add(-GroupWindow))
	l.chats[chat] = recent
	l.all = trim(l.all, now.Add(-GlobalWindow))

	wait := l.paused[chat].Sub(now)
	if n := len(recent); n > 0 {
		wait = max(wait, recent[n-1].Add(ChatInterval).Sub(now))
	}
	if chat < 0 && len(recent) >= GroupMax {
		wait = max(wait, recent[len(recent)-GroupMax].Add(GroupWindow).Sub(now))
	}
	if len(l.all) >= GlobalMax {
		wait = max(wait, l.all[len(l.all)-GlobalMax].Add(GlobalWindow).Sub(now))
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
