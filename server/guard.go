package server

import (
	"net/http"
	"sync"
	"time"
)

// guard protects the webhook endpoints, per client address (see
// Proxies.ClientAddr):
//   - a generous limit on all requests: a flood gets 429 past the burst,
//     before its request is read, far above what Telegram and Jira send;
//   - a tight limit on failed authentications: a burst is allowed (a
//     misconfigured secret shows up in the logs, not as a lockout), past it
//     a wrong secret gets 429 and its connection closed instead of 401.
//
// The failure limit never refuses a request before its secret is checked:
// behind a proxy an outsider may share an address with Telegram or Jira,
// and hammering wrong secrets must not lock their real deliveries out. A
// request that authenticates always goes through.
type guard struct {
	proxies  Proxies
	requests *limiter
	failures *limiter
}

func newGuard(now func() time.Time, proxies Proxies) *guard {
	return &guard{
		proxies:  proxies,
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
		ip := g.proxies.ClientAddr(r).String()
		if !g.requests.take(ip) {
			refuse(w, "too many requests")
			return
		}
		h.ServeHTTP(&failureCounter{ResponseWriter: w, limit: g.failures, ip: ip}, r)
	})
}

func refuse(w http.ResponseWriter, why string) {
	w.Header().Set("Retry-After", "10")
	http.Error(w, why, http.StatusTooManyRequests)
}

// failureCounter counts a handler's 401 against its address; past the
// limit the 401 becomes a 429 (and the handler's body is dropped), and the
// connection is closed, so each further guess costs a new connection.
type failureCounter struct {
	http.ResponseWriter
	limit   *limiter
	ip      string
	wrote   bool
	refused bool
}

func (f *failureCounter) WriteHeader(code int) {
	if f.wrote {
		return
	}
	f.wrote = true
	if code == http.StatusUnauthorized && !f.limit.take(f.ip) {
		f.refused = true
		f.Header().Set("Connection", "close")
		refuse(f.ResponseWriter, "too many failed authentications")
		return
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *failureCounter) Write(b []byte) (int, error) {
	if !f.wrote {
		f.WriteHeader(http.StatusOK)
	}
	if f.refused {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (f *failureCounter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

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
