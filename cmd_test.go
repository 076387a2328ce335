package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// command runs `jtbot args…` with env and returns exit code and output.
func command(env []string, args ...string) (int, string) {
	var out bytes.Buffer
	code := run(context.Background(), args, env, &out, &out)
	return code, out.String()
}

func TestWebhooksCommand(t *testing.T) {
	w := newWorld(t)
	w.jira.AddWebhook(jiratest.Webhook{Name: "someone else's", URL: "https://other.example.com/hook", Events: []string{"jira:issue_created"}})
	env := w.env()
	for i := 0; i < 2; i++ {
		code, out := command(env, "webhooks", "-base-url", "https://bot.example.com/")
		if code != 0 {
			t.Fatalf("register #%d: exit %d\n%s", i+1, code, out)
		}
		want := "created"
		if i == 1 {
			want = "updated"
		}
		if !strings.Contains(out, `jira: webhook "jtbot" `+want) || !strings.Contains(out, "telegram: webhook set to https://bot.example.com/webhook/telegram/") {
			t.Errorf("register #%d output:\n%s", i+1, out)
		}
	}
	hooks := w.jira.Webhooks()
	if len(hooks) != 2 {
		t.Fatalf("jira webhooks = %d, want ours and the other one: %+v", len(hooks), hooks)
	}
	ours := hooks[1]
	if ours.Name != "jtbot" || ours.URL != "https://bot.example.com/webhook/jira/" || ours.Secret != testJiraSecret || ours.JQL != "project in (OPS)" || len(ours.Events) != 7 {
		t.Errorf("our webhook = %+v", ours)
	}
	code, out := command(env, "webhooks", "-status")
	if code != 0 || !strings.Contains(out, "telegram: url https://bot.example.com/webhook/telegram/") || !strings.Contains(out, `jira: "jtbot" -> https://bot.example.com/webhook/jira/`) {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	if strings.Contains(out, testJiraSecret) || strings.Contains(out, "test-bot-token") {
		t.Errorf("status prints a secret:\n%s", out)
	}

	code, out = command(env, "webhooks", "-remove")
	if code != 0 || !strings.Contains(out, `jira: webhook "jtbot" deleted`) || !strings.Contains(out, "telegram: webhook deleted") {
		t.Errorf("remove: exit %d\n%s", code, out)
	}
	if hooks := w.jira.Webhooks(); len(hooks) != 1 || hooks[0].Name != "someone else's" {
		t.Errorf("after remove: %+v", hooks)
	}
	if code, out := command(env, "webhooks", "-remove", "-service", "jira"); code != 0 || !strings.Contains(out, "nothing to delete") {
		t.Errorf("second remove: exit %d\n%s", code, out)
	}
	if code, _ := command(env, "webhooks"); code != 2 {
		t.Errorf("no -base-url: exit %d, want 2", code)
	}
	if code, _ := command(env, "webhooks", "-base-url", "x", "-service", "slack"); code != 2 {
		t.Errorf("bad -service: exit %d, want 2", code)
	}
}

func TestDoctor(t *testing.T) {
	tests := []struct {
		name    string
		webhook bool                    // check webhook mode instead of -poll
		setup   func(w *world) []string // breaks something; returns extra env
		want    string
	}{
		{"healthy", false, func(w *world) []string { return nil }, "all checks passed"},
		{"pins listed", false, func(w *world) []string {
			if err := pinUsername(w.db, "alice", 501); err != nil {
				panic(err) // setup has no t of its own
			}
			return []string{"JIRA_TOKEN=wrong"} // any failure: only "healthy" exits 0
		}, "@alice → 501"},
		{"bad jira token", false, func(w *world) []string { return []string{"JIRA_TOKEN=wrong"} }, "✗ Jira credentials"},
		{"jira unreachable", false, func(w *world) []string { return []string{"JIRA_SERVER=http://127.0.0.1:1"} }, "is reachable from this host"},
		{"unknown project", false, func(w *world) []string { return []string{fmt.Sprintf("CHAT_PROJECTS=%d:NOPE", channelID)} }, "✗ project NOPE"},
		{"issue type missing", false, func(w *world) []string { return []string{"JIRA_ISSUE_TYPE=Epic"} }, "cannot create issue type(s) Epic"},
		{"bad telegram token", false, func(w *world) []string { return []string{"TELEGRAM_HOOK_TOKEN=999:nope"} }, "✗ Telegram token (getMe)"},
		{"bot not admin", false, func(w *world) []string {
			w.tg.SetChatMember(channelID, w.tg.Bot().ID, "member")
			return nil
		}, "make the bot an administrator"},
		{"webhook elsewhere", true, func(w *world) []string {
			return []string{"TELEGRAM_WEBHOOK_URL=https://bot.example.com/webhook/telegram/"}
		}, "Telegram webhook is"},
		{"bad setting", false, func(w *world) []string { return []string{"LOG_LEVEL=loud"} }, "✗ setting LOG_LEVEL"},
		{"wrong secret key", false, func(w *world) []string {
			if err := saveConnection(w.db, testSecretKey); err != nil {
				panic(err) // setup has no t of its own
			}
			return []string{"SECRET_KEY=" + otherSecretKey}
		}, "✗ SECRET_KEY: is not the key that sealed"},
		{"bad secret key", false, func(w *world) []string {
			return []string{"SECRET_KEY=" + testSecretKey[:20], "JIRA_OAUTH_CLIENT_SECRET=" + testOAuthSecret}
		}, "✗ setting SECRET_KEY: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			env := tt.setup(w)
			args := []string{"doctor", "-poll"}
			if tt.webhook {
				args = []string{"doctor"}
			}
			code, out := command(w.env(env...), args...)
			if !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
			if wantCode := map[bool]int{true: 0, false: 1}[tt.name == "healthy"]; code != wantCode {
				t.Errorf("exit %d, want %d\n%s", code, wantCode, out)
			}
			for _, secret := range []string{"test-bot-token", "jira-api-token", testJiraSecret, testSecretKey, testSecretKey[:20], otherSecretKey, testOAuthSecret} {
				if strings.Contains(out, secret) {
					t.Errorf("doctor printed a secret")
				}
			}
		})
	}
}

