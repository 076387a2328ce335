package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// authHandler answers 200 to "Auth: ok", else 401 with a body.
var authHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Auth") != "ok" {
		http.Error(w, "wrong secret", http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusOK)
})

func TestGuard(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	g := &guard{requests: newLimiter(200, 100, clock), failures: newLimiter(3, 1, clock)}
	h := g.wrap(authHandler)
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
		if code := send("10.0.0.1", "ok"); code != 200 {
			t.Errorf("a request that authenticates is never refused by the failure limit: %d", code)
		}
		if code := send("10.0.0.1", "bad"); code != 429 {
			t.Errorf("still past the burst: %d, want 429", code)
		}
		if code := send("10.0.0.2", "bad"); code != 401 {
			t.Errorf("another address: %d, want 401", code)
		}
		now = now.Add(2 * time.Second)
		if code := send("10.0.0.1", "bad"); code != 401 {
			t.Errorf("after refilling: %d, want 401", code)
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
		send("10.0.0.9", "bad")
		if n := len(g.failures.buckets) + len(g.requests.buckets); n != 2 {
			t.Errorf("%d buckets left, want only the newest address's two", n)
		}
	})
}

func TestGuardRefusalIsA429WithoutTheHandlersBody(t *testing.T) {
	g := &guard{requests: newLimiter(100, 1, time.Now), failures: newLimiter(1, 0.001, time.Now)}
	h := g.wrap(authHandler)
	var rec *httptest.ResponseRecorder
	for i := 0; i < 2; i++ {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/webhook/jira/", nil))
	}
	if rec.Code != 429 || rec.Body.String() != "too many failed authentications\n" ||
		rec.Header().Get("Retry-After") == "" || rec.Header().Get("Connection") != "close" {
		t.Errorf("refusal: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
}

// An outsider behind the same reverse proxy as Telegram and Jira hammers
// wrong secrets; the real deliveries, with the right one, all get through.
// The proxy is trusted and appends the outsider's real address, but the
// outsider also forges the header: neither helps nor hurts the deliveries.
func TestAttackerBehindProxyCannotLockOutDeliveries(t *testing.T) {
	srv := New(Options{
		Jira:           authHandler,
		Telegram:       authHandler,
		TrustedProxies: Proxies{netip.MustParsePrefix("127.0.0.1/32")},
	})
	ts := httptest.NewServer(srv.Handler) // the peer is 127.0.0.1: the "proxy"
	defer ts.Close()
	post := func(path, auth, xff string) int {
		req, _ := http.NewRequest("POST", ts.URL+path, nil)
		req.Header.Set("Auth", auth)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	attackers := []string{
		"203.0.113.9",                // as the proxy reports it
		"149.154.167.220",            // claims Telegram's address: the proxy
		"149.154.167.220, 127.0.0.1", // appends, so the claim is on the left
		"",                           // no header: the proxy's own address
	}
	refused := 0
	for i := 0; i < 400; i++ {
		if code := post("/webhook/jira/", "wrong", attackers[i%len(attackers)]); code == 429 {
			refused++
		}
		if i%10 == 0 {
			for _, path := range []string{"/webhook/telegram/", "/webhook/jira/"} {
				if code := post(path, "ok", "149.154.167.220"); code != 200 {
					t.Fatalf("delivery %d to %s: %d, want 200", i, path, code)
				}
				if code := post(path, "ok", ""); code != 200 {
					t.Fatalf("delivery %d to %s without X-Forwarded-For: %d, want 200", i, path, code)
				}
			}
		}
	}
	if refused < 300 {
		t.Errorf("only %d of 400 wrong secrets were refused with 429", refused)
	}
}
