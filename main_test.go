package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

const (
	testToken      = "123456:test-bot-token"
	testJiraSecret = "jira-hook-secret"
	channelID      = int64(-1001000000001)
	groupID        = int64(-1001000000002)
	waitLong       = 15 * time.Second
)

var (
	channel = telegramtest.Chat{ID: channelID, Type: "channel", Title: "Ops news", Username: "opsnews"}
	group   = telegramtest.Chat{ID: groupID, Type: "supergroup", Title: "Ops chat"}
	alice   = telegramtest.User{ID: 501, FirstName: "Alice", LastName: "Liddell", Username: "alice"}
	mallory = telegramtest.User{ID: 666, FirstName: "Mallory"}
	jane    = jiratest.User{AccountID: "acc-jane", Name: "jane", DisplayName: "Jane Jira"}
)

// world is the two fakes and a daemon's settings pointing at them.
type world struct {
	tg   *telegramtest.Server
	jira *jiratest.Server
	db   string
	logs *syncBuffer
	// With HTTPS: the client trusts the test certificate; reload is SIGHUP.
	https  bool
	client *http.Client
	reload chan os.Signal
	// reloaded hears of each SIGHUP the daemon handled.
	reloaded chan struct{}
	// watchInterval, when set, is how often the daemon refreshes the
	// webhook and certificate gauges (default: a minute).
	watchInterval time.Duration
}

func (w *world) scheme() string {
	if w.https {
		return "https"
	}
	return "http"
}

func newWorld(t *testing.T) *world {
	t.Helper()
	tg := telegramtest.NewServer(testToken)
	t.Cleanup(tg.Close)
	tg.AddChat(channel)
	tg.AddChat(group)
	tg.LinkChats(channel.ID, group.ID) // the channel's discussion group
	js := jiratest.NewServer(jiratest.Options{User: "bot@example.com", Token: "jira-api-token"})
	t.Cleanup(js.Close)
	js.AddProject("OPS", "Operations")
	js.AddUser(jane)
	w := &world{tg: tg, jira: js, db: filepath.Join(t.TempDir(), "jtbot.db"), logs: &syncBuffer{}, client: http.DefaultClient, reloaded: make(chan struct{}, 8)}
	// Every test of a daemon checks its log for the test secrets.
	t.Cleanup(func() {
		for _, secret := range []string{"test-bot-token", "jira-api-token", testJiraSecret, config.DeriveWebhookSecret(testToken),
			testSecretKey, otherSecretKey, testOAuthSecret, testUserToken} {
			if strings.Contains(w.logs.String(), secret) {
				t.Errorf("a log line contains the secret %q", secret)
			}
		}
	})
	return w
}

func (w *world) env(extra ...string) []string {
	return append([]string{
		"TELEGRAM_HOOK_TOKEN=" + testToken,
		"TELEGRAM_API_URL=" + w.tg.URL,
		"JIRA_SERVER=" + w.jira.URL,
		"JIRA_USER=bot@example.com",
		"JIRA_TOKEN=jira-api-token",
		"JIRA_WEBHOOK_SECRET=" + testJiraSecret,
		fmt.Sprintf("CHAT_PROJECTS=%d:OPS", channelID),
		"ALLOWED_USERS=@alice",
		"LISTEN_ADDR=127.0.0.1:0",
		"DB_PATH=" + w.db,
		"LOG_LEVEL=debug",
		"JIRA_SEARCH_SETTLE=0s", // the fake's search sees every write at once
	}, extra...)
}

// running is one running jtbot.
type running struct {
	addr string
	stop func() int
}

