package bot

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// connect connects u to ju's Jira account as a person would in a DM, with
// an API token on Cloud or a personal access token on Data Center, and
// returns the token.
func (h *harness) connect(u telegramtest.User, ju jiratest.User) string {
	h.t.Helper()
	args := ""
	var tok string
	if h.jira.Deployment() == "Cloud" {
		email := ju.Name + "@example.com"
		tok = h.jira.AddAPIToken(ju, email)
		args = email + " " + tok
	} else {
		tok = h.jira.AddPAT(ju)
		args = tok
	}
	h.personalSecrets = append(h.personalSecrets, tok)
	wantText(h.t, h.ask(u, "/connect "+args), "Connected as", ju.DisplayName)
	return tok
}

func TestConnectWithToken(t *testing.T) {
	h := newHarness(t)
	email := "jane@example.com"
	tok := h.jira.AddAPIToken(testJane, email)
	h.personalSecrets = append(h.personalSecrets, tok)

	deletes := h.tg.CallCount("deleteMessage")
	wantText(t, h.ask(testAlice, "/connect "+email+" not-"+tok), "Jira refused that token")
	if _, err := h.store.Account(testAlice.ID); err == nil {
		t.Error("a refused token was stored")
	}
	wantText(t, h.ask(testAlice, "/connect "+email+" "+tok), "Connected as Jane Jira")
	if n := h.tg.CallCount("deleteMessage"); n != deletes+2 {
		t.Errorf("%d messages deleted, want 2", n-deletes)
	}
	a, err := h.store.Account(testAlice.ID)
	if err != nil || a.Kind != storage.KindAPIToken || a.JiraID != testJane.AccountID || a.AccessToken != tok {
		t.Fatalf("account = %+v, %v", a.JiraID, err)
	}
	wantText(t, h.ask(testAlice, "/start"), "connected as Jane Jira")
	wantText(t, h.ask(testAlice, "/disconnect"), "Disconnected")
	if _, err := h.store.Account(testAlice.ID); err == nil {
		t.Error("still connected after /disconnect")
	}
	wantText(t, h.ask(testAlice, "/start"), "not connected")
	h.waitIdle()
	h.checkDBHasNo(tok)
}

func TestConnectInGroupNeverUsesTheToken(t *testing.T) {
	h := newHarness(t)
	tok := h.jira.AddAPIToken(testJane, "jane@example.com")
	h.personalSecrets = append(h.personalSecrets, tok)
	deletes := h.tg.CallCount("deleteMessage")
	wantText(t, h.askGroup(testGroup, testAlice, "/connect jane@example.com "+tok), "only in a private chat", "I deleted your message")
	if h.tg.CallCount("deleteMessage") != deletes+1 {
		t.Error("the message with the token was not deleted")
	}
	if _, err := h.store.Account(testAlice.ID); err == nil {
		t.Error("a token from a group was stored")
	}
	for _, r := range h.jira.Requests() {
		if strings.Contains(r.Path, "myself") {
			t.Errorf("the token was tried: %+v", r)
		}
	}
	h.waitIdle()
	h.checkDBHasNo(tok)
}

func TestConnectWithoutSecretKey(t *testing.T) {
	h := newHarness(t, "SECRET_KEY=")
	wantText(t, h.ask(testAlice, "/connect jane@example.com tok"), "Personal Jira accounts are off")
	wantText(t, h.ask(testAlice, "/start"), "personal accounts are off")
}

// oauthEnv turns the harness's OAuth app on.
var oauthEnv = []string{"JIRA_OAUTH_CLIENT_ID=jtbot-app", "JIRA_OAUTH_CLIENT_SECRET=app-secret-for-tests"}

func TestConnectWithOAuth(t *testing.T) {
	h := newHarness(t, oauthEnv...)
	answer := h.ask(testAlice, "/connect")
	consent := buttonURL(t, answer)
	if !strings.HasPrefix(consent, h.jira.AuthURL+"/authorize") {
		t.Fatalf("button opens %q", consent)
	}
	state := query(t, consent, "state")
	h.personalSecrets = append(h.personalSecrets, state)

	t.Run("forged state", func(t *testing.T) {
		status, body := get(t, h.hooks.URL+"/oauth/jira/callback?state=forged&code=x")
		if status != 400 || !strings.Contains(body, "/connect") {
			t.Errorf("%d %q", status, body)
		}
	})
	back, err := h.jira.Consent(consent, testJane)
	if err != nil {
		t.Fatal(err)
	}
	h.personalSecrets = append(h.personalSecrets, query(t, back, "code"))
	status, body := get(t, back)
	if status != 200 || !strings.Contains(body, "Connected as Jane Jira") {
		t.Fatalf("callback: %d %q", status, body)
	}
	h.waitSent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == testAlice.ID && strings.Contains(plain(t, m), "Connected as Jane Jira")
	})
	a, err := h.store.Account(testAlice.ID)
	if err != nil || a.Kind != storage.KindOAuthCloud || a.JiraID != testJane.AccountID || a.RefreshToken == "" {
		t.Fatalf("account %q %q, %v", a.Kind, a.JiraID, err)
	}
	h.personalSecrets = append(h.personalSecrets, a.AccessToken, a.RefreshToken)
	t.Run("reused state", func(t *testing.T) {
		if status, _ := get(t, back); status != 400 {
			t.Errorf("reused state: %d", status)
		}
	})
	// Acting as Jane through the gateway.
	key := h.newIssue("Disk full")
	wantText(t, h.ask(testAlice, "/comment "+key+" on it"), "Comment added")
	is, _ := h.jira.Issue(key)
	if len(is.Comments) != 1 || is.Comments[0].Author.AccountID != testJane.AccountID || strings.Contains(is.Comments[0].Body, "via Telegram") {
		t.Errorf("comments = %+v", is.Comments)
	}
	h.waitIdle()
	h.checkDBHasNo(a.AccessToken, a.RefreshToken)
}

func TestOAuthExpiredState(t *testing.T) {
	h := newHarness(t, oauthEnv...)
	consent := buttonURL(t, h.ask(testAlice, "/connect"))
	// A state stored 11 minutes ago: expired.
	state := "expired-state-for-the-test"
	if err := h.store.PutState(state, storage.OAuthState{TelegramID: testAlice.ID, Created: h.bot.now().Add(-11 * 60e9)}); err != nil {
		t.Fatal(err)
	}
	back, err := h.jira.Consent(strings.Replace(consent, query(t, consent, "state"), state, 1), testJane)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, back); status != 400 {
		t.Errorf("expired state: %d", status)
	}
	if _, err := h.store.Account(testAlice.ID); err == nil {
		t.Error("stored after an expired state")
	}
}

func buttonURL(t *testing.T, m telegramtest.SentMessage) string {
	t.Helper()
	var kb struct {
		InlineKeyboard [][]struct{ URL string } `json:"inline_keyboard"`
	}
	if err := json.Unmarshal(m.ReplyMarkup, &kb); err != nil || len(kb.InlineKeyboard) == 0 || kb.InlineKeyboard[0][0].URL == "" {
		t.Fatalf("no URL button in %s (%v)", m.ReplyMarkup, err)
	}
	return kb.InlineKeyboard[0][0].URL
}

func query(t *testing.T, raw, name string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(name)
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// checkDBHasNo fails when the raw database file holds any of secrets.
func (h *harness) checkDBHasNo(secrets ...string) {
	h.t.Helper()
	raw, err := os.ReadFile(h.cfg.DBPath)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(string(raw), s) {
			h.t.Errorf("the database file holds a secret %q", s[:min(8, len(s))]+"…")
		}
	}
}
