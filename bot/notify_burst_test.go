package bot

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// clockRig is a Bot on a fake clock whose queue the test drains by hand,
// one pass at a time: coalescing and rate limits are checked without
// waiting for real time to pass.
type clockRig struct {
	t     *testing.T
	mu    sync.Mutex
	clock time.Time
	tg    *telegramtest.Server
	store *storage.Store
	bot   *Bot
	tgc   *telegram.Client
	cfg   *config.Config
	hooks *httptest.Server
	logs  *test.Hook
}

func newClockRig(t *testing.T, env ...string) *clockRig {
	t.Helper()
	r := &clockRig{t: t, clock: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	r.tg = telegramtest.NewServer(testToken)
	t.Cleanup(r.tg.Close)
	js := jiratest.NewServer(jiratest.Options{User: "bot@example.com", Token: "jira-api-token"})
	t.Cleanup(js.Close)
	cfg, err := config.Load(append([]string{
		"TELEGRAM_HOOK_TOKEN=" + testToken,
		"TELEGRAM_API_URL=" + r.tg.URL,
		"JIRA_SERVER=" + js.URL,
		"JIRA_USER=bot@example.com",
		"JIRA_TOKEN=jira-api-token",
		"JIRA_WEBHOOK_SECRET=" + testJiraSecret,
		"CHAT_PROJECTS=" + strconv.FormatInt(testGroupID, 10) + ":OPS",
		"DB_PATH=" + filepath.Join(t.TempDir(), "jtbot.db"),
	}, env...), true)
	if err != nil {
		t.Fatal(err)
	}
	r.store, err = storage.Open(cfg.DBPath, storage.Options{Now: r.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close() })
	jc, err := jira.New(cfg.JiraServer, cfg.JiraUser, cfg.JiraToken, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	r.logs = hook
	r.cfg = cfg
	r.tgc, _ = newTelegram(t, cfg, r.store, log, r.now)
	r.bot = New(Options{Config: cfg, Store: r.store, Jira: jc, Telegram: r.tgc, Log: log, Now: r.now})
	if err := r.tgc.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.hooks = httptest.NewServer(jira.WebhookHandler(cfg.JiraWebhookSecret, r.store, nil, log))
	t.Cleanup(r.hooks.Close)
	return r
}

// earlier is a client of an earlier run of the daemon: what it sent does
// not count against this run's limits.
func (r *clockRig) earlier() *telegram.Client {
	c, _ := newTelegram(r.t, r.cfg, r.store, logrus.New(), nil)
	return c
}

func (r *clockRig) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clock
}

func (r *clockRig) advance(d time.Duration) {
	r.mu.Lock()
	r.clock = r.clock.Add(d)
	r.mu.Unlock()
}

func (r *clockRig) post(body []byte) {
	r.t.Helper()
	resp, err := http.Post(r.hooks.URL+"/?secret="+testJiraSecret, "application/json", bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("status %d", resp.StatusCode)
	}
}

// drain runs one pass of the worker and returns when it wants to look again.
func (r *clockRig) drain() time.Duration {
	return r.bot.drain(context.Background())
}

func (r *clockRig) root(key string, chat int64) storage.MessageRef {
	r.t.Helper()
	m, err := r.earlier().Send(context.Background(), telegram.Out{Chat: chat, HTML: "root of " + key})
	if err != nil {
		r.t.Fatal(err)
	}
	ref := storage.MessageRef{ChatID: chat, MessageID: m.ID}
	if err := r.store.SetRoot(key, ref, false); err != nil {
		r.t.Fatal(err)
	}
	return ref
}

// notifications are the messages sent after the roots.
func (r *clockRig) notifications() []telegramtest.SentMessage {
	var out []telegramtest.SentMessage
	for _, m := range r.tg.Sent() {
		if !strings.HasPrefix(m.Text, "root of ") {
			out = append(out, m)
		}
	}
	return out
}

func (r *clockRig) queued() int {
	q, _ := r.store.Depth()
	return q
}

// withKey rewrites a fixture to be about another issue.
func withKey(body []byte, id, key string) []byte {
	project, _, _ := strings.Cut(key, "-")
	s := strings.NewReplacer(`"id": "10040"`, `"id": "`+id+`"`, `"key": "TES-41"`, `"key": "`+key+`"`,
		`"key": "TES"`, `"key": "`+project+`"`, "/issue/10040", "/issue/"+id).Replace(string(body))
	return []byte(s)
}

func TestJiraBurstCoalesced(t *testing.T) {
	r := newClockRig(t, "COALESCE_WINDOW=2s")
	root := r.root("TES-41", testGroupID)
	for _, f := range []string{"cloud-issue-updated-status-in-progress.json", "cloud-issue-updated-assignee.json", "cloud-comment-created.json"} {
		r.post(fixture(t, f))
		r.advance(500 * time.Millisecond)
	}
	if wait := r.drain(); wait <= 0 || wait > 2*time.Second {
		t.Errorf("first pass waits %s, want the rest of the 2s window", wait)
	}
	if n := len(r.notifications()); n != 0 {
		t.Fatalf("sent %d messages inside the window", n)
	}
	r.advance(2 * time.Second)
	r.drain()
	sent := r.notifications()
	if len(sent) != 1 {
		t.Fatalf("sent %d messages for one burst, want 1: %+v", len(sent), sent)
	}
	plain := mustParse(t, sent[0].Text)
	for _, w := range []string{"TES-41", "To Do → In Progress", "assigned to Test User", "💬 Test User:\nAdded a comment"} {
		if !strings.Contains(plain, w) {
			t.Errorf("merged message %q lacks %q", plain, w)
		}
	}
	if sent[0].ReplyTo != root.MessageID {
		t.Errorf("replies to %d, want root %d", sent[0].ReplyTo, root.MessageID)
	}
	if link, err := r.store.Comment("TES-41", "10019"); err != nil || link.MessageID != sent[0].MessageID {
		t.Errorf("comment link %+v, %v", link, err)
	}
	if r.queued() != 0 {
		t.Errorf("%d items left", r.queued())
	}
}

func TestJiraCoalesceDisabled(t *testing.T) {
	r := newClockRig(t, "COALESCE_WINDOW=0")
	r.root("TES-41", testGroupID)
	r.post(fixture(t, "cloud-issue-updated-status-in-progress.json"))
	if wait := r.drain(); wait != time.Hour {
		t.Errorf("pass asks to look again in %s; nothing should wait", wait)
	}
	if n := len(r.notifications()); n != 1 {
		t.Errorf("sent %d messages at once, want 1", n)
	}
}

// A busy project still gets its messages: a group stops growing after a
// few windows.
func TestJiraBurstPatience(t *testing.T) {
	r := newClockRig(t, "COALESCE_WINDOW=2s")
	r.root("TES-41", testGroupID)
	status := fixture(t, "cloud-issue-updated-status-in-progress.json")
	for i := 0; i < 12; i++ {
		r.post(append(status, strings.Repeat(" ", i)...)) // distinct bodies, distinct deliveries
		r.drain()
		r.advance(time.Second)
	}
	if n := len(r.notifications()); n == 0 {
		t.Errorf("no message after 12s of events every second")
	}
}

// A bulk edit of many issues of one project becomes one digest.
func TestJiraBulkEditDigest(t *testing.T) {
	r := newClockRig(t, "COALESCE_WINDOW=2s")
	status := fixture(t, "cloud-issue-updated-status-in-progress.json")
	for i := 1; i <= 200; i++ {
		r.post(withKey(status, strconv.Itoa(20000+i), fmt.Sprintf("OPS-%d", i)))
	}
	r.advance(2 * time.Second)
	r.drain()
	sent := r.notifications()
	if len(sent) != 1 {
		t.Fatalf("sent %d messages for a bulk edit, want one digest", len(sent))
	}
	plain := mustParse(t, sent[0].Text)
	for _, w := range []string{"📋 200 issues changed in OPS", "• OPS-1 Unit test summary 1: 🔄 To Do → In Progress", "OPS-2 "} {
		if !strings.Contains(plain, w) {
			t.Errorf("digest %q lacks %q", plain[:min(len(plain), 300)], w)
		}
	}
	if sent[0].ChatID != testGroupID {
		t.Errorf("digest in chat %d", sent[0].ChatID)
	}
	if r.queued() != 0 {
		t.Errorf("%d items left", r.queued())
	}
}

// A few issues going to one chat are sent one a second, in order, each
// waiting in the queue rather than in the worker.
func TestJiraRateLimitPerChat(t *testing.T) {
	r := newClockRig(t, "COALESCE_WINDOW=2s")
	status := fixture(t, "cloud-issue-updated-status-in-progress.json")
	for i := 1; i <= 3; i++ {
		key := fmt.Sprintf("OPS-%d", i)
		r.root(key, testGroupID)
		r.post(withKey(status, strconv.Itoa(20000+i), key))
	}
	r.advance(2 * time.Second)
	var got []string
	for pass := 0; pass < 6 && len(got) < 3; pass++ {
		before := len(r.notifications())
		wait := r.drain()
		sent := r.notifications()
		if len(sent)-before > 1 {
			t.Fatalf("pass %d sent %d messages to one chat at once", pass, len(sent)-before)
		}
		for _, m := range sent[before:] {
			plain := mustParse(t, m.Text)
			got = append(got, plain[strings.Index(plain, "OPS-"):][:5])
		}
		if len(got) < 3 && (wait <= 0 || wait > telegram.ChatInterval) {
			t.Fatalf("pass %d: next look in %s, want within %s", pass, wait, telegram.ChatInterval)
		}
		r.advance(wait)
	}
	if strings.Join(got, ",") != "OPS-1,OPS-2,OPS-3" {
		t.Errorf("sent %v, want OPS-1,OPS-2,OPS-3 in order", got)
	}
	if strings.Contains(r.logText(), "level=warning") {
		t.Errorf("rate waits logged as warnings:\n%s", r.logText())
	}
}

// Telegram's retry_after holds the item in the queue for that long.
func TestJiraRetryAfter(t *testing.T) {
	r := newClockRig(t, "COALESCE_WINDOW=0")
	r.root("TES-41", testGroupID)
	r.advance(time.Minute)
	r.tg.FailNext("sendMessage", 1, 429, "", 7)
	r.post(fixture(t, "cloud-issue-updated-status-in-progress.json"))
	if wait := r.drain(); wait != 7*time.Second {
		t.Errorf("retry in %s, want Telegram's 7s", wait)
	}
	r.advance(6 * time.Second)
	r.drain()
	if n := len(r.notifications()); n != 0 {
		t.Fatalf("sent before retry_after passed")
	}
	r.advance(time.Second)
	r.drain()
	if n := len(r.notifications()); n != 1 {
		t.Errorf("sent %d after retry_after, want 1", n)
	}
}

func (r *clockRig) logText() string {
	var buf bytes.Buffer
	for _, e := range r.logs.AllEntries() {
		line, _ := e.String()
		buf.WriteString(line)
	}
	return buf.String()
}

// An edit and a new message for one issue in one chat go out together,
// even under the limits: neither may wait for the other forever.
func TestJiraEditAndMessageTogether(t *testing.T) {
	r := newClockRig(t, "COALESCE_WINDOW=2s")
	root := r.root("TES-41", testGroupID)
	shown, err := r.earlier().Send(context.Background(), telegram.Out{Chat: testGroupID, HTML: "💬 first version"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.store.LinkComment("TES-41", "10019", storage.MessageRef{ChatID: testGroupID, MessageID: shown.ID}, false); err != nil {
		t.Fatal(err)
	}
	r.post(fixture(t, "cloud-comment-updated.json"))
	r.post(fixture(t, "cloud-issue-updated-status-in-progress.json"))
	r.advance(2 * time.Second)
	for pass := 0; pass < 3 && r.queued() > 0; pass++ {
		r.advance(r.drain())
	}
	if r.queued() != 0 {
		t.Fatalf("%d items still queued:\n%s", r.queued(), r.logText())
	}
	var edited, posted bool
	for _, m := range r.tg.Sent() {
		plain := mustParse(t, m.Text)
		edited = edited || (m.MessageID == shown.ID && strings.Contains(plain, "Added a comment, then edited it"))
		posted = posted || (m.ReplyTo == root.MessageID && strings.Contains(plain, "To Do → In Progress"))
	}
	if !edited || !posted {
		t.Errorf("edited %v, posted %v: %+v", edited, posted, r.tg.Sent())
	}
}

// A bulk edit reaches a subscribed topic as one digest too, beside the
// project's own chat, with the events its subscription asks for.
func TestJiraBulkEditDigestInARoom(t *testing.T) {
	r := newClockRig(t, "COALESCE_WINDOW=2s")
	topic := telegramtest.Chat{ID: -1004000000002, Type: "supergroup", Title: "Releases", IsForum: true}
	r.tg.AddChat(topic)
	if _, err := r.store.AddSubscription(storage.Subscription{Chat: topic.ID, Thread: 55, Project: "OPS", Events: []string{"status"}}); err != nil {
		t.Fatal(err)
	}
	status := fixture(t, "cloud-issue-updated-status-in-progress.json")
	for i := 1; i <= 20; i++ {
		r.post(withKey(status, strconv.Itoa(20000+i), fmt.Sprintf("OPS-%d", i)))
	}
	r.advance(2 * time.Second)
	r.drain()
	sent := r.notifications()
	if len(sent) != 2 {
		t.Fatalf("sent %d messages for a bulk edit, want one digest in each chat", len(sent))
	}
	for _, m := range sent {
		if !strings.Contains(mustParse(t, m.Text), "📋 20 issues changed in OPS") {
			t.Errorf("chat %d got %q", m.ChatID, m.Text)
		}
	}
	if sent[0].ChatID == sent[1].ChatID || (sent[0].ThreadID != 55 && sent[1].ThreadID != 55) {
		t.Errorf("digests went to %d/%d and %d/%d", sent[0].ChatID, sent[0].ThreadID, sent[1].ChatID, sent[1].ThreadID)
	}
	if r.queued() != 0 {
		t.Errorf("%d items left", r.queued())
	}
}
