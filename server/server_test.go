package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var okMetrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("jtbot_up 1\n")) })

func TestMetricsAccess(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		peer   string
		header map[string]string
		want   int
	}{
		{"token: right bearer", "s3cret", "203.0.113.9:1", map[string]string{"Authorization": "Bearer s3cret"}, 200},
		{"token: scheme in any case", "s3cret", "203.0.113.9:1", map[string]string{"Authorization": "bearer s3cret"}, 200},
		{"token: wrong bearer", "s3cret", "127.0.0.1:1", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"token: prefix of the token", "s3cret", "127.0.0.1:1", map[string]string{"Authorization": "Bearer s3cre"}, 401},
		{"token: basic auth", "s3cret", "127.0.0.1:1", map[string]string{"Authorization": "Basic czNjcmV0"}, 401},
		{"token: none, even from loopback", "s3cret", "127.0.0.1:1", nil, 401},
		{"no token: loopback", "", "127.0.0.1:1", nil, 200},
		{"no token: IPv6 loopback", "", "[::1]:1", nil, 200},
		{"no token: remote", "", "203.0.113.9:1", nil, 403},
		{"no token: loopback through a proxy", "", "127.0.0.1:1", map[string]string{"X-Forwarded-For": "203.0.113.9"}, 403},
		{"no token: loopback through a proxy that names itself", "", "127.0.0.1:1", map[string]string{"X-Forwarded-For": "127.0.0.1"}, 403},
		{"no token: Forwarded header", "", "127.0.0.1:1", map[string]string{"Forwarded": "for=203.0.113.9"}, 403},
		{"no token: X-Real-IP header", "", "127.0.0.1:1", map[string]string{"X-Real-IP": "203.0.113.9"}, 403},
		{"no token: remote bearer is no key", "", "203.0.113.9:1", map[string]string{"Authorization": "Bearer x"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Options{Metrics: okMetrics, MetricsToken: tt.token}).Handler
			r := httptest.NewRequest("GET", "/metrics", nil)
			r.RemoteAddr = tt.peer
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d (%s)", rec.Code, tt.want, rec.Body)
			}
			if (rec.Code == 200) != strings.Contains(rec.Body.String(), "jtbot_up") {
				t.Errorf("body %q with status %d", rec.Body, rec.Code)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	var dbErr, tgErr error
	h := Healthz(Check{"database", func() error { return dbErr }}, Check{"telegram", func() error { return tgErr }})
	get := func(method string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get("GET"); code != 200 || body != "ok\n" {
		t.Errorf("healthy: %d %q", code, body)
	}
	tgErr = errors.New("webhook not set yet")
	if code, body := get("GET"); code != 503 || !strings.Contains(body, "telegram: webhook not set yet") {
		t.Errorf("telegram down: %d %q", code, body)
	}
	dbErr = errors.New("closed")
	if code, body := get("HEAD"); code != 503 || !strings.Contains(body, "database: closed") {
		t.Errorf("database down first: %d %q", code, body)
	}
	if code, _ := get("POST"); code != 405 {
		t.Errorf("POST: %d, want 405", code)
	}
}

func TestNewSetsTimeoutsAndMounts(t *testing.T) {
	srv := New(Options{Telegram: okMetrics, Metrics: okMetrics})
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes == 0 {
		t.Errorf("a timeout or limit is unset: %+v", srv)
	}
	for path, want := range map[string]int{"/webhook/telegram/": 200, "/webhook/jira/": 404, "/healthz": 200, "/nope": 404} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", path, nil)
		srv.Handler.ServeHTTP(rec, r)
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
	rec := httptest.NewRecorder()
	srv.Handler.ServeHTTP(rec, httptest.NewRequest("POST", "/metrics", nil))
	if rec.Code != 405 {
		t.Errorf("POST /metrics: %d, want 405", rec.Code)
	}
}
