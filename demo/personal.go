package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// The personal-account scene: Alice connects her own Jira account over
// OAuth (the fake plays Atlassian's consent screen and Alice's browser),
// replies under the issue as herself, and a mention in Jira reaches her by
// DM. OAuth rather than an API token because it is what a team with an
// OAuth app sees, and the demo knows its public URL before jtbot starts.

const oauthClientID = "jtbot-demo-app"

var aliceJira = jiratest.User{AccountID: "acc-alice", Name: "alice", DisplayName: "Alice Liddell", Email: "alice@example.com"}

// personalEnv registers jtbot's OAuth app with the fake and returns the
// settings that turn personal accounts on: a fresh SECRET_KEY, the app,
// and Atlassian's hosts pointed at the fake.
func (d *demo) personalEnv(addr string) ([]string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	clientSecret := base64.RawURLEncoding.EncodeToString(secret)
	public := "http://" + addr
	d.jira.AddOAuthClient(jiratest.OAuthClient{ID: oauthClientID, Secret: clientSecret, RedirectURL: public + "/oauth/jira/callback"})
	return []string{
		"SECRET_KEY=" + base64.StdEncoding.EncodeToString(key),
		"JIRA_OAUTH_CLIENT_ID=" + oauthClientID,
		"JIRA_OAUTH_CLIENT_SECRET=" + clientSecret,
		"ATLASSIAN_AUTH_URL=" + d.jira.AuthURL,
		"ATLASSIAN_API_URL=" + d.jira.APIURL,
		"PUBLIC_URL=" + public,
	}, nil
}

func (d *demo) personalScene(fwdID int) error {
	d.say("\n── Alice acts as herself ──")
	d.jira.AddUser(aliceJira)
	if err := d.connect(); err != nil {
		return err
	}

	text := "Logs rotated, 40% free now"
	d.say("💬 Alice replies under the post in %q: %q", group.Title, text)
	d.tg.Push(d.tg.GroupMessage(group, alice, text, fwdID))
	var c jiratest.Comment
	if !d.jira.WaitFor(wait, func() bool { c = d.lastComment("OPS-1"); return c.Body == text }) {
		return errors.New("Alice's reply did not become a Jira comment")
	}
	if c.Author.AccountID != aliceJira.AccountID {
		return fmt.Errorf("Alice's reply was written in Jira by %s, not by her", c.Author.DisplayName)
	}
	d.say("🟦 Jira: comment on OPS-1 by %s (accountId %s), with no \"via Telegram\" line:\n%s",
		c.Author.DisplayName, c.Author.AccountID, indent(c.Body))

	mention := "[~accountid:" + aliceJira.AccountID + "] can you add a cron job for it?"
	d.say("🟦 Jane Jira comments in Jira: %q", mention)
	if _, err := d.jira.As(jane).Comment("OPS-1", mention); err != nil {
		return err
	}
	dm, err := d.sent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == alice.ID && strings.Contains(m.Text, "mentioned you")
	})
	if err != nil {
		return err
	}
	d.say("🤖 bot → Alice, privately:\n%s", indent(dm.Text))
	for _, m := range d.tg.Sent() {
		if strings.Contains(m.Text, "Logs rotated") {
			return errors.New("jtbot echoed Alice's own comment back to Telegram")
		}
	}
	return d.subscriptionScene()
}

// connect plays Alice: /connect in a DM, the button's consent screen, and
// her browser landing on jtbot's callback.
func (d *demo) connect() error {
	d.say("💬 Alice, in a private chat with the bot: /connect")
	d.tg.Push(d.tg.PrivateMessage(alice, "/connect"))
	button, err := d.sent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == alice.ID && strings.Contains(string(m.ReplyMarkup), "authorize")
	})
	if err != nil {
		return err
	}
	authURL, err := buttonURL(button)
	if err != nil {
		return err
	}
	d.say("🤖 bot answers with a button to %s", strings.SplitN(authURL, "?", 2)[0])
	back, err := d.jira.Consent(authURL, aliceJira)
	if err != nil {
		return err
	}
	d.say("🌐 Alice allows access on the consent screen as %s; her browser returns to %s", aliceJira.DisplayName, strings.SplitN(back, "?", 2)[0])
	page, err := get(back)
	if err != nil {
		return err
	}
	if !strings.Contains(page, "Connected as") {
		return fmt.Errorf("the callback page says: %s", page)
	}
	d.say("🌐 jtbot's page: %q", pageText(page))
	dm, err := d.sent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == alice.ID && strings.Contains(m.Text, "Connected as")
	})
	if err != nil {
		return err
	}
	d.say("🤖 bot → Alice, privately: %s", dm.Text)
	return nil
}

func buttonURL(m telegramtest.SentMessage) (string, error) {
	var kb struct {
		InlineKeyboard [][]struct{ URL string } `json:"inline_keyboard"`
	}
	if err := json.Unmarshal(m.ReplyMarkup, &kb); err != nil {
		return "", err
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if b.URL != "" {
				return b.URL, nil
			}
		}
	}
	return "", errors.New("the /connect answer has no URL button")
}

// get is Alice's browser opening a URL.
func get(url string) (string, error) {
	c := &http.Client{Timeout: wait}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body), nil
}

// pageText is the page without its tags, for the transcript.
func pageText(page string) string {
	var b strings.Builder
	in := false
	for _, r := range page {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func (d *demo) lastComment(key string) jiratest.Comment {
	is, _ := d.jira.Issue(key)
	if len(is.Comments) == 0 {
		return jiratest.Comment{}
	}
	return is.Comments[len(is.Comments)-1]
}
