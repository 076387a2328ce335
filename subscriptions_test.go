package main

import (
	"strings"
	"testing"

	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// Through the daemon: an admin subscribes a group to OPS bugs, jtbot
// restarts, and the group still gets exactly its events, under its own
// root, while the channel (OPS's own chat) gets everything.
func TestSubscriptionSurvivesRestart(t *testing.T) {
	w := newWorld(t)
	admin := telegramtest.User{ID: 700, FirstName: "Ada"}
	bugs := telegramtest.Chat{ID: -1004000000001, Type: "supergroup", Title: "Bugs"}
	w.tg.AddChat(bugs)
	d := w.start(t, false, "ADMIN_USERS=700")
	up := w.tg.GroupMessage(bugs, admin, "/subscribe OPS type:Bug events:created,comment", 0)
	w.tg.Push(up)
	w.waitSent(t, func(m telegramtest.SentMessage) bool {
		return m.ChatID == bugs.ID && strings.Contains(m.Text, "#1 OPS · type Bug")
	})
	d.stop()
	w.start(t, false, "ADMIN_USERS=700")

	jane := w.jira.As(jane)
	bug, err := jane.CreateIssue("OPS", "Bug", "Printer on fire", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := jane.Transition(bug.Key, "In Progress"); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.Comment(bug.Key, "extinguished"); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.CreateIssue("OPS", "Task", "Buy toner", ""); err != nil {
		t.Fatal(err)
	}
	w.waitSent(t, func(m telegramtest.SentMessage) bool {
		return m.ChatID == channelID && strings.Contains(m.Text, "Buy toner")
	})
	w.waitSent(t, func(m telegramtest.SentMessage) bool {
		return m.ChatID == bugs.ID && strings.Contains(m.Text, "extinguished")
	})
	// Events inside COALESCE_WINDOW may share a message; later ones reply
	// to the group's own first message of the issue.
	var news []telegramtest.SentMessage
	for _, m := range w.tg.SentTo(bugs.ID) {
		if strings.Contains(m.Text, "/browse/") && !strings.HasPrefix(m.Text, "🔔") {
			news = append(news, m)
		}
	}
	if len(news) == 0 || !strings.Contains(news[0].Text, "Printer on fire") || news[0].ReplyTo != 0 {
		t.Fatalf("the Bugs group got %+v", news)
	}
	for _, m := range news[1:] {
		if m.ReplyTo != news[0].MessageID {
			t.Errorf("%q replies to %d, not to the group's root %d", m.Text, m.ReplyTo, news[0].MessageID)
		}
	}
	for _, m := range news {
		if strings.Contains(m.Text, "In Progress") || strings.Contains(m.Text, "Buy toner") {
			t.Errorf("the Bugs group got an event it did not subscribe to: %q", m.Text)
		}
	}
}
