package bot

import (
	"bytes"
	"cmp"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "jira", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// botMessage has the bot send a message, as it would have sent an issue's
// root or a comment's notification earlier: through a client of its own,
// as an earlier run of the daemon whose sends no longer count.
func (h *harness) botMessage(chatID int64, text string) storage.MessageRef {
	h.t.Helper()
	earlier, _ := newTelegram(h.t, h.cfg, h.store, h.log, nil)
	m, err := earlier.Send(context.Background(), telegram.Out{Chat: chatID, HTML: text})
	if err != nil {
		h.t.Fatal(err)
	}
	return storage.MessageRef{ChatID: chatID, MessageID: m.ID}
}

func (h *harness) seedRoot(key string, chatID int64) storage.MessageRef {
	h.t.Helper()
	ref := h.botMessage(chatID, "root of "+key)
	if err := h.store.SetRoot(key, ref, false); err != nil {
		h.t.Fatal(err)
	}
	return ref
}

// sentMatching lists the sent messages whose text, as users read it,
// contains s.
func (h *harness) sentMatching(s string) []telegramtest.SentMessage {
	var out []telegramtest.SentMessage
	for _, m := range h.tg.Sent() {
		if textHas(s)(m) {
			out = append(out, m)
		}
	}
	return out
}

// textHas matches a message whose text, as users read it, contains s.
func textHas(s string) func(telegramtest.SentMessage) bool {
	return func(m telegramtest.SentMessage) bool { return strings.Contains(plainText(m), s) }
}

func plainText(m telegramtest.SentMessage) string {
	if m.ParseMode != "HTML" {
		return m.Text
	}
	plain, err := telegramtest.ParseHTML(m.Text)
	if err != nil {
		return m.Text
	}
	return plain
}

// TestJiraFixtures sends every real payload through the signed endpoint
// and checks the message: its words, its chat and what it replies to.
func TestJiraFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		key     string
		issueID string // Data Center comment events name only the issue id
		comment string // a comment shown earlier, which the event edits
		want    []string
	}{
		{fixture: "cloud-attachment-created.json", key: "BUG-15", want: []string{"BUG-15 New bug with hook", "📎 screenshot.png (12.1 KB)"}},
		{fixture: "cloud-comment-created.json", key: "TES-41", want: []string{"📗 TES-41 Unit test summary 1", "💬 Test User:\nAdded a comment"}},
		{fixture: "cloud-comment-updated.json", key: "TES-41", comment: "10019", want: []string{"💬 Test User (edited):\nAdded a comment, then edited it"}},
		{fixture: "cloud-comment-deleted.json", key: "KT-7", comment: "10757", want: []string{"KT-7 s", "comment by Test User deleted"}},
		{fixture: "cloud-issue-created.json", key: "TES-41", want: []string{"TES-41 Unit test summary", "created by Test User", "To Do · ⚡ High", "Unit test description, not that long"}},
		{fixture: "cloud-issue-deleted.json", key: "IDT-19", want: []string{"IDT-19 hey", "issue deleted"}},
		{fixture: "cloud-issue-updated-assignee.json", key: "TES-41", want: []string{"👤 assigned to Test User", "— Test User"}},
		{fixture: "cloud-issue-updated-unassigned.json", key: "TES-41", want: []string{"👤 unassigned"}},
		{fixture: "cloud-issue-updated-status-in-progress.json", key: "TES-41", want: []string{"🔄 To Do → In Progress"}},
		{fixture: "cloud-issue-updated-attachment-changelog.json", key: "TES-41", want: []string{"📎 test.gif", "removed test.json"}},
		{fixture: "server-comment-updated.json", key: "PRJA-7", issueID: "10013", comment: "10084", want: []string{"PRJA-7", "Lev Brouk (edited):\nand higher eeven higher"}},
		{fixture: "server-comment-deleted.json", key: "PRJA-7", issueID: "10013", comment: "10084", want: []string{"PRJA-7", "comment by Lev Brouk deleted"}},
		{fixture: "server-issue-deleted.json", key: "ZAVA-24", want: []string{"ZAVA-24 New issue", "issue deleted by Robert-John van Doesburg"}},
		{fixture: "server-issue-updated-assignee.json", key: "PRJA-37", want: []string{"✨ PRJA-37 test", "assigned to Test User"}},
		{fixture: "server-issue-updated-issue-commented.json", key: "PRJA-42", want: []string{"PRJA-42 test for notifications", "💬 Test User:\nThis is a test comment. We should act on it right away."}},
	}
	h := newHarness(t)
	for i, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			h.t = t
			chat := int64(-1002000000000 - i) // one chat each: no waits for rate limits
			root := h.seedRoot(tt.key, chat)
			// jtbot asks Jira about a security level the payload does not show.
			h.jira.SeedIssue(tt.key, cmp.Or(tt.issueID, "9"+strconv.Itoa(i)), "seeded", "")
			if tt.issueID != "" {
				if err := h.store.RememberIssueID(tt.issueID, tt.key); err != nil {
					t.Fatal(err)
				}
			}
			var shown storage.MessageRef
			if tt.comment != "" {
				shown = h.botMessage(chat, "💬 the comment as first shown")
				if err := h.store.LinkComment(tt.key, tt.comment, shown, false); err != nil {
					t.Fatal(err)
				}
			}
			if status := h.postJira(fixture(t, tt.fixture)); status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			m := h.waitSent(func(m telegramtest.SentMessage) bool {
				return m.ChatID == chat && textHas(tt.want[len(tt.want)-1])(m)
			})
			h.waitIdle()
			plain, err := telegramtest.ParseHTML(m.Text)
			if err != nil || m.ParseMode != "HTML" {
				t.Fatalf("sent %q in mode %q: %v", m.Text, m.ParseMode, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(plain, w) {
					t.Errorf("message %q lacks %q", plain, w)
				}
			}
			if m.ChatID != chat {
				t.Errorf("sent to chat %d, want %d", m.ChatID, chat)
			}
			if tt.comment != "" {
				if m.MessageID != shown.MessageID || len(m.Edits) == 0 {
					t.Errorf("edited message %d (edits %d), want the comment's message %d edited", m.MessageID, len(m.Edits), shown.MessageID)
				}
				return
			}
			if m.ReplyTo != root.MessageID {
				t.Errorf("replies to %d, want the root %d", m.ReplyTo, root.MessageID)
			}
			if !strings.Contains(m.Text, `<a href="`+h.jira.URL+`/browse/`+tt.key+`">`) {
				t.Errorf("message %q does not link %s", m.Text, tt.key)
			}
		})
	}
}

