package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/jiratest"
)

// states is /connect's side: state → who and their PKCE verifier, valid
// ten minutes, single use.
type states struct {
	mu   sync.Mutex
	m    map[string]pending
	fail error
}

type pending struct {
	tgID     int64
	verifier string
	expires  time.Time
}

func (s *states) put(state string, tgID int64, verifier string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]pending{}
	}
	s.m[state] = pending{tgID, verifier, expires}
}

func (s *states) TakeState(state string, now time.Time) (int64, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, "", s.fail
	}
	p, ok := s.m[state]
	delete(s.m, state)
	if !ok || !now.Before(p.expires) {
		return 0, "", fmt.Errorf("take state: %w", ErrBadState)
	}
	return p.tgID, p.verifier, nil
}

// saver records connections.
type saver struct {
	mu   sync.Mutex
	got  []saved
	fail error
}

type saved struct {
	tgID int64
	g    Grant
	me   jira.User
}

func (s *saver) Connected(_ context.Context, tgID int64, g Grant, me jira.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.got = append(s.got, saved{tgID, g, me})
	return nil
}

func (s *saver) list() []saved {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]saved(nil), s.got...)
}

// longState is a state as random as /connect's, long enough that finding
// it in a log line means it was logged.
const longState = "st-4c1d9a7e0b3f52d8"

// rig is jtbot's callback in front of a fake Jira.
type rig struct {
	srv    *jiratest.Server
	p      *Provider
	states *states
	saver  *saver
	h      http.Handler
	log    *test.Hook
	now    time.Time
}

func newRig(t *testing.T, d Deployment) *rig {
	t.Helper()
	r := &rig{srv: fakeSite(t, d), states: &states{}, saver: &saver{}, now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	r.p = newProvider(t, r.srv, d)
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	r.log = hook
	r.h = Callback(r.p, r.states, r.saver, log, func() time.Time { return r.now })
	return r
}

// start is /connect: a state for Telegram user 42 and its consent URL.
func (r *rig) start(state string) string {
	v := NewVerifier()
	r.states.put(state, 42, v, r.now.Add(10*time.Minute))
	return r.p.AuthURL(state, v)
}

// get requests the callback the way the browser lands on it.
func (r *rig) get(t *testing.T, callbackURL string) (int, string) {
	t.Helper()
	u, err := url.Parse(callbackURL)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, CallbackPath+"?"+u.RawQuery, nil))
	body, _ := io.ReadAll(rec.Body)
	if ct := rec.Header().Get("Content-Type"); rec.Code != 405 && ct != "text/html; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	return rec.Code, string(body)
}

// consent plays alice through the consent screen.
func (r *rig) consent(t *testing.T, state string) string {
	t.Helper()
	loc, err := r.srv.Consent(r.start(state), alice)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// noSecretsLogged fails when a log entry carries any of the values.
func (r *rig) noSecretsLogged(t *testing.T, secrets ...string) {
	t.Helper()
	for _, e := range r.log.AllEntries() {
		line, _ := e.String()
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				t.Errorf("log line %q contains a secret", line)
			}
		}
	}
}

func TestCallbackConnects(t *testing.T) {
	both(t, func(t *testing.T, d Deployment) {
		r := newRig(t, d)
		loc := r.consent(t, "state-ok")
		status, page := r.get(t, loc)
		if status != 200 || !strings.Contains(page, "Connected as Alice Doe. You can go back to Telegram.") {
			t.Fatalf("callback = %d %s", status, page)
		}
		got := r.saver.list()
		if len(got) != 1 || got[0].tgID != 42 || got[0].me.Display() != alice.DisplayName || got[0].g.AccessToken == "" {
			t.Fatalf("saved = %+v", got)
		}
		// The same link again: the state is used up.
		if status, page := r.get(t, loc); status != 400 || !strings.Contains(page, "already used") {
			t.Errorf("reused state = %d %s", status, page)
		}
		if len(r.saver.list()) != 1 {
			t.Error("a reused state saved again")
		}
		u, _ := url.Parse(loc)
		r.noSecretsLogged(t, u.Query().Get("code"), "state-ok", got[0].g.AccessToken, got[0].g.RefreshToken)
	})
}

func TestCallbackEscapesTheName(t *testing.T) {
	r := newRig(t, Cloud)
	mallory := jiratest.User{AccountID: "m-id", Name: "m", DisplayName: `<script>alert(1)</script> & co`}
	loc, err := r.srv.Consent(r.start(longState), mallory)
	if err != nil {
		t.Fatal(err)
	}
	status, page := r.get(t, loc)
	if status != 200 || strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co") {
		t.Errorf("page = %d %s", status, page)
	}
}