// start runs the daemon in webhook mode (or -poll) until the test ends or
// stop is called. In webhook mode the fake Telegram delivers to it and the
// fake Jira has a signed webhook pointing at it.
func (w *world) start(t *testing.T, poll bool, extra ...string) *running {
	t.Helper()
	env := w.env(extra...)
	if !poll {
		env = append(env, "TELEGRAM_WEBHOOK_URL=http://placeholder/webhook/telegram/")
	}
	cfg, err := config.Load(env, poll)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	serving := make(chan struct{})
	done := make(chan int, 1)
	log := logrus.New()
	log.SetOutput(w.logs)
	log.SetLevel(logrus.DebugLevel)
	// The listener's port is known only once it listens, and the webhook URL
	// must name it: the ready hook fixes the setting before the bot starts.
	go func() {
		done <- daemon(ctx, cfg, log, hooks{ready: func(addr string) {
			cfg.TelegramWebhookURL = w.scheme() + "://" + addr + "/webhook/telegram/"
			addrc <- addr
		}, reload: w.reload, environ: env,
			serving:       func() { close(serving) },
			reloaded:      func() { w.reloaded <- struct{}{} },
			watchInterval: w.watchInterval})
	}()
	var addr string
	select {
	case addr = <-addrc:
	case code := <-done:
		cancel()
		t.Fatalf("daemon exited with %d before listening:\n%s", code, w.logs)
	case <-time.After(waitLong):
		t.Fatal("daemon did not start")
	}
	// Each daemon listens on a new port: point Jira's webhook at this one.
	for _, hook := range w.jira.Webhooks() {
		req, _ := http.NewRequest("DELETE", w.jira.URL+"/rest/webhooks/1.0/webhook/"+hook.ID, nil)
		req.SetBasicAuth("bot@example.com", "jira-api-token")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	{
		w.jira.AddWebhook(jiratest.Webhook{Name: "jtbot", URL: w.scheme() + "://" + addr + "/webhook/jira/", Events: jiraEvents, Secret: testJiraSecret})
	}
	var once sync.Once
	code := 0
	d := &running{addr: addr, stop: func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(12 * time.Second):
				t.Errorf("daemon did not stop within 12 s")
			}
		})
		return code
	}}
	t.Cleanup(func() { d.stop() })
	if !w.waitHealthy(addr, serving) {
		t.Fatalf("daemon never became healthy:\n%s", w.logs)
	}
	return d
}

var jiraEvents = []string{"jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created", "comment_updated", "comment_deleted", "attachment_created"}

