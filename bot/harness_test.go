package bot

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/jira/oauth"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// The harness runs a real Bot (poll mode) against the fake Telegram and the
// fake Jira, with a real store in a temp dir. Jira's webhooks reach the
// real /webhook/jira/ handler, signed.
const (
	testToken      = "123456:harness-token"
	testJiraSecret = "harness-jira-secret"
	testChannelID  = int64(-1001000000001)
	testGroupID    = int64(-1001000000002)
	waitTime       = 10 * time.Second
	// testSecretKey seals personal accounts: 32 bytes, base64.
	testSecretKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
)

var (
	testChannel = telegramtest.Chat{ID: testChannelID, Type: "channel", Title: "Ops news", Username: "opsnews"}
	testGroup   = telegramtest.Chat{ID: testGroupID, Type: "supergroup", Title: "Ops chat"}
	testAlice   = telegramtest.User{ID: 501, FirstName: "Alice", LastName: "Liddell", Username: "alice"}
	testJane    = jiratest.User{AccountID: "acc-jane", Name: "jane", DisplayName: "Jane Jira"}
)

type harness struct {
	t     *testing.T
	tg    *telegramtest.Server
	jira  *jiratest.Server
	store *storage.Store
	cfg   *config.Config
	bot   *Bot
	hooks *httptest.Server
	logs  *test.Hook
	log   *logrus.Logger
	// personalSecrets are people's tokens, codes and states: never in a
	// log line, nor in the database file.
	personalSecrets []string
}

// newHarness starts everything. env adds or overrides settings (NAME=value);
// by default the channel maps to OPS, everyone is allowed and coalescing is off.
func newHarness(t *testing.T, env ...string) *harness {
	t.Helper()
	return newHarnessOn(t, jiratest.Options{}, env...)
}

// newHarnessOn is newHarness against a fake Jira built with site: its
// Deployment and clock (the bot's API credentials are the harness's).
func newHarnessOn(t *testing.T, site jiratest.Options, env ...string) *harness {
	t.Helper()
	h := &harness{t: t}
	h.tg = telegramtest.NewServer(testToken)
	t.Cleanup(h.tg.Close)
	h.tg.AddChat(testChannel)
	h.tg.AddChat(testGroup)
	// Alice reads the mapped channel: her DMs reach its project (DESIGN §7).
	h.tg.SetChatMember(testChannelID, testAlice.ID, "member")
	// The group is the channel's discussion group: it acts on OPS too.
	h.tg.LinkChats(testChannelID, testGroupID)
	site.User, site.Token = "bot@example.com", "jira-api-token"
	h.jira = jiratest.NewServer(site)
	t.Cleanup(h.jira.Close)
	h.jira.AddProject("OPS", "Operations")
	h.jira.AddUser(testJane)
	// Up first: the OAuth callback URL (PUBLIC_URL) is its address.
	mux := http.NewServeMux()
	h.hooks = httptest.NewServer(mux)
	t.Cleanup(h.hooks.Close)

	base := []string{
		"PUBLIC_URL=" + h.hooks.URL,
		"SECRET_KEY=" + testSecretKey,
		"ATLASSIAN_AUTH_URL=" + h.jira.AuthURL,
		"ATLASSIAN_API_URL=" + h.jira.APIURL,
		"TELEGRAM_HOOK_TOKEN=" + testToken,
		"TELEGRAM_API_URL=" + h.tg.URL,
		"JIRA_SERVER=" + h.jira.URL,
		"JIRA_USER=bot@example.com",
		"JIRA_TOKEN=jira-api-token",
		"JIRA_WEBHOOK_SECRET=" + testJiraSecret,
		"CHAT_PROJECTS=" + strconv.FormatInt(testChannelID, 10) + ":OPS",
		"ALLOWED_USERS=*",
		"COALESCE_WINDOW=0",
		"JIRA_SEARCH_SETTLE=0s", // the fake's search sees every write at once
		"DB_PATH=" + filepath.Join(t.TempDir(), "jtbot.db"),
	}
	cfg, err := config.Load(append(base, env...), true)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	h.cfg = cfg
	h.store, err = storage.Open(cfg.DBPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.UseKey(cfg.SecretKey); err != nil {
		t.Fatal(err)
	}
	jc, err := jira.New(cfg.JiraServer, cfg.JiraUser, cfg.JiraToken, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	jc.SetSearchSettle(cfg.JiraSearchSettle)
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	h.logs = hook
	h.log = log
	tg, inbound := newTelegram(t, cfg, h.store, log, nil)
	opts := Options{Config: cfg, Store: h.store, Jira: jc, Telegram: tg, Log: log}
	if cfg.OAuth() {
		h.jira.AddOAuthClient(jiratest.OAuthClient{ID: cfg.JiraOAuthClientID, Secret: cfg.JiraOAuthClientSecret, RedirectURL: cfg.OAuthCallbackURL()})
		p, err := oauth.New(oauth.Config{Server: cfg.JiraServer, ClientID: cfg.JiraOAuthClientID, ClientSecret: cfg.JiraOAuthClientSecret,
			RedirectURL: cfg.OAuthCallbackURL(), AuthURL: cfg.AtlassianAuthURL, APIURL: cfg.AtlassianAPIURL, Deployment: oauthDeployment(h.jira)})
		if err != nil {
			t.Fatal(err)
		}
		opts.OAuth = p
	}
	h.bot = New(opts)
	if p, ok := opts.OAuth.(*oauth.Provider); ok {
		mux.Handle(oauth.CallbackPath, oauth.Callback(p, h.bot, h.bot, log, time.Now))
	}

	mux.Handle("/webhook/telegram/", inbound.Handler())
	mux.Handle("/webhook/jira/", jira.WebhookHandler(cfg.JiraWebhookSecret, h.store, nil, log))
	h.jira.AddWebhook(jiratest.Webhook{Name: "jtbot", URL: h.hooks.URL + "/webhook/jira/", Events: jira.Events, Secret: testJiraSecret})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	receiver := telegram.NewReceiver(tg, inbound, nil)
	received := make(chan struct{})
	go func() { receiver.Run(ctx); close(received) }()
	go func() { done <- h.bot.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("bot did not stop")
		}
		<-received
		h.store.Close()
		h.checkNoSecrets()
	})
	select {
	case <-h.bot.Ready():
	case <-time.After(waitTime):
		t.Fatal("bot never became healthy")
	}
	return h
}