func TestBackupAndQueueWhileRunning(t *testing.T) {
	w := newWorld(t)
	w.start(t, true)
	post := w.tg.ChannelPost(channel, "Backup me")
	w.tg.Push(post)
	w.waitSent(t, func(m telegramtest.SentMessage) bool { return m.ReplyTo == messageID(post, "channel_post") })

	dest := filepath.Join(t.TempDir(), "copy.db")
	code, out := command(w.env(), "backup", dest)
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}
	fi, err := os.Stat(dest)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v", err, fi.Mode())
	}
	copy, err := storage.Open(dest, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := copy.MessageLink(channelID, messageID(post, "channel_post"))
	copy.Close()
	if err != nil || l.Issue != "OPS-1" {
		t.Errorf("backup lacks the link: %+v %v", l, err)
	}

	// Through the daemon's socket (the file is locked); work may still be queued.
	code, out = command(w.env(), "queue")
	if code != 0 || !strings.Contains(out, "dead letters: 0") {
		t.Errorf("queue: exit %d\n%s", code, out)
	}
}

func TestQueueCommandOffline(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "jtbot.db")
	s, err := storage.Open(db, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := s.Enqueue(storage.Item{Source: "jira", Payload: []byte(`{"secret body":1}`)}, "", 0)
	s.Bury(id, "jira: add comment: 400 body: too long")
	s.Close()
	env := []string{"DB_PATH=" + db}

	code, out := command(env, "queue")
	if code != 0 || !strings.Contains(out, "dead letters: 1") || !strings.Contains(out, "too long") || strings.Contains(out, "secret body") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if code, out := command(env, "queue", "-retry", "all"); code != 0 || !strings.Contains(out, fmt.Sprintf("retry %d: done", id)) {
		t.Errorf("retry all: exit %d\n%s", code, out)
	}
	if code, out := command(env, "queue"); code != 0 || !strings.Contains(out, "queued: 1, dead letters: 0") {
		t.Errorf("after retry: %s", out)
	}
	if code, out := command(env, "queue", "-drop", "12345"); code != 1 || !strings.Contains(out, "not found") {
		t.Errorf("drop unknown: exit %d\n%s", code, out)
	}
	if code, out := command([]string{"DB_PATH=" + filepath.Join(dir, "none.db")}, "queue"); code != 1 || !strings.Contains(out, "no database") {
		t.Errorf("missing db: exit %d\n%s", code, out)
	}
	if code, _ := command(env, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}

func TestDoctorWarnsWhenDBPathLeavesStateDirectory(t *testing.T) {
	state := t.TempDir()
	tests := []struct {
		name string
		env  []string
		warn bool
	}{
		{"default under systemd", []string{"STATE_DIRECTORY=" + state}, false},
		{"explicit, inside", []string{"STATE_DIRECTORY=" + state, "DB_PATH=" + filepath.Join(state, "sub", "j.db")}, false},
		{"outside", []string{"STATE_DIRECTORY=" + state, "DB_PATH=" + filepath.Join(t.TempDir(), "jtbot.db")}, true},
		{"a sibling with the same prefix", []string{"STATE_DIRECTORY=" + state, "DB_PATH=" + state + "-old/jtbot.db"}, true},
		{"not under systemd", []string{"DB_PATH=" + filepath.Join(t.TempDir(), "jtbot.db")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(append([]string{"TELEGRAM_HOOK_TOKEN=1:x", "JIRA_SERVER=https://j.example", "JIRA_TOKEN=t"}, tt.env...), true)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			d := &doctor{out: &out}
			d.checkStateDirectory(cfg, tt.env)
			if got := strings.Contains(out.String(), "! DB_PATH"); got != tt.warn {
				t.Errorf("warned %v, want %v:\n%s", got, tt.warn, out.String())
			}
			if d.failed != 0 {
				t.Errorf("a warning failed the run")
			}
		})
	}
}

// pinUsername stores a username pin, as the daemon does on first sight.
func pinUsername(db, name string, id int64) error {
	store, err := storage.Open(db, storage.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	_, err = store.PinUsername(name, id)
	return err
}

// The Jira webhook's filter covers the subscriptions' projects too.
func TestWebhooksFilterCoversSubscriptions(t *testing.T) {
	w := newWorld(t)
	store, err := storage.Open(w.db, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddSubscription(storage.Subscription{Chat: -1009, Project: "INFRA"}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if code, out := command(w.env(), "webhooks", "-base-url", "https://bot.example.com/", "-service", "jira"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	hooks := w.jira.Webhooks()
	if len(hooks) != 1 || hooks[0].JQL != "project in (INFRA, OPS)" {
		t.Errorf("webhooks = %+v", hooks)
	}
}