// An issue of a mapped project without a root gets one: its first
// notification, which later ones reply to.
func TestJiraNewRoot(t *testing.T) {
	h := newHarness(t, "CHAT_PROJECTS="+strconv.FormatInt(testGroupID, 10)+":TES")
	h.postJira(fixture(t, "cloud-issue-created.json"))
	first := h.waitSent(textHas("created by Test User"))
	if first.ChatID != testGroupID || first.ReplyTo != 0 {
		t.Fatalf("first notification in chat %d replying to %d, want a new message in %d", first.ChatID, first.ReplyTo, testGroupID)
	}
	h.waitIdle()
	root, err := h.store.Root("TES-41")
	if err != nil || root.MessageID != first.MessageID {
		t.Fatalf("root = %+v, %v; want message %d", root, err, first.MessageID)
	}
	if status := h.postJira(fixture(t, "cloud-issue-updated-status-in-progress.json")); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	next := h.waitSent(textHas("To Do → In Progress"))
	if next.ChatID != testGroupID || next.ReplyTo != first.MessageID {
		t.Errorf("update in chat %d replying to %d, want a reply to %d", next.ChatID, next.ReplyTo, first.MessageID)
	}
	// A reply to the notification belongs to the issue.
	if link, err := h.store.MessageLink(testGroupID, next.MessageID); err != nil && link.Issue != "" {
		t.Errorf("link = %+v, %v", link, err)
	}
}

