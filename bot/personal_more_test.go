package bot

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// connectOAuth plays u through /connect as ju: the button, the consent
// screen, the browser landing on the callback, and the DM. It returns the
// consent URL and the stored account.
func (h *harness) connectOAuth(u telegramtest.User, ju jiratest.User) (string, storage.Account) {
	h.t.Helper()
	consent := buttonURL(h.t, h.ask(u, "/connect"))
	h.personalSecrets = append(h.personalSecrets, query(h.t, consent, "state"))
	back, err := h.jira.Consent(consent, ju)
	if err != nil {
		h.t.Fatal(err)
	}
	h.personalSecrets = append(h.personalSecrets, query(h.t, back, "code"))
	status, body := get(h.t, back)
	if status != 200 || !strings.Contains(body, "Connected as "+ju.DisplayName) {
		h.t.Fatalf("callback: %d %q", status, body)
	}
	h.waitSent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == u.ID && strings.Contains(plain(h.t, m), "Connected as "+ju.DisplayName)
	})
	a, err := h.store.Account(u.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	h.personalSecrets = append(h.personalSecrets, a.AccessToken, a.RefreshToken)
	return consent, a
}

// Data Center's own provider: the consent page is the site's, the code is
// bound to a PKCE S256 challenge (the fake refuses an exchange whose
// verifier does not match it), and the person then acts as themselves.
func TestConnectWithOAuthOnDataCenter(t *testing.T) {
	h := newHarnessOn(t, jiratest.Options{Deployment: "Server"}, oauthEnv...)
	h.jira.AddUser(aliceJira)
	consent, a := h.connectOAuth(testAlice, aliceJira)

	if !strings.HasPrefix(consent, h.jira.URL+"/rest/oauth2/latest/authorize?") {
		t.Errorf("button opens %q", consent)
	}
	if query(t, consent, "code_challenge") == "" || query(t, consent, "code_challenge_method") != "S256" {
		t.Errorf("no PKCE S256 challenge in %q", consent)
	}
	if a.Kind != storage.KindOAuthDC || a.JiraName != aliceJira.DisplayName || a.RefreshToken == "" || a.CloudID != "" {
		t.Errorf("account kind %q, name %q, refresh token %v, cloud id %q", a.Kind, a.JiraName, a.RefreshToken != "", a.CloudID)
	}
	wantText(t, h.ask(testAlice, "/start"), "connected as "+aliceJira.DisplayName)

	key := h.newIssue("Disk full")
	wantText(t, h.ask(testAlice, "/comment "+key+" on it"), "Comment added")
	is, _ := h.jira.Issue(key)
	if len(is.Comments) != 1 || is.Comments[0].Author.Name != aliceJira.Name || strings.Contains(is.Comments[0].Body, "via Telegram") {
		t.Errorf("comments = %+v", is.Comments)
	}
	h.waitIdle()
	h.checkDBHasNo(a.AccessToken, a.RefreshToken)
}

// fakeClock is the fake Jira's clock, moved by hand: an hour passes for
// the site without the test waiting one.
type fakeClock struct{ offset atomic.Int64 }

func (c *fakeClock) now() time.Time { return time.Now().UTC().Add(time.Duration(c.offset.Load())) }

func (c *fakeClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// hourLater makes an hour pass for both sides: the site no longer takes
// the access token it issued, and the stored grant says it has expired
// (x/oauth2 reads its expiry on the wall clock, so it is moved back
// instead). The refresh token lives on (Atlassian's last 90 days unused).
func (h *harness) hourLater(clock *fakeClock, telegramID int64) storage.Account {
	h.t.Helper()
	clock.advance(61 * time.Minute)
	a, err := h.store.Account(telegramID)
	if err != nil {
		h.t.Fatal(err)
	}
	a.Expiry = time.Now().Add(-time.Minute)
	if err := h.store.SaveAccount(a); err != nil {
		h.t.Fatal(err)
	}
	return a
}

// An expired access token is refreshed on the next use, without the
// person noticing; the rotated refresh token is stored at once (the old
// one is dead), so a client built later from the store refreshes again;
// and the refresh does not make the bot build a second client for the
// person (two clients would spend one refresh token twice).
func TestExpiredAccessTokenIsRefreshed(t *testing.T) {
	clock := &fakeClock{}
	h := newHarnessOn(t, jiratest.Options{Now: clock.now}, oauthEnv...)
	h.jira.AddUser(aliceJira)
	_, first := h.connectOAuth(testAlice, aliceJira)
	key := h.newIssue("Disk full")

	stale := h.hourLater(clock, testAlice.ID)
	wantText(t, h.ask(testAlice, "/comment "+key+" first"), "Comment added")
	refreshed := h.wantRefreshed(stale)
	client := h.cachedClient(testAlice.ID)

	wantText(t, h.ask(testAlice, "/comment "+key+" second"), "Comment added")
	if h.cachedClient(testAlice.ID) != client {
		t.Error("a second client was built for Alice")
	}
	if a, _ := h.store.Account(testAlice.ID); a.RefreshToken != refreshed.RefreshToken {
		t.Error("the grant changed without a refresh")
	}

	// A restart forgets the clients: the next one is built from the
	// store, an hour later, and refreshes with the stored refresh token.
	h.bot.clients.drop(testAlice.ID)
	stale = h.hourLater(clock, testAlice.ID)
	wantText(t, h.ask(testAlice, "/comment "+key+" third"), "Comment added")
	h.wantRefreshed(stale)

	is, _ := h.jira.Issue(key)
	if len(is.Comments) != 3 {
		t.Fatalf("%d comments", len(is.Comments))
	}
	for _, c := range is.Comments {
		if c.Author.AccountID != aliceJira.AccountID {
			t.Errorf("comment %q by %s", c.Body, c.Author.DisplayName)
		}
	}
	if n := h.tokenRequests(); n != 3 { // the code, then one refresh an hour
		t.Errorf("%d token requests, want 3", n)
	}
	if n := dmsTo(h, testAlice.ID, "expired or was revoked"); n != 0 {
		t.Errorf("Alice was asked to reconnect %d times", n)
	}
	h.waitIdle()
	h.checkDBHasNo(first.AccessToken, first.RefreshToken)
}

// wantRefreshed checks that the stored grant was rotated since stale and
// still works, and returns it.
func (h *harness) wantRefreshed(stale storage.Account) storage.Account {
	h.t.Helper()
	a, err := h.store.Account(stale.TelegramID)
	switch {
	case err != nil:
		h.t.Fatal(err)
	case a.NeedsReconnect:
		h.t.Fatalf("the refresh failed: Alice must reconnect\nlogs:\n%s", h.logText())
	case a.RefreshToken == stale.RefreshToken || a.AccessToken == stale.AccessToken:
		h.t.Errorf("the rotated tokens were not stored")
	case time.Until(a.Expiry) < 50*time.Minute:
		h.t.Errorf("stored expiry %v", a.Expiry)
	case !a.Created.Equal(stale.Created):
		h.t.Errorf("the refresh changed when Alice connected")
	}
	h.personalSecrets = append(h.personalSecrets, a.AccessToken, a.RefreshToken)
	return a
}

func (h *harness) cachedClient(telegramID int64) Jira {
	h.bot.clients.mu.Lock()
	defer h.bot.clients.mu.Unlock()
	return h.bot.clients.by[telegramID].c
}

// tokenRequests counts the calls to Atlassian's token endpoint.
func (h *harness) tokenRequests() int {
	n := 0
	for _, r := range h.jira.Requests() {
		if r.Method == "POST" && r.Path == "/oauth/token" {
			n++
		}
	}
	return n
}
