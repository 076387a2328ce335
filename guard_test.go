package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestGuard(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	g := &guard{requests: newLimiter(200, 100, clock), failures: newLimiter(3, 1, clock)}
	h := g.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Auth") != "ok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	send := func(addr, auth string) int {
		r := httptest.NewRequest("POST", "/webhook/jira/", nil)
		r.RemoteAddr = addr + ":1234"
		r.Header.Set("Auth", auth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}

	t.Run("failed authentications", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			if code := send("10.0.0.1", "bad"); code != 401 {
				t.Fatalf("failure %d: %d, want 401", i+1, code)
			}
		}
		if code := send("10.0.0.1", "bad"); code != 429 {
			t.Errorf("past the burst: %d, want 429", code)
		}
		if code := send("10.0.0.1", "ok"); code != 429 {
			t.Errorf("a locked-out address is refused before its request is read: %d", code)
		}
		if code := send("10.0.0.2", "bad"); code != 401 {
			t.Errorf("another address: %d, want 401", code)
		}
		now = now.Add(2 * time.Second)
		if code := send("10.0.0.1", "ok"); code != 200 {
			t.Errorf("after refilling: %d, want 200", code)
		}
	})
	t.Run("request flood", func(t *testing.T) {
		for i := 0; i < 200; i++ {
			if code := send("10.0.0.3", "ok"); code != 200 {
				t.Fatalf("request %d within the burst: %d", i+1, code)
			}
		}
		if code := send("10.0.0.3", "ok"); code != 429 {
			t.Errorf("past the burst: %d, want 429", code)
		}
		if code := send("10.0.0.4", "ok"); code != 200 {
			t.Errorf("another address: %d, want 200", code)
		}
		now = now.Add(time.Second)
		if code := send("10.0.0.3", "ok"); code != 200 {
			t.Errorf("after refilling: %d, want 200", code)
		}
	})
	t.Run("quiet addresses are forgotten", func(t *testing.T) {
		now = now.Add(time.Hour)
		send("10.0.0.9", "ok")
		if n := len(g.failures.buckets) + len(g.requests.buckets); n != 1 {
			t.Errorf("%d buckets left, want only the newest address", n)
		}
	})
}