func TestCallbackRefusesBadInput(t *testing.T) {
	tests := []struct {
		name   string
		d      Deployment
		setup  func(t *testing.T, r *rig) string // returns the callback URL
		status int
		says   string
	}{
		{"no state", Cloud, func(t *testing.T, r *rig) string {
			loc := r.consent(t, longState)
			return strings.Replace(loc, "state="+longState, "state=", 1)
		}, 400, "unknown, expired or already used"},
		{"forged state", Cloud, func(t *testing.T, r *rig) string {
			loc := r.consent(t, longState)
			return strings.Replace(loc, "state="+longState, "state=forged-9b1c7e2d4f", 1)
		}, 400, "unknown, expired or already used"},
		{"expired state", DataCenter, func(t *testing.T, r *rig) string {
			loc := r.consent(t, longState)
			r.now = r.now.Add(11 * time.Minute)
			return loc
		}, 400, "unknown, expired or already used"},
		{"state store down", Cloud, func(t *testing.T, r *rig) string {
			loc := r.consent(t, longState)
			r.states.fail = errors.New("database closed")
			return loc
		}, 500, "Something went wrong"},
		{"access denied", Cloud, func(t *testing.T, r *rig) string {
			loc, err := r.srv.Deny(r.start(longState), alice)
			if err != nil {
				t.Fatal(err)
			}
			return loc
		}, 400, "did not grant access"},
		{"no code", DataCenter, func(t *testing.T, r *rig) string {
			r.start(longState)
			return app.RedirectURL + "?state=" + longState
		}, 400, "no sign-in code"},
		{"code refused", DataCenter, func(t *testing.T, r *rig) string {
			loc := r.consent(t, longState)
			u, _ := url.Parse(loc)
			// Another state whose verifier does not match the code's
			// challenge: Data Center refuses the exchange.
			r.states.put(longState+"2", 42, NewVerifier(), r.now.Add(time.Minute))
			return app.RedirectURL + "?state=" + longState + "2&code=" + u.Query().Get("code")
		}, 400, "refused this sign-in"},
		{"another site's account", Cloud, func(t *testing.T, r *rig) string {
			loc, err := r.srv.ConsentSite(r.start(longState), alice, "https://elsewhere.atlassian.net")
			if err != nil {
				t.Fatal(err)
			}
			return loc
		}, 400, "no access to the Jira site"},
		{"myself refused", Cloud, func(t *testing.T, r *rig) string {
			r.srv.FailNext("GET", "/rest/api/2/myself", 1, 401, 0)
			return r.consent(t, longState)
		}, 400, "refused this sign-in"},
		{"Jira down at myself", DataCenter, func(t *testing.T, r *rig) string {
			r.srv.FailNext("GET", "/rest/api/2/myself", 1, 503, time.Second)
			return r.consent(t, longState)
		}, 502, "could not be reached"},
		{"token endpoint unreachable", Cloud, func(t *testing.T, r *rig) string {
			loc := r.consent(t, longState)
			dead := httptest.NewServer(http.NotFoundHandler())
			dead.Close()
			p, err := New(Config{Server: r.srv.URL, ClientID: app.ID, ClientSecret: app.Secret, RedirectURL: app.RedirectURL,
				AuthURL: dead.URL, APIURL: r.srv.APIURL})
			if err != nil {
				t.Fatal(err)
			}
			r.h.(*callback).p = p
			return loc
		}, 502, "could not be reached"},
		{"saving fails", Cloud, func(t *testing.T, r *rig) string {
			r.saver.fail = errors.New("disk full")
			return r.consent(t, longState)
		}, 500, "Something went wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.d)
			loc := tt.setup(t, r)
			status, page := r.get(t, loc)
			if status != tt.status || !strings.Contains(page, tt.says) {
				t.Errorf("callback = %d %q, want %d saying %q", status, page, tt.status, tt.says)
			}
			if got := r.saver.list(); len(got) != 0 {
				t.Errorf("saved %+v", got)
			}
			u, _ := url.Parse(loc)
			r.noSecretsLogged(t, u.Query().Get("code"), u.Query().Get("state"))
			if len(r.log.AllEntries()) != 1 {
				t.Errorf("log entries = %d, want one outcome", len(r.log.AllEntries()))
			}
		})
	}
}

func TestCallbackWantsGet(t *testing.T) {
	r := newRig(t, Cloud)
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, CallbackPath, nil))
	if rec.Code != 405 {
		t.Errorf("POST = %d", rec.Code)
	}
}