// Events about issues of unmapped projects, without a root or watchers,
// go nowhere.
func TestJiraUnplacedIgnored(t *testing.T) {
	h := newHarness(t)
	before := len(h.tg.Sent())
	h.postJira(fixture(t, "cloud-issue-updated-status-in-progress.json"))
	h.waitIdle()
	if n := len(h.tg.Sent()); n != before {
		t.Errorf("sent %d messages for an unplaced issue", n-before)
	}
	if q, dead := h.store.Depth(); q != 0 || dead != 0 {
		t.Errorf("queue %d, dead %d", q, dead)
	}
}

// A Data Center comment event names its issue only by id; jtbot asks Jira
// for the key and remembers it.
func TestJiraDataCenterCommentByID(t *testing.T) {
	h := newHarness(t)
	is, err := h.jira.As(testJane).CreateIssue("OPS", "Task", "Printer on fire", "")
	if err != nil {
		t.Fatal(err)
	}
	root := h.waitSent(textHas("Printer on fire"))
	h.waitIdle()
	body := string(fixture(t, "server-comment-updated.json"))
	body = strings.ReplaceAll(body, "/issue/10013/comment/", "/issue/"+is.ID+"/comment/")
	body = strings.Replace(body, `"comment_updated"`, `"comment_created"`, 1)
	if status := h.postJira([]byte(body)); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	m := h.waitSent(textHas("Lev Brouk:\nand higher eeven higher"))
	if m.ChatID != testChannelID || m.ReplyTo != root.MessageID {
		t.Errorf("comment in chat %d replying to %d, want %d under %d", m.ChatID, m.ReplyTo, testChannelID, root.MessageID)
	}
	if !strings.Contains(m.Text, "Printer on fire") {
		t.Errorf("header %q lacks the summary read from Jira", m.Text)
	}
	if key, err := h.store.IssueKeyByID(is.ID); err != nil || key != is.Key {
		t.Errorf("IssueKeyByID = %q, %v", key, err)
	}
}

func TestJiraUnknownEvent(t *testing.T) {
	h := newHarness(t)
	status := h.postJira([]byte(`{"webhookEvent":"worklog_created","worklog":{"issueId":"10040"}}`))
	if status != http.StatusAccepted {
		t.Errorf("status %d, want 202", status)
	}
	if !strings.Contains(h.logText(), "event ignored") {
		t.Errorf("no log line for the ignored event:\n%s", h.logText())
	}
	if q, _ := h.store.Depth(); q != 0 {
		t.Errorf("queued %d items", q)
	}
}

// Nothing jtbot wrote from Telegram comes back: matched by stored ids (and
// jtbot's own Jira account), not by names.
// What jtbot wrote itself is recognised by the ids and values it stored,
// never by author.
func TestJiraNoEcho(t *testing.T) {
	h := newHarness(t)
	chat := testGroupID
	ref := h.botMessage(chat, "post")
	if err := h.store.SetRoot("TES-41", ref, true); err != nil {
		t.Fatal(err)
	}
	reply := h.botMessage(chat, "a reply that became comment 10019")
	if err := h.store.LinkComment("TES-41", "10019", reply, true); err != nil {
		t.Fatal(err)
	}
	before := len(h.tg.Sent())
	for _, f := range []string{"cloud-issue-created.json", "cloud-comment-created.json", "cloud-comment-updated.json"} {
		if status := h.postJira(fixture(t, f)); status != http.StatusOK {
			t.Fatalf("%s: status %d", f, status)
		}
	}
	h.seedRoot("PRJA-42", chat)
	before++
	// jtbot's own summary edit, following an edited post: recognised by
	// the value jtbot recorded before writing it, whoever Jira names.
	if err := h.bot.rememberOwnEdit("TES-41", "summary", "In Progress"); err != nil {
		t.Fatal(err)
	}
	edit := strings.NewReplacer(`"accountId": "5c5f880629be9642ba529340"`, `"accountId": "bot-account"`, `"field": "status"`, `"field": "summary"`).
		Replace(string(fixture(t, "cloud-issue-updated-status-in-progress.json")))
	h.postJira([]byte(edit))
	h.waitIdle()
	sent := h.tg.Sent()
	for _, m := range sent[before:] {
		t.Errorf("echoed: %q", m.Text)
	}
	for _, m := range sent {
		if len(m.Edits) > 0 {
			t.Errorf("edited jtbot's own comment message: %q", m.Text)
		}
	}
	// The same events by people do show.
	h.jira.SeedIssue("PRJA-42", "10042", "seeded", "")
	h.postJira(fixture(t, "server-issue-updated-issue-commented.json"))
	h.waitSent(textHas("This is a test comment"))
}

