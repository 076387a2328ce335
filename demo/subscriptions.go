package main

import (
	"errors"
	"strings"

	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// The subscription scene: an admin sends OPS's bugs, and nothing else,
// into a second group. The channel, OPS's own chat, still gets everything.

var (
	ada  = telegramtest.User{ID: 700, FirstName: "Ada", Username: "ada"}
	bugs = telegramtest.Chat{ID: -1001000000003, Type: "supergroup", Title: "Bug triage"}
)

// adminEnv makes Ada a jtbot admin (ADMIN_USERS takes numeric IDs only).
func adminEnv() []string { return []string{"ADMIN_USERS=700"} }

func (d *demo) subscriptionScene() error {
	d.say("\n── A filtered subscription ──")
	d.tg.AddChat(bugs)
	cmd := "/subscribe OPS type:Bug"
	d.say("🛠 Ada (admin) in %q: %s", bugs.Title, cmd)
	up := d.tg.GroupMessage(bugs, ada, cmd, 0)
	d.tg.Push(up)
	id := up["message"].(map[string]any)["message_id"].(int)
	answer, err := d.sent(func(m telegramtest.SentMessage) bool { return m.ChatID == bugs.ID && m.ReplyTo == id })
	if err != nil {
		return err
	}
	d.say("🤖 bot answers: %s", answer.Text)

	jane := d.jira.As(jane)
	d.say("🟦 Jane files a Task \"Order toner\" and a Bug \"Login page returns 500\" in OPS")
	if _, err := jane.CreateIssue("OPS", "Task", "Order toner", ""); err != nil {
		return err
	}
	if _, err := jane.CreateIssue("OPS", "Bug", "Login page returns 500", ""); err != nil {
		return err
	}
	bug, err := d.sent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == bugs.ID && strings.Contains(m.Text, "Login page")
	})
	if err != nil {
		return err
	}
	if _, err := d.sent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == channel.ID && strings.Contains(m.Text, "Login page")
	}); err != nil {
		return err
	}
	d.say("🤖 bot posts in %q:\n%s", bugs.Title, indent(bug.Text))
	for _, m := range d.tg.SentTo(bugs.ID) {
		if strings.Contains(m.Text, "Order toner") {
			return errors.New("the bug subscription delivered a Task")
		}
	}
	d.say("✔ the Task went to %q only; %q got just the bug", channel.Title, bugs.Title)
	return nil
}