// oauthDeployment picks the provider for the fake site, as the daemon
// does from serverInfo.
func oauthDeployment(site *jiratest.Server) oauth.Deployment {
	if site.Deployment() == "Cloud" {
		return oauth.Cloud
	}
	return oauth.DataCenter
}

// newTelegram builds the Telegram adapter as the daemon does, against the
// fake Bot API at cfg.TelegramAPIURL; now (nil: the real clock) drives its
// rate limiter; by default a fast clock.
func newTelegram(t *testing.T, cfg *config.Config, store *storage.Store, log logrus.FieldLogger, now func() time.Time) (*telegram.Client, *telegram.Inbound) {
	t.Helper()
	var sleep func(context.Context, time.Duration) error
	if now == nil {
		now, sleep = fastClock()
	}
	tg, err := telegram.New(telegram.Options{APIURL: cfg.TelegramAPIURL, Token: cfg.TelegramToken,
		HTTP: &http.Client{Timeout: 40 * time.Second}, Log: log, Now: now, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	return tg, telegram.NewInbound(store, cfg.TelegramWebhookSecret, nil, log, telegram.WithRewrite(telegram.SealConnect(cfg.SecretKey)))
}

// fastClock runs the rate limiter's time 50× faster than the wall clock,
// so a conversation of many commands in one chat (one answer a second, as
// Telegram wants) takes milliseconds, while the limiter's rules still apply.
func fastClock() (now func() time.Time, sleep func(context.Context, time.Duration) error) {
	const speed = 50
	start := time.Now()
	now = func() time.Time { return start.Add(time.Since(start) * speed) }
	sleep = func(ctx context.Context, d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d / speed):
			return nil
		}
	}
	return now, sleep
}

// postJira sends a webhook body to /webhook/jira/ signed, as Jira would.
func (h *harness) postJira(body []byte) int {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.hooks.URL+"/webhook/jira/", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature", jiratest.Signature(testJiraSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitSent waits for a sent message that matches.
func (h *harness) waitSent(match func(telegramtest.SentMessage) bool) telegramtest.SentMessage {
	h.t.Helper()
	var found telegramtest.SentMessage
	if !h.tg.WaitFor(waitTime, func() bool {
		for _, m := range h.tg.Sent() {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	}) {
		h.t.Fatalf("no matching message; sent: %+v\nlogs:\n%s", h.tg.Sent(), h.logText())
	}
	return found
}

// waitIdle waits until every pushed update was taken (getUpdates moved
// past it, so it is in the queue) and the queue is empty.
func (h *harness) waitIdle() {
	h.t.Helper()
	if !h.tg.WaitFor(waitTime, func() bool { return h.tg.PendingUpdates() == 0 }) {
		h.t.Fatalf("updates never taken\nlogs:\n%s", h.logText())
	}
	if !h.waitStore(func() bool { q, _ := h.store.Depth(); return q == 0 }) {
		h.t.Fatalf("queue never drained\nlogs:\n%s", h.logText())
	}
}

// waitStore waits until cond holds, looking again at every change of the
// queue or the dead letters.
func (h *harness) waitStore(cond func() bool) bool {
	deadline := time.After(waitTime)
	for {
		changed := h.store.Changed()
		if cond() {
			return true
		}
		select {
		case <-changed:
		case <-deadline:
			return false
		}
	}
}

// checkNoSecrets fails the test if any log line holds a secret: every test
// that uses the harness checks it.
func (h *harness) checkNoSecrets() {
	logs := h.logText()
	secrets := append([]string{"harness-token", "jira-api-token", testJiraSecret, h.cfg.TelegramWebhookSecret}, h.personalSecrets...)
	if h.cfg.SecretKeyRaw != "" {
		secrets = append(secrets, h.cfg.SecretKeyRaw, h.cfg.JiraOAuthClientSecret)
	}
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		if strings.Contains(logs, secret) {
			h.t.Errorf("a log line contains the secret %q", secret)
		}
	}
}

func (h *harness) logText() string {
	var buf bytes.Buffer
	for _, e := range h.logs.AllEntries() {
		line, _ := e.String()
		buf.WriteString(line)
	}
	return buf.String()
}

// messageID reads the message_id of an update built by the fake.
func messageID(u map[string]any) int {
	for _, kind := range []string{"message", "channel_post", "edited_message", "edited_channel_post"} {
		if m, ok := u[kind].(map[string]any); ok {
			return m["message_id"].(int)
		}
	}
	return 0
}