// The same delivery (same X-Atlassian-Webhook-Identifier, or the same body
// without one) is handled once.
func TestJiraDeliveredOnce(t *testing.T) {
	h := newHarness(t)
	h.seedRoot("TES-41", testGroupID)
	post := func(body []byte, id string) {
		req, _ := http.NewRequest("POST", h.hooks.URL+"/webhook/jira/", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature", jiratest.Signature(testJiraSecret, body))
		if id != "" {
			req.Header.Set("X-Atlassian-Webhook-Identifier", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	status := fixture(t, "cloud-issue-updated-status-in-progress.json")
	post(status, "delivery-1")
	post(append([]byte(" "), status...), "delivery-1") // a retry may differ in bytes, not in id
	assign := fixture(t, "cloud-issue-updated-assignee.json")
	post(assign, "")
	post(assign, "")
	h.waitSent(textHas("assigned to"))
	h.waitIdle()
	if n := len(h.sentMatching("In Progress")); n != 1 {
		t.Errorf("%d status messages, want 1", n)
	}
	if n := len(h.sentMatching("assigned to")); n != 1 {
		t.Errorf("%d assignee messages, want 1", n)
	}
}

// Real Jira reports a comment twice and a Cloud attachment twice; each
// shows once, whether the two reports share a batch or not.
func TestJiraTwinEventsShownOnce(t *testing.T) {
	for _, window := range []string{"0", "300ms"} {
		t.Run("window "+window, func(t *testing.T) {
			h := newHarness(t, "COALESCE_WINDOW="+window)
			jane := h.jira.As(testJane)
			is, err := jane.CreateIssue("OPS", "Bug", "Fan noise", "")
			if err != nil {
				t.Fatal(err)
			}
			h.waitSent(textHas("Fan noise"))
			c, err := jane.Comment(is.Key, "It *hums*, ask [~accountid:acc-jane]")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jane.Attach(is.Key, "noise.wav", bytes.Repeat([]byte{1}, 2048)); err != nil {
				t.Fatal(err)
			}
			if !h.jira.WaitFor(waitTime, func() bool { return len(h.jira.Deliveries()) >= 5 }) {
				t.Fatalf("deliveries: %+v", h.jira.Deliveries())
			}
			h.waitSent(textHas("noise.wav"))
			h.waitIdle()
			comments := h.sentMatching("It hums, ask @Jane Jira")
			if len(comments) != 1 {
				t.Fatalf("%d messages show the comment, want 1; sent %+v", len(comments), h.tg.Sent())
			}
			if files := h.sentMatching("noise.wav"); len(files) != 1 || !strings.Contains(files[0].Text, "2.0 KB") {
				t.Errorf("attachment messages: %+v, want one with its size", files)
			}
			link, err := h.store.Comment(is.Key, c.ID)
			if err != nil || link.MessageID != comments[0].MessageID {
				t.Errorf("comment link = %+v, %v; want message %d", link, err, comments[0].MessageID)
			}
			// An edit in Jira (reported twice as well) edits that message.
			if err := jane.EditComment(is.Key, c.ID, "It rattles"); err != nil {
				t.Fatal(err)
			}
			h.waitSent(func(m telegramtest.SentMessage) bool {
				return m.MessageID == comments[0].MessageID && strings.Contains(m.Text, "It rattles")
			})
		})
	}
}

func TestJiraWatchersGetDMs(t *testing.T) {
	// TES is the project of the group, which Alice and Bob are in; PRJA is
	// JIRA_PROJECT: both are their projects in DMs.
	h := newHarness(t, "JIRA_PROJECT=PRJA")
	if err := h.store.SetChatProject(testGroupID, "TES"); err != nil {
		t.Fatal(err)
	}
	root := h.seedRoot("TES-41", testGroupID)
	bob := telegramtest.User{ID: 502, FirstName: "Bob"}
	h.tg.AddChat(telegramtest.Chat{ID: testAlice.ID, Type: "private", FirstName: "Alice"})
	h.tg.AddChat(telegramtest.Chat{ID: bob.ID, Type: "private", FirstName: "Bob"})
	for _, u := range []int64{testAlice.ID, bob.ID} {
		if err := h.store.Watch("TES-41", u); err != nil {
			t.Fatal(err)
		}
	}
	h.tg.SetChatMember(testGroupID, testAlice.ID, "member")
	h.tg.SetChatMember(testGroupID, bob.ID, "member")
	h.tg.SetChatError(bob.ID, 403, "Forbidden: bot was blocked by the user")
	h.postJira(fixture(t, "cloud-issue-updated-status-in-progress.json"))
	dm := h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == testAlice.ID })
	if !strings.Contains(dm.Text, "To Do → <b>In Progress</b>") || !strings.Contains(dm.Text, "TES-41") {
		t.Errorf("DM %q", dm.Text)
	}
	group := h.waitSent(textHas("In Progress"))
	if group.ChatID != testGroupID || group.ReplyTo != root.MessageID {
		t.Errorf("chat message in %d replying to %d", group.ChatID, group.ReplyTo)
	}
	h.waitIdle()
	if q, dead := h.store.Depth(); q != 0 || dead != 0 {
		t.Errorf("a blocked watcher left queue %d, dead %d", q, dead)
	}
	if !strings.Contains(h.logText(), "watcher DM dropped") {
		t.Errorf("no log line for the blocked watcher:\n%s", h.logText())
	}
	// Watchers get DMs even for issues with no place in any chat.
	h.jira.SeedIssue("PRJA-37", "10037", "seeded", "") // its payload shows no security field
	if err := h.store.Watch("PRJA-37", testAlice.ID); err != nil {
		t.Fatal(err)
	}
	h.postJira(fixture(t, "server-issue-updated-assignee.json"))
	h.waitSent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == testAlice.ID && strings.Contains(m.Text, "PRJA-37")
	})
}

// HTML Telegram refuses after all is sent again as plain text.
func TestJiraRefusedHTMLSentPlain(t *testing.T) {
	h := newHarness(t)
	h.seedRoot("TES-41", testGroupID)
	h.tg.FailNext("sendMessage", 1, 400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3", 0)
	h.postJira(fixture(t, "cloud-issue-updated-status-in-progress.json"))
	m := h.waitSent(textHas("In Progress"))
	if m.ParseMode != "" || strings.Contains(m.Text, "<") || !strings.Contains(m.Text, "To Do → In Progress") {
		t.Errorf("resent %q in mode %q, want plain text", m.Text, m.ParseMode)
	}
	h.waitIdle()
}

// jtbot's Jira account may be a real person's (the README allows it): what
// that person writes in Jira, which jtbot never stored, reaches Telegram.
func TestBotAccountsOwnJiraWorkIsShown(t *testing.T) {
	h := newHarness(t)
	key := h.newIssue("Disk full")
	me := h.jira.As(h.jira.Me())
	if _, err := me.Comment(key, "done by hand in Jira"); err != nil {
		t.Fatal(err)
	}
	h.waitSent(func(m telegramtest.SentMessage) bool { return strings.Contains(m.Text, "done by hand in Jira") })
}
