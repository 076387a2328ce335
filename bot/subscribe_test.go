package bot

import (
	"strings"
	"testing"

	"github.com/jtbot/jtbot/telegram/telegramtest"
)

var (
	subsAdmin = telegramtest.User{ID: 700, FirstName: "Ada", Username: "ada"}
	bugsGroup = telegramtest.Chat{ID: -1004000000001, Type: "supergroup", Title: "Bugs"}
	forum     = telegramtest.Chat{ID: -1004000000002, Type: "supergroup", Title: "Releases", IsForum: true}
	jqlGroup  = telegramtest.Chat{ID: -1004000000003, Type: "supergroup", Title: "Release train"}
)

const releaseTopic = 55

// askTopic sends text in a forum topic and waits for the answer.
func (h *harness) askTopic(chat telegramtest.Chat, u telegramtest.User, thread int, text string) telegramtest.SentMessage {
	h.t.Helper()
	up := h.tg.GroupMessage(chat, u, text, 0)
	m := inner(up)
	m["message_thread_id"], m["is_topic_message"] = thread, true
	h.tg.Push(up)
	return h.answerTo(chat.ID, idOf(up))
}

// Two chats subscribed to one project with different filters each get
// exactly their events, threaded under their own roots; a topic's
// subscription delivers into the topic; JQL is Jira's to answer; a
// removed subscription delivers nothing more.
func TestSubscriptionsRouteFilteredEvents(t *testing.T) {
	h := newHarness(t, "ADMIN_USERS=700")
	for _, c := range []telegramtest.Chat{bugsGroup, forum, jqlGroup} {
		h.tg.AddChat(c)
	}
	wantText(t, h.askGroup(bugsGroup, subsAdmin, "/subscribe OPS type:Bug"), "#1 OPS · type Bug")
	wantText(t, h.askTopic(forum, subsAdmin, releaseTopic, "/subscribe OPS events:status"), "#2 OPS", "status changes", "this topic")
	wantText(t, h.askGroup(jqlGroup, subsAdmin, `/subscribe OPS jql:"labels = release"`), "#3 OPS")
	// Bad input: one line, nothing stored.
	wantText(t, h.askGroup(jqlGroup, subsAdmin, "/subscribe OPS flavour:x"), "flavour")
	wantText(t, h.askGroup(jqlGroup, subsAdmin, `/subscribe OPS jql:"colour = red"`), "Jira refuses that JQL", "colour")
	wantText(t, h.askGroup(jqlGroup, testAlice, "/subscribe OPS"), "Only admins")
	if subs, _ := h.store.Subscriptions(); len(subs) != 3 {
		t.Fatalf("%d subscriptions stored, want 3", len(subs))
	}

	jane := h.jira.As(testJane)
	bug, err := jane.CreateIssue("OPS", "Bug", "Login fails", "")
	if err != nil {
		t.Fatal(err)
	}
	task, err := jane.CreateIssue("OPS", "Task", "Rotate logs", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := jane.Transition(bug.Key, "In Progress"); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.Comment(task.Key, "rotated"); err != nil {
		t.Fatal(err)
	}
	if err := jane.Edit(task.Key, map[string]any{"labels": []string{"release"}}); err != nil {
		t.Fatal(err)
	}
	// The channel, the issues' own chat, sees everything: wait for its last news.
	h.waitSent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == testChannelID && strings.Contains(m.Text, "changed: labels")
	})
	h.waitIdle()

	bugs := h.news(bugsGroup.ID)
	if len(bugs) != 2 || !strings.Contains(bugs[0].Text, "Login fails") || !strings.Contains(bugs[1].Text, "In Progress") {
		t.Fatalf("the Bug group got %d messages: %+v", len(bugs), texts(bugs))
	}
	if bugs[1].ReplyTo != bugs[0].MessageID {
		t.Errorf("the Bug group's second message replies to %d, not to its own root %d", bugs[1].ReplyTo, bugs[0].MessageID)
	}
	topic := h.news(forum.ID)
	if len(topic) != 1 || topic[0].ThreadID != releaseTopic || !strings.Contains(topic[0].Text, "In Progress") || !strings.Contains(topic[0].Text, bug.Key) {
		t.Fatalf("the topic got %+v", texts(topic))
	}
	// Jira answers the JQL for the issue as it is when the news goes out.
	train := h.news(jqlGroup.ID)
	if len(train) == 0 || !strings.Contains(train[len(train)-1].Text, task.Key) {
		t.Errorf("the JQL group got %q", texts(train))
	}
	for _, m := range train {
		if strings.Contains(m.Text, bug.Key) {
			t.Errorf("the JQL group got the unlabelled bug: %q", m.Text)
		}
	}

	// /subscriptions lists them with a Remove button; a press removes.
	list := h.askGroup(bugsGroup, subsAdmin, "/subscriptions")
	wantText(t, list, "#1 OPS · type Bug")
	if got := h.press(subsAdmin, list, findButton(t, list, "Remove #1").Data); got.Alert {
		t.Fatalf("remove: %+v", got)
	}
	before := len(h.news(bugsGroup.ID))
	if _, err := jane.Comment(bug.Key, "fixed"); err != nil {
		t.Fatal(err)
	}
	h.waitSent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == testChannelID && strings.Contains(m.Text, "fixed")
	})
	h.waitIdle()
	if after := h.news(bugsGroup.ID); len(after) != before {
		t.Errorf("a removed subscription still delivered: %q", after[len(after)-1].Text)
	}
}

