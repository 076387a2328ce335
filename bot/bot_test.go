package bot

import (
	"strings"
	"testing"

	"github.com/jtbot/jtbot/telegram/telegramtest"
)

func TestChannelPostBecomesIssueAndReplyAComment(t *testing.T) {
	h := newHarness(t)
	post := h.tg.ChannelPost(testChannel, "Build is red\nSince commit abc.")
	h.tg.Push(post)
	answer := h.waitSent(func(m telegramtest.SentMessage) bool { return m.ReplyTo == messageID(post) })
	if !strings.Contains(answer.Text, "OPS-1") {
		t.Errorf("answer = %q", answer.Text)
	}
	// A reply to the bot's answer also becomes a comment.
	h.tg.Push(h.tg.GroupMessage(telegramtest.Chat{ID: testChannelID, Type: "supergroup"}, testAlice, "on it", answer.MessageID))
	if !h.jira.WaitFor(waitTime, func() bool { is, _ := h.jira.Issue("OPS-1"); return len(is.Comments) == 1 }) {
		t.Fatalf("no comment\n%s", h.logText())
	}
}
