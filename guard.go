package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// authGuard answers 429 to an address that keeps failing authentication:
// a burst of failures is allowed (a misconfigured secret shows up in the
// logs, not as a lockout), a steady guessing of secrets is not. Requests
// that authenticate are never limited, so real traffic keeps its speed.
type authGuard struct {
	burst float64
	rate  float64 // failures forgiven per second
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newAuthGuard(burst int, perSecond float64, now func() time.Time) *authGuard {
	return &authGuard{burst: float64(burst), rate: perSecond, now: now, buckets: map[string]*bucket{}}
}

// wrap guards h: once an address has used up its failures, it gets 429
// before its request is read.
func (g *authGuard) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		if !g.allowed(ip) {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "too many failed authentications", http.StatusTooManyRequests)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusUnauthorized {
			g.failed(ip)
		}
	})
}

func (g *authGuard) allowed(ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.refill(ip)
	return b == nil || b.tokens >= 1
}

func (g *authGuard) failed(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.refill(ip)
	if b == nil {
		b = &bucket{tokens: g.burst, last: g.now()}
		g.buckets[ip] = b
	}
	b.tokens = max(b.tokens-1, 0)
}

// refill tops up ip's bucket for the time passed; full buckets are
// forgotten, so the map holds only addresses failing right now.
func (g *authGuard) refill(ip string) *bucket {
	now := g.now()
	if now.Sub(g.swept) > time.Minute {
		for k, b := range g.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*g.rate >= g.burst {
				delete(g.buckets, k)
			}
		}
		g.swept = now
	}
	b := g.buckets[ip]
	if b == nil {
		return nil
	}
	b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*g.rate, g.burst)
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
