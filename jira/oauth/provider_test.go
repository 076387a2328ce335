package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/jiratest"
)

const publicURL = "https://bot.example.com"

var (
	alice = jiratest.User{AccountID: "alice-id", Name: "alice", DisplayName: "Alice Doe", Email: "alice@example.com"}
	app   = jiratest.OAuthClient{ID: "jtbot-app", Secret: "app-secret", RedirectURL: RedirectURL(publicURL)}
)

// fakeSite starts a fake Jira of the deployment with project OPS, alice,
// and jtbot's OAuth app; Data Center lives under a context path.
func fakeSite(t *testing.T, d Deployment) *jiratest.Server {
	t.Helper()
	opts := jiratest.Options{User: "bot@example.com", Token: "bot-token"}
	if d == DataCenter {
		opts = jiratest.Options{Token: "bot-pat", Deployment: "Server", ContextPath: "/jira"}
	}
	srv := jiratest.NewServer(opts)
	t.Cleanup(srv.Close)
	srv.AddProject("OPS", "Operations")
	srv.AddUser(alice)
	srv.AddOAuthClient(app)
	return srv
}

func newProvider(t *testing.T, srv *jiratest.Server, d Deployment) *Provider {
	t.Helper()
	p, err := New(Config{Server: srv.URL, ClientID: app.ID, ClientSecret: app.Secret, RedirectURL: app.RedirectURL,
		AuthURL: srv.AuthURL, APIURL: srv.APIURL, Deployment: d, HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// signIn plays alice from the consent URL to the callback's code.
func signIn(t *testing.T, srv *jiratest.Server, p *Provider, verifier string) string {
	t.Helper()
	loc, err := srv.Consent(p.AuthURL("state-1", verifier), alice)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if !strings.HasPrefix(loc, app.RedirectURL+"?") || u.Query().Get("state") != "state-1" {
		t.Fatalf("callback = %s", loc)
	}
	return u.Query().Get("code")
}

func both(t *testing.T, run func(t *testing.T, d Deployment)) {
	t.Run("Cloud", func(t *testing.T) { run(t, Cloud) })
	t.Run("DataCenter", func(t *testing.T) { run(t, DataCenter) })
}

func TestConnectAndActAsYourself(t *testing.T) {
	both(t, func(t *testing.T, d Deployment) {
		srv := fakeSite(t, d)
		p := newProvider(t, srv, d)
		verifier := NewVerifier()
		g, err := p.Exchange(context.Background(), signIn(t, srv, p, verifier), verifier)
		if err != nil {
			t.Fatal(err)
		}
		wantBase := srv.URL
		if d == Cloud {
			wantBase = srv.APIURL + "/ex/jira/" + srv.CloudID
			if g.CloudID != srv.CloudID {
				t.Errorf("cloud id = %q, want %q", g.CloudID, srv.CloudID)
			}
		}
		if g.APIBase != wantBase || g.AccessToken == "" || g.RefreshToken == "" || time.Until(g.Expiry) < 50*time.Minute {
			t.Errorf("grant = base %q, tokens %v %v, expiry %v", g.APIBase, g.AccessToken != "", g.RefreshToken != "", g.Expiry)
		}

		jc, err := p.Client(g, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		me, err := jc.Myself(ctx)
		if err != nil || me.Display() != alice.DisplayName {
			t.Fatalf("myself = %+v, %v", me, err)
		}
		created, err := jc.CreateIssue(ctx, jira.NewIssue{Project: "OPS", Type: "Task", Summary: "Mine"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jc.AddComment(ctx, created.Key, "by me"); err != nil {
			t.Fatal(err)
		}
		if err := jc.Assign(ctx, created.Key, alice.AccountID); d == Cloud && err != nil {
			t.Fatal(err)
		}
		is, _ := srv.Issue(created.Key)
		if is.Reporter.DisplayName != alice.DisplayName || is.Comments[0].Author.DisplayName != alice.DisplayName {
			t.Errorf("reporter %v, comment author %v: want alice", is.Reporter, is.Comments[0].Author)
		}
		cards, _, err := jc.SearchPage(ctx, "project = OPS", 0, 10)
		if err != nil || len(cards) != 1 {
			t.Errorf("search = %v, %v", cards, err)
		}
		if got := jc.BrowseURL(created.Key); got != srv.URL+"/browse/"+created.Key {
			t.Errorf("browse URL = %s, want the site's", got)
		}
		if d == Cloud {
			for _, r := range srv.Requests() {
				if strings.HasPrefix(r.Path, "/rest/") && r.Header.Get("Authorization") != "" && !r.Gateway {
					t.Errorf("%s %s went to the site, not the gateway", r.Method, r.Path)
				}
			}
		}
	})
}

func TestAnotherSitesAccountIsRefused(t *testing.T) {
	srv := fakeSite(t, Cloud)
	p := newProvider(t, srv, Cloud)
	loc, err := srv.ConsentSite(p.AuthURL("s", ""), alice, "https://elsewhere.atlassian.net")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if _, err := p.Exchange(context.Background(), u.Query().Get("code"), ""); !errors.Is(err, ErrWrongSite) {
		t.Errorf("exchange = %v, want ErrWrongSite", err)
	}
}

func TestSiteMatchIgnoresCaseAndSlash(t *testing.T) {
	srv := fakeSite(t, Cloud)
	p, err := New(Config{Server: strings.ToUpper(srv.URL[:4]) + srv.URL[4:] + "/", ClientID: app.ID, ClientSecret: app.Secret,
		RedirectURL: app.RedirectURL, AuthURL: srv.AuthURL + "/", APIURL: srv.APIURL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exchange(context.Background(), signIn(t, srv, p, ""), ""); err != nil {
		t.Errorf("exchange = %v", err)
	}
}

func TestCodeRefusals(t *testing.T) {
	both(t, func(t *testing.T, d Deployment) {
		srv := fakeSite(t, d)
		p := newProvider(t, srv, d)
		verifier := NewVerifier()
		code := signIn(t, srv, p, verifier)
		if d == DataCenter {
			if _, err := p.Exchange(context.Background(), code, NewVerifier()); !errors.Is(err, ErrRefused) {
				t.Errorf("wrong PKCE verifier: %v, want ErrRefused", err)
			}
			code = signIn(t, srv, p, verifier)
		}
		if _, err := p.Exchange(context.Background(), code, verifier); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Exchange(context.Background(), code, verifier); !errors.Is(err, ErrRefused) {
			t.Errorf("code used twice: %v, want ErrRefused", err)
		}
	})
}

// rotations records what onRotate reports.
type rotations struct {
	mu  sync.Mutex
	got []Grant
}

func (r *rotations) add(g Grant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, g)
}

func (r *rotations) list() []Grant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Grant(nil), r.got...)
}

func TestRefreshRotatesAndReportsTheNewGrant(t *testing.T) {
	both(t, func(t *testing.T, d Deployment) {
		srv := fakeSite(t, d)
		p := newProvider(t, srv, d)
		verifier := NewVerifier()
		g, err := p.Exchange(context.Background(), signIn(t, srv, p, verifier), verifier)
		if err != nil {
			t.Fatal(err)
		}
		stale := g
		stale.Expiry = time.Now().Add(-time.Minute) // as if stored an hour ago
		var rot rotations
		jc, err := p.Client(stale, rot.add)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := jc.Myself(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		got := rot.list()
		if len(got) != 1 || got[0].RefreshToken == g.RefreshToken || got[0].AccessToken == g.AccessToken ||
			got[0].APIBase != g.APIBase || got[0].CloudID != g.CloudID || time.Until(got[0].Expiry) < 50*time.Minute {
			t.Fatalf("rotations = %d %+v", len(got), got)
		}

		// The old refresh token is dead: a second source built from the
		// stale grant is refused, and the caller sees a 401.
		other, err := p.Client(stale, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = other.Myself(context.Background())
		if !jira.IsUnauthorized(err) {
			t.Errorf("stale refresh token: %v, want a 401", err)
		}
	})
}

func TestRevokedMidUseIsUnauthorized(t *testing.T) {
	both(t, func(t *testing.T, d Deployment) {
		srv := fakeSite(t, d)
		p := newProvider(t, srv, d)
		verifier := NewVerifier()
		g, err := p.Exchange(context.Background(), signIn(t, srv, p, verifier), verifier)
		if err != nil {
			t.Fatal(err)
		}
		jc, _ := p.Client(g, nil)
		if _, err := jc.Myself(context.Background()); err != nil {
			t.Fatal(err)
		}
		srv.RevokeTokens(alice)
		_, err = jc.Myself(context.Background())
		if !jira.IsUnauthorized(err) {
			t.Errorf("after revocation: %v, want a 401", err)
		}
		g.Expiry = time.Now().Add(-time.Minute)
		jc, _ = p.Client(g, nil)
		if _, err = jc.Myself(context.Background()); !jira.IsUnauthorized(err) {
			t.Errorf("refresh after revocation: %v, want a 401", err)
		}
	})
}

func TestRevokeIsANoOp(t *testing.T) {
	both(t, func(t *testing.T, d Deployment) {
		srv := fakeSite(t, d)
		p := newProvider(t, srv, d)
		before := len(srv.Requests())
		if err := p.Revoke(context.Background(), Grant{AccessToken: "x", RefreshToken: "y"}); err != nil {
			t.Fatal(err)
		}
		if len(srv.Requests()) != before {
			t.Error("Revoke called the provider, which has no revoke endpoint")
		}
	})
}

func TestNewNeedsTheApp(t *testing.T) {
	if _, err := New(Config{Server: "https://x.atlassian.net", ClientID: "id"}); err == nil {
		t.Error("New accepted a config without secret and redirect URL")
	}
	if got := RedirectURL("https://bot.example.com/"); got != "https://bot.example.com/oauth/jira/callback" {
		t.Errorf("RedirectURL = %s", got)
	}
}
