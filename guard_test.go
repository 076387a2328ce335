package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestAuthGuardLimitsFailuresOnly(t *testing.T) {
	now := time.Unix(1000, 0)
	g := newAuthGuard(3, 1, func() time.Time { return now })
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
	for i := 0; i < 100; i++ {
		if code := send("10.0.0.3", "ok"); code != 200 {
			t.Fatalf("authenticated requests are never limited: %d", code)
		}
	}
	now = now.Add(2 * time.Second)
	if code := send("10.0.0.1", "ok"); code != 200 {
		t.Errorf("after refilling: %d, want 200", code)
	}
	now = now.Add(time.Hour)
	send("10.0.0.9", "ok")
	if len(g.buckets) != 0 {
		t.Errorf("forgiven addresses are forgotten: %d buckets left", len(g.buckets))
	}
}
