package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// One person connects over OAuth through the real daemon (a test client
// plays the browser), comments as themselves, and a mention reaches them
// by DM. Nothing of the grant reaches the log or the database file.
func TestPersonalAccountThroughTheDaemon(t *testing.T) {
	w := newWorld(t)
	aliceJira := jiratest.User{AccountID: "acc-alice", Name: "alice", DisplayName: "Alice Jira"}
	w.jira.AddUser(aliceJira)
	// The callback URL names the port before the daemon listens on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	public := "http://" + addr
	w.jira.AddOAuthClient(jiratest.OAuthClient{ID: "jtbot-app", Secret: testOAuthSecret, RedirectURL: public + "/oauth/jira/callback"})
	w.start(t, true, "SECRET_KEY="+testSecretKey, "JIRA_OAUTH_CLIENT_ID=jtbot-app", "JIRA_OAUTH_CLIENT_SECRET="+testOAuthSecret,
		"PUBLIC_URL="+public, "LISTEN_ADDR="+addr, "ATLASSIAN_AUTH_URL="+w.jira.AuthURL, "ATLASSIAN_API_URL="+w.jira.APIURL)

	w.tg.Push(w.tg.PrivateMessage(alice, "/connect"))
	button := w.waitSent(t, func(m telegramtest.SentMessage) bool {
		return m.ChatID == alice.ID && strings.Contains(string(m.ReplyMarkup), "authorize")
	})
	var kb struct {
		InlineKeyboard [][]struct{ URL string } `json:"inline_keyboard"`
	}
	if err := json.Unmarshal(button.ReplyMarkup, &kb); err != nil || len(kb.InlineKeyboard) == 0 {
		t.Fatalf("keyboard %s: %v", button.ReplyMarkup, err)
	}
	back, err := w.jira.Consent(kb.InlineKeyboard[0][0].URL, aliceJira)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(back)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Connected as Alice Jira") {
		t.Fatalf("callback: %d %s", resp.StatusCode, page)
	}
	w.waitSent(t, func(m telegramtest.SentMessage) bool {
		return m.ChatID == alice.ID && strings.Contains(m.Text, "Connected as")
	})

	is, err := w.jira.As(jane).CreateIssue("OPS", "Task", "Disk full", "")
	if err != nil {
		t.Fatal(err)
	}
	w.tg.Push(w.tg.PrivateMessage(alice, "/comment "+is.Key+" on it"))
	w.waitSent(t, func(m telegramtest.SentMessage) bool {
		return m.ChatID == alice.ID && strings.Contains(m.Text, "Comment added")
	})
	got, _ := w.jira.Issue(is.Key)
	if len(got.Comments) != 1 || got.Comments[0].Author.AccountID != aliceJira.AccountID {
		t.Errorf("comments = %+v", got.Comments)
	}

	if _, err := w.jira.As(jane).Comment(is.Key, "[~accountid:acc-alice] thanks!"); err != nil {
		t.Fatal(err)
	}
	w.waitSent(t, func(m telegramtest.SentMessage) bool {
		return m.ChatID == alice.ID && strings.Contains(m.Text, "mentioned you")
	})

	raw, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), testOAuthSecret) {
		t.Error("the database file holds the OAuth client secret")
	}
}
