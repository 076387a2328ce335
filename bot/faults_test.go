package bot

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// Outages delay work and never drop it; permanent refusals end it without
// endless retries. Each case posts once and checks what finally happened.
func TestFaultsDelayButNeverDrop(t *testing.T) {
	tests := []struct {
		name    string
		fault   func(h *harness)
		answers int // answers expected under the post
	}{
		{"jira 503 twice", func(h *harness) { h.jira.FailNext("POST", "/rest/api/2/issue", 2, 503, 0) }, 1},
		{"jira 429 with Retry-After", func(h *harness) { h.jira.FailNext("POST", "/rest/api/2/issue", 1, 429, time.Second) }, 1},
		{"jira 401 (a setting to fix)", func(h *harness) { h.jira.FailNext("POST", "/rest/api/2/issue", 1, 401, 0) }, 1},
		{"telegram 429 on the answer", func(h *harness) { h.tg.FailNext("sendMessage", 1, 429, "", 1) }, 1},
		{"telegram 502 on the answer", func(h *harness) { h.tg.FailNext("sendMessage", 1, 502, "Bad Gateway", 0) }, 1},
		{"jira slower than the client timeout", func(h *harness) {
			h.jira.SetDelay(6 * time.Second) // the client gives up after 5 s
			time.AfterFunc(5500*time.Millisecond, h.jira.ClearFaults)
		}, 1},
		{"long poll cut (getUpdates 502)", func(h *harness) { h.tg.FailNext("getUpdates", 2, 502, "Bad Gateway", 0) }, 1},
		{"chat refuses the bot for good", func(h *harness) {
			h.tg.SetChatError(testChannelID, 403, "Forbidden: bot is not a member of the channel chat")
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.fault(h)
			post := h.tg.ChannelPost(testChannel, "fault: "+tt.name)
			h.tg.Push(post)
			if !h.jira.WaitFor(waitTime, func() bool { return len(h.jira.Issues()) == 1 }) {
				t.Fatalf("no issue\n%s", h.logText())
			}
			h.waitIdle()
			answers := 0
			for _, m := range h.tg.Sent() {
				if m.ReplyTo == messageID(post) && strings.Contains(m.Text, "OPS-1") {
					answers++
				}
			}
			if answers != tt.answers {
				t.Errorf("answers = %d, want %d\n%s", answers, tt.answers, h.logText())
			}
			if len(h.jira.Issues()) != 1 {
				t.Errorf("issues = %d, want exactly 1", len(h.jira.Issues()))
			}
			if _, dead := h.store.Depth(); dead != 0 {
				t.Errorf("%d dead letters, want 0", dead)
			}
		})
	}
}

// A reply whose chat is gone is dead-lettered after one try, not retried
// forever.
func TestPermanentTelegramErrorIsDeadLettered(t *testing.T) {
	h := newHarness(t)
	post := h.tg.ChannelPost(testChannel, "root")
	h.tg.Push(post)
	h.waitSent(func(m telegramtest.SentMessage) bool { return m.ReplyTo == messageID(post) })
	// Jira's issue_created for the post is delivered and handled before the
	// chat goes, so the comment is the only casualty.
	h.jira.WaitFor(waitTime, func() bool {
		for _, d := range h.jira.Deliveries() {
			if d.Event == "jira:issue_created" && d.Status == 200 {
				return true
			}
		}
		return false
	})
	h.waitIdle()
	h.tg.SetChatError(testChannelID, 400, "Bad Request: chat not found")
	if _, err := h.jira.As(testJane).Comment("OPS-1", "into the void"); err != nil {
		t.Fatal(err)
	}
	h.waitStore(func() bool { _, dead := h.store.Depth(); return dead > 0 })
	// The comment may have waited for the chat's rate limit first (a wait
	// is not an attempt) and been merged with the issue's update meanwhile.
	items, _ := h.store.Dead()
	retried := len(items) == 0
	for _, it := range items {
		retried = retried || it.Attempts != 1 || !strings.Contains(it.LastError, "chat not found")
	}
	if retried {
		for _, it := range items {
			t.Logf("dead letter %d: %d attempts, %s", it.ID, it.Attempts, it.LastError)
		}
		t.Fatalf("want dead letters after one attempt each\n%s", h.logText())
	}
}

// Jira refusing connections is an outage: the post stays queued for
// another try, it is not dead-lettered.
func TestJiraConnectionRefusedIsRetried(t *testing.T) {
	h := newHarness(t, "JIRA_SERVER=http://127.0.0.1:1")
	h.tg.Push(h.tg.ChannelPost(testChannel, "jira is down"))
	var items []storage.Item
	if !h.waitStore(func() bool {
		items, _ = h.store.Pending(0)
		return len(items) == 1 && items[0].Attempts >= 1
	}) {
		t.Fatalf("the post was not kept for a retry\n%s", h.logText())
	}
	if !strings.Contains(items[0].LastError, "connection refused") {
		t.Errorf("last error = %q", items[0].LastError)
	}
	if _, dead := h.store.Depth(); dead != 0 {
		t.Errorf("%d dead letters, want 0", dead)
	}
}

// A reply waiting for Jira (every comment answered 503) holds back the
// chat's later replies, not its commands: /help is answered meanwhile.
func TestCommandsAnsweredWhileAReplyWaitsForJira(t *testing.T) {
	h := newHarness(t, "CHAT_PROJECTS="+strconv.FormatInt(testGroupID, 10)+":OPS")
	key := h.newIssue("Disk full")
	root := h.seedRoot(key, testGroupID)
	if err := h.store.LinkMessage(root.ChatID, root.MessageID, storage.Link{Issue: key}); err != nil {
		t.Fatal(err)
	}
	h.jira.FailNext("POST", "/rest/api/2/issue/"+key+"/comment", 1000, 503, 0)
	h.tg.Push(h.tg.GroupMessage(testGroup, testAlice, "still full", root.MessageID))
	if !h.waitStore(func() bool {
		items, _ := h.store.Pending(0)
		return len(items) == 1 && items[0].Attempts >= 1
	}) {
		t.Fatalf("the reply did not wait for Jira\n%s", h.logText())
	}
	wantText(t, h.askGroup(testGroup, testAlice, "/help"), "Commands")
	var items []storage.Item
	h.waitStore(func() bool { items, _ = h.store.Pending(0); return len(items) == 1 })
	if len(items) != 1 || !strings.Contains(items[0].LastError, "503") {
		t.Errorf("only the reply should still wait for Jira: %d items queued", len(items))
	}
}
