package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// guard protects the webhook endpoints, per client address:
//   - a generous limit on all requests (a flood gets 429 past the burst,
//     far above what Telegram and Jira send);
//   - a tight limit on failed authentications: a burst is allowed (a
//     misconfigured secret shows up in the logs, not as a lockout), a
//     steady guessing of secrets is not.
//
// Both answer 429 before the request is read.
type guard struct {
	requests *limiter
	failures *limiter
}

func newGuard(now func() time.Time) *guard {
	return &guard{
		requests: newLimiter(requestBurst, requestRate, now),
		failures: newLimiter(authFailureBurst, authFailureRate, now),
	}
}

// Limits per client address.
const (
	requestBurst     = 50_000
	requestRate      = 20_000 // per second
	authFailureBurst = 30
	authFailureRate  = 0.1 // one more try every 10 s
)

func (g *guard) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		if !g.requests.take(ip) {
			refuse(w, "too many requests")
			return
		}
		if !g.failures.allowed(ip) {
			refuse(w, "too many failed authentications")
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusUnauthorized {
			g.failures.take(ip)
		}
	})
}

func refuse(w http.ResponseWriter, why string) {
	w.Header().Set("Retry-After", "10")
	http.Error(w, why, http.StatusTooManyRequests)
}

// limiter is a token bucket per address. Full buckets are forgotten, so it
// holds only the addresses that are busy right now.
type limiter struct {
	burst float64
	rate  float64 // tokens per second
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(burst int, perSecond float64, now func() time.Time) *limiter {
	return &limiter{burst: float64(burst), rate: perSecond, now: now, buckets: map[string]*bucket{}}
}

// allowed reports whether ip has a token left, without taking it.
func (l *limiter) allowed(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(ip)
	return b == nil || b.tokens >= 1
}

// take uses one of ip's tokens; false when there was none.
func (l *limiter) take(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(ip)
	if b == nil {
		b = &bucket{tokens: l.burst, last: l.now()}
		l.buckets[ip] = b
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *limiter) refill(ip string) *bucket {
	now := l.now()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[ip]
	if b == nil {
		return nil
	}
	b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*l.rate, l.burst)
	b.last = now
	return b
}

// clientIP is the peer's address. X-Forwarded-For is not trusted: behind a
// proxy all clients share the proxy's address, which still stops guessing.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}