// waitHealthy waits until the daemon says it serves, then asks /healthz
// once: it must agree.
func (w *world) waitHealthy(addr string, serving <-chan struct{}) bool {
	select {
	case <-serving:
	case <-time.After(waitLong):
		return false
	}
	resp, err := w.client.Get(w.scheme() + "://" + addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// automaticForward is the copy of a channel post Telegram puts into the
// channel's discussion group.
func (w *world) automaticForward(postID int, text string) map[string]any {
	u := w.tg.GroupMessage(group, telegramtest.User{ID: 777000, FirstName: "Telegram"}, text, 0)
	m := u["message"].(map[string]any)
	m["sender_chat"] = channel
	m["is_automatic_forward"] = true
	m["forward_from_chat"] = channel
	m["forward_from_message_id"] = postID
	m["forward_origin"] = map[string]any{"type": "channel", "chat": channel, "message_id": postID, "date": 1700000000}
	return u
}

func messageID(u map[string]any, kind string) int {
	return u[kind].(map[string]any)["message_id"].(int)
}

func TestBothWaysEndToEnd(t *testing.T) {
	w := newWorld(t)
	d := w.start(t, false)

	post := w.tg.ChannelPost(channel, "Disk full on db-1\nThe /var partition is at 100%.")
	w.tg.Push(post)
	postID := messageID(post, "channel_post")

	if !w.jira.WaitFor(waitLong, func() bool { return len(w.jira.Issues()) == 1 }) {
		t.Fatalf("no issue created:\n%s", w.logs)
	}
	issue := w.jira.Issues()[0]
	if issue.Key != "OPS-1" || issue.Summary != "Disk full on db-1" || issue.Type != "Task" {
		t.Errorf("issue = %s %q (%s)", issue.Key, issue.Summary, issue.Type)
	}
	for _, want := range []string{"The /var partition is at 100%.", "https://t.me/opsnews/" + fmt.Sprint(postID), "Ops news"} {
		if !strings.Contains(issue.Description, want) {
			t.Errorf("description lacks %q:\n%s", want, issue.Description)
		}
	}

	answer := w.waitSent(t, func(m telegramtest.SentMessage) bool { return m.ChatID == channelID && m.ReplyTo == postID })
	if !strings.Contains(answer.Text, `href="`+w.jira.URL+`/browse/OPS-1"`) || answer.ParseMode != "HTML" {
		t.Errorf("answer = %+v", answer)
	}

	fwd := w.automaticForward(postID, "Disk full on db-1")
	w.tg.Push(fwd)
	fwdID := messageID(fwd, "message")
	w.tg.Push(w.tg.GroupMessage(group, mallory, "not allowed to comment", fwdID))
	reply := w.tg.GroupMessage(group, alice, "Cleaning up *old* logs now", fwdID)
	w.tg.Push(reply)

	if !w.jira.WaitFor(waitLong, func() bool { is, _ := w.jira.Issue("OPS-1"); return len(is.Comments) >= 1 }) {
		t.Fatalf("no comment from the reply:\n%s", w.logs)
	}
	is, _ := w.jira.Issue("OPS-1")
	if len(is.Comments) != 1 {
		t.Fatalf("comments = %d, want 1 (Mallory is not allowed)", len(is.Comments))
	}
	body := is.Comments[0].Body
	if !strings.Contains(body, "Alice Liddell (@alice) via Telegram") || !strings.Contains(body, "Cleaning up") {
		t.Errorf("comment body = %q", body)
	}

	// A human comments in Jira: it lands in the discussion group under the
	// forward, and jtbot's own comment above is not echoed.
	if _, err := w.jira.As(jane).Comment("OPS-1", "Thanks, *please* rotate them too"); err != nil {
		t.Fatal(err)
	}
	note := w.waitSent(t, func(m telegramtest.SentMessage) bool {
		return m.ChatID == groupID && strings.Contains(m.Text, "rotate")
	})
	if note.ReplyTo != fwdID || !strings.Contains(note.Text, "Jane Jira") || !strings.Contains(note.Text, "<b>please</b>") {
		t.Errorf("comment notification = %+v", note)
	}
	if err := w.jira.As(jane).Transition("OPS-1", "In Progress"); err != nil {
		t.Fatal(err)
	}
	status := w.waitSent(t, func(m telegramtest.SentMessage) bool { return strings.Contains(m.Text, "In Progress") })
	if status.ChatID != groupID || status.ReplyTo != fwdID || !strings.Contains(status.Text, "To Do → <b>In Progress</b>") {
		t.Errorf("status notification = %+v", status)
	}
	for _, m := range w.tg.Sent() {
		if strings.Contains(m.Text, "Cleaning up") {
			t.Errorf("jtbot echoed its own comment back: %+v", m)
		}
	}
	w.checkMetrics(t, d.addr)
}

// checkMetrics reads /metrics after traffic in both directions.
func (w *world) checkMetrics(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`jtbot_received_total{kind="channel_post",source="telegram"} 1`,
		`jtbot_received_total{kind="comment_created",source="jira"}`,
		`jtbot_requests_total{code="201",method="POST /issue",target="jira"} 1`,
		`jtbot_requests_total{code="200",method="sendMessage",target="telegram"}`,
		`jtbot_delivery_seconds_count{source="telegram"}`,
		`jtbot_queue_depth`, `jtbot_dead_letters 0`, `process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// waitSent waits for a message the bot sent that matches.
func (w *world) waitSent(t *testing.T, match func(telegramtest.SentMessage) bool) telegramtest.SentMessage {
	t.Helper()
	var found telegramtest.SentMessage
	ok := w.tg.WaitFor(waitLong, func() bool {
		for _, m := range w.tg.Sent() {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no matching message; sent: %+v\nlogs:\n%s", w.tg.Sent(), w.logs)
	}
	return found
}

func TestPollModeRestartKeepsLinksAndQueuedWork(t *testing.T) {
	w := newWorld(t)
	d := w.start(t, true)
	// The listener is ready before the poller starts: wait for the call
	// (checking at once raced the daemon and failed now and then).
	if !w.tg.WaitFor(waitLong, func() bool { return w.tg.CallCount("deleteWebhook") > 0 }) {
		t.Errorf("-poll did not delete the webhook")
	}
	if calls := w.tg.Calls(); len(calls) > 0 && firstOf(calls, "deleteWebhook", "getUpdates") != "deleteWebhook" {
		t.Errorf("-poll called getUpdates before deleteWebhook")
	}
	post := w.tg.ChannelPost(channel, "Printer on fire")
	w.tg.Push(post)
	postID := messageID(post, "channel_post")
	answer := w.waitSent(t, func(m telegramtest.SentMessage) bool { return m.ReplyTo == postID })

	// Jira goes down; a reply arrives, is queued, and fails.
	w.jira.FailNext("POST", "/rest/api/2/issue/OPS-1/comment", 1, 503, 0)
	w.tg.Push(w.tg.GroupMessage(channelAsGroup(), alice, "extinguisher on the way", answer.MessageID))
	if !w.jira.WaitFor(waitLong, func() bool { return countRequests(w.jira, "POST", "/comment") >= 1 }) {
		t.Fatalf("the reply was never tried:\n%s", w.logs)
	}
	if code := d.stop(); code != 0 {
		t.Fatalf("stop exit code %d", code)
	}

	// The one failure is spent: Jira is back. A new daemon on the same file finishes the queued work
	// and still knows the links.
	w.start(t, true)
	if !w.jira.WaitFor(waitLong, func() bool { is, _ := w.jira.Issue("OPS-1"); return len(is.Comments) == 1 }) {
		t.Fatalf("queued reply lost across restart:\n%s", w.logs)
	}
	if len(w.jira.Issues()) != 1 {
		t.Errorf("issues = %d, want 1", len(w.jira.Issues()))
	}
}

// channelAsGroup lets a test reply inside the mapped chat itself, as in a
// supergroup mapped to a project.
func channelAsGroup() telegramtest.Chat {
	c := channel
	c.Type = "supergroup"
	return c
}

func countRequests(js *jiratest.Server, method, contains string) int {
	n := 0
	for _, r := range js.Requests() {
		if r.Method == method && strings.Contains(r.Path, contains) {
			n++
		}
	}
	return n
}

func TestEndpoints(t *testing.T) {
	w := newWorld(t)
	d := w.start(t, false)
	cfg, _ := config.Load(w.env("TELEGRAM_WEBHOOK_URL=http://x/"), false)
	secret := cfg.TelegramWebhookSecret
	update := []byte(`{"update_id":99,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"text":"hi"}}`)

	tests := []struct {
		name, method, path string
		header             map[string]string
		body               []byte
		status             int
	}{
		{"healthz", "GET", "/healthz", nil, nil, 200},
		{"unknown path", "GET", "/nope", nil, nil, 404},
		{"healthz wrong method", "POST", "/healthz", nil, nil, 405},
		{"telegram wrong method", "GET", "/webhook/telegram/", nil, nil, 405},
		{"telegram no secret", "POST", "/webhook/telegram/", nil, update, 401},
		{"telegram wrong secret", "POST", "/webhook/telegram/", map[string]string{"X-Telegram-Bot-Api-Secret-Token": "wrong"}, update, 401},
		{"telegram too large", "POST", "/webhook/telegram/", map[string]string{"X-Telegram-Bot-Api-Secret-Token": secret}, bytes.Repeat([]byte(" "), 1<<20+1), 413},
		{"telegram malformed", "POST", "/webhook/telegram/", map[string]string{"X-Telegram-Bot-Api-Secret-Token": secret}, []byte(`{"update_id":`), 400},
		{"telegram no update id", "POST", "/webhook/telegram/", map[string]string{"X-Telegram-Bot-Api-Secret-Token": secret}, []byte(`{}`), 400},
		{"telegram ok", "POST", "/webhook/telegram/", map[string]string{"X-Telegram-Bot-Api-Secret-Token": secret}, update, 200},
		{"telegram repeated", "POST", "/webhook/telegram/", map[string]string{"X-Telegram-Bot-Api-Secret-Token": secret}, update, 200},
		{"jira no signature", "POST", "/webhook/jira/", nil, []byte(`{"webhookEvent":"comment_created"}`), 401},
		{"jira query secret, unknown event", "POST", "/webhook/jira/?secret=" + testJiraSecret, nil, []byte(`{"webhookEvent":"board_created"}`), 202},
		{"jira wrong method", "PUT", "/webhook/jira/", nil, nil, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, "http://"+d.addr+tt.path, bytes.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d (%s), want %d", resp.StatusCode, bytes.TrimSpace(msg), tt.status)
			}
		})
	}
}

func TestSecondInstanceOnSameDatabaseExits1(t *testing.T) {
	w := newWorld(t)
	w.start(t, true)
	cfg, err := config.Load(w.env(), true)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	var out syncBuffer
	log.SetOutput(&out)
	start := time.Now()
	code := daemon(context.Background(), cfg, log, hooks{})
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v, want under 5 s", time.Since(start))
	}
	if !strings.Contains(out.String(), "database is locked by another jtbot") {
		t.Errorf("log lacks the lock message:\n%s", out.String())
	}
}

func TestRunExitCodes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-version"}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "jtbot ") {
		t.Errorf("-version: %d %q", code, stdout.String())
	}
	stderr.Reset()
	code := run(context.Background(), nil, []string{"JIRA_SERVER=nope"}, &stdout, &stderr)
	if code != 2 {
		t.Errorf("bad config exit %d, want 2", code)
	}
	for _, want := range []string{"TELEGRAM_HOOK_TOKEN: required", "JIRA_SERVER: \"nope\"", "JIRA_TOKEN: required"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if code := run(context.Background(), []string{"-bogus"}, nil, &stdout, &stderr); code != 2 {
		t.Errorf("unknown flag exit %d, want 2", code)
	}
}

func TestNoSecretInLogs(t *testing.T) {
	w := newWorld(t)
	// Personal accounts on: their settings are secrets too.
	w.start(t, false, "SECRET_KEY="+testSecretKey, "JIRA_OAUTH_CLIENT_ID=jtbot-app",
		"JIRA_OAUTH_CLIENT_SECRET="+testOAuthSecret, "PUBLIC_URL=http://127.0.0.1:1")
	post := w.tg.ChannelPost(channel, "check the logs")
	w.tg.Push(post)
	w.waitSent(t, func(m telegramtest.SentMessage) bool { return m.ReplyTo == messageID(post, "channel_post") })
	logs := w.logs.String()
	if !strings.Contains(logs, "secret_key=\"(set)\"") {
		t.Errorf("the settings line lacks secret_key=(set): the check below may look at the wrong log")
	}
	for _, secret := range []string{"test-bot-token", testJiraSecret, "jira-api-token", testSecretKey, testOAuthSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSystemdNotifyAndWatchdog(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Read from the environ the daemon is given, not the process's.
	w := newWorld(t)
	d := w.start(t, true, "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=50000")
	got := readDatagrams(t, conn, "WATCHDOG=1")
	if !strings.Contains(got, "READY=1") {
		t.Errorf("no READY=1 before the watchdog: %q", got)
	}
	d.stop()
	if got := readDatagrams(t, conn, "STOPPING=1"); !strings.Contains(got, "STOPPING=1") {
		t.Errorf("no STOPPING=1: %q", got)
	}
}

// readDatagrams reads until one contains want (or the deadline passes) and
// returns everything read.
func readDatagrams(t *testing.T, conn *net.UnixConn, want string) string {
	t.Helper()
	var all strings.Builder
	buf := make([]byte, 512)
	conn.SetReadDeadline(time.Now().Add(waitLong))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("waiting for %q: %v (got %q)", want, err, all.String())
		}
		all.Write(buf[:n])
		all.WriteString("\n")
		if strings.Contains(string(buf[:n]), want) {
			return all.String()
		}
	}
}

// An album whose photos were acknowledged but not yet handled (the daemon
// stops inside the album's quiet period) becomes one issue with every
// photo after a restart.
func TestAlbumSurvivesRestart(t *testing.T) {
	w := newWorld(t)
	d := w.start(t, true)
	for i := 1; i <= 3; i++ {
		up := w.tg.ChannelPost(channel, "")
		m := up["channel_post"].(map[string]any)
		delete(m, "text")
		id := fmt.Sprintf("photo%d", i)
		w.tg.AddFile(id, "photos/"+id+".jpg", bytes.Repeat([]byte{byte(i)}, 300))
		m["photo"] = []map[string]any{{"file_id": id, "file_unique_id": "U" + id, "file_size": 300, "width": 80, "height": 60}}
		m["media_group_id"] = "album-1"
		if i == 1 {
			m["caption"] = "Rack 4 after the flood"
		}
		w.tg.Push(up)
	}
	// Wait until all three are acknowledged (offset confirmed), then stop
	// before the album's quiet period ends.
	if !w.tg.WaitFor(waitLong, func() bool { return w.tg.PendingUpdates() == 0 }) {
		t.Fatal("updates never fetched")
	}
	if code := d.stop(); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	if n := len(w.jira.Issues()); n != 0 {
		t.Skipf("the album was handled before the stop (%d issues): nothing to prove this run", n)
	}
	w.start(t, true)
	if !w.jira.WaitFor(waitLong, func() bool { is, ok := w.jira.Issue("OPS-1"); return ok && len(is.Attachments) == 3 }) {
		t.Fatalf("album lost across restart: %d issues\n%s", len(w.jira.Issues()), w.logs)
	}
	if n := len(w.jira.Issues()); n != 1 {
		t.Errorf("issues = %d, want 1", n)
	}
}

// firstOf says which of the methods was called first.
func firstOf(calls []telegramtest.Call, methods ...string) string {
	for _, c := range calls {
		for _, m := range methods {
			if c.Method == m {
				return m
			}
		}
	}
	return ""
}