// news are the messages about issues sent to a chat (not answers).
func (h *harness) news(chat int64) []telegramtest.SentMessage {
	var out []telegramtest.SentMessage
	for _, m := range h.tg.SentTo(chat) {
		if strings.Contains(m.Text, "/browse/OPS-") && !strings.HasPrefix(m.Text, "🔔") {
			out = append(out, m)
		}
	}
	return out
}

func texts(ms []telegramtest.SentMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

// In a DM an admin names the chat; bad input gets one line and stores
// nothing.
func TestSubscribeFromADirectMessage(t *testing.T) {
	h := newHarness(t, "ADMIN_USERS=700")
	news := telegramtest.Chat{ID: -1004000000009, Type: "channel", Title: "Releases", Username: "releases"}
	h.tg.AddChat(news)
	h.tg.AddChat(telegramtest.Chat{ID: subsAdmin.ID, Type: "private", FirstName: "Ada"})
	wantText(t, h.ask(subsAdmin, "/subscribe @releases OPS events:comment"), "#1 OPS", "comments", "→ @releases")
	for text, want := range map[string]string{
		"/subscribe OPS":                  "name the chat first",
		"/subscribe @nowhere OPS":         "I cannot see @nowhere",
		"/subscribe @releases NOPE":       "NOPE not found",
		"/subscribe @releases OPS type":   "type",
		`/subscribe @releases OPS jql:"x`: "jql",
	} {
		wantText(t, h.ask(subsAdmin, text), want)
	}
	subs, err := h.store.Subscriptions()
	if err != nil || len(subs) != 1 || subs[0].Chat != news.ID || subs[0].Thread != 0 {
		t.Fatalf("stored %+v, %v", subs, err)
	}
	key := h.newIssue("Release 1.2")
	if _, err := h.jira.As(testJane).Comment(key, "tagged"); err != nil {
		t.Fatal(err)
	}
	m := h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == news.ID })
	if !strings.Contains(m.Text, "tagged") || strings.Contains(m.Text, "created by") {
		t.Errorf("the channel got %q, want the comment alone", m.Text)
	}
}

// A chat's own Telegram admin may read its subscriptions, not change them;
// others may not even read them.
func TestSubscriptionsListForChatAdmins(t *testing.T) {
	h := newHarness(t, "ADMIN_USERS=700", "ALLOWED_USERS=*")
	h.tg.AddChat(bugsGroup)
	wantText(t, h.askGroup(bugsGroup, subsAdmin, "/subscribe OPS priority:Highest"), "#1 OPS · priority Highest")
	owner := telegramtest.User{ID: 810, FirstName: "Olga"}
	h.tg.SetChatMember(bugsGroup.ID, owner.ID, "administrator")
	list := h.askGroup(bugsGroup, owner, "/subscriptions")
	wantText(t, list, "#1 OPS · priority Highest")
	if got := h.press(owner, list, findButton(t, list, "Remove #1").Data); !got.Alert || !strings.Contains(got.Text, "Only jtbot's admins") {
		t.Errorf("a chat admin's press: %+v", got)
	}
	if subs, _ := h.store.Subscriptions(); len(subs) != 1 {
		t.Errorf("%d subscriptions left, want 1", len(subs))
	}
	wantText(t, h.askGroup(bugsGroup, testAlice, "/unsubscribe 1"), "Only admins")
	up := h.tg.GroupMessage(bugsGroup, testBob, "/subscriptions", 0)
	h.tg.Push(up)
	h.waitIdle()
	for _, m := range h.tg.SentTo(bugsGroup.ID) {
		if m.ReplyTo == idOf(up) && strings.Contains(m.Text, "#1") {
			t.Errorf("a member who is no admin read the subscriptions: %q", m.Text)
		}
	}
}

// A chat that removed the bot loses its subscriptions, said in the log;
// the other chats still get their news.
func TestKickedChatLosesItsSubscriptions(t *testing.T) {
	h := newHarness(t, "ADMIN_USERS=700")
	h.tg.AddChat(bugsGroup)
	wantText(t, h.askGroup(bugsGroup, subsAdmin, "/subscribe OPS"), "#1 OPS")
	h.tg.SetChatError(bugsGroup.ID, 403, "Forbidden: bot was kicked from the supergroup chat")
	key := h.newIssue("Fan noise")
	h.waitSent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == testChannelID && strings.Contains(m.Text, key)
	})
	h.waitIdle()
	if subs, _ := h.store.Subscriptions(); len(subs) != 0 {
		t.Errorf("subscriptions left: %+v", subs)
	}
	if !strings.Contains(h.logText(), "its mapping and subscriptions are removed") || !strings.Contains(h.logText(), "subscriptions_removed=1") {
		t.Errorf("no log line says so:\n%s", h.logText())
	}
	if q, dead := h.store.Depth(); q != 0 || dead != 0 {
		t.Errorf("queue %d, dead %d", q, dead)
	}
}
