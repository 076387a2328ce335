package bot

import (
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// aliceJira is Alice's own Jira account.
var aliceJira = jiratest.User{AccountID: "acc-alice", Name: "alice", DisplayName: "Alice Jira"}

// replyInGroup replies in the group to a message, as a person would.
func (h *harness) replyInGroup(u telegramtest.User, text string, to int) {
	h.t.Helper()
	h.tg.Push(h.tg.GroupMessage(testGroup, u, text, to))
}

func TestRepliesOfConnectedPeopleAreTheirs(t *testing.T) {
	h := newHarness(t)
	h.jira.AddUser(aliceJira)
	key := h.newIssue("Disk full")
	root := h.seedRoot(key, testGroupID)
	h.connect(testAlice, aliceJira)

	h.replyInGroup(testAlice, "on it", root.MessageID)
	is := h.waitComments(key, 1)
	if c := is.Comments[0]; c.Author.AccountID != aliceJira.AccountID || strings.Contains(c.Body, "via Telegram") {
		t.Errorf("comment by %+v: %q", c.Author, c.Body)
	}

	// Alice revokes her token in Jira: her next reply still becomes a
	// comment, by the bot's account with attribution, and she is told once.
	h.jira.RevokeTokens(aliceJira)
	h.replyInGroup(testAlice, "still on it", root.MessageID)
	is = h.waitComments(key, 2)
	if c := is.Comments[1]; c.Author.AccountID == aliceJira.AccountID || !strings.Contains(c.Body, "Alice Liddell (@alice) via Telegram") {
		t.Errorf("fallback comment by %+v: %q", c.Author, c.Body)
	}
	h.waitSent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == testAlice.ID && strings.Contains(m.Text, "expired")
	})
	if a, err := h.store.Account(testAlice.ID); err != nil || !a.NeedsReconnect {
		t.Errorf("account not marked: %v %v", a.NeedsReconnect, err)
	}
	wantText(t, h.ask(testAlice, "/issue "+key), "connection expired", "/connect")
	h.replyInGroup(testAlice, "done", root.MessageID)
	h.waitComments(key, 3)
	h.waitIdle()
	if n := len(h.sentMatching("Your Jira connection expired")); n != 2 { // the DM, and the answer to /issue
		t.Errorf("%d expiry messages, want the DM and the answer", n)
	}
	if n := dmsTo(h, testAlice.ID, "expired or was revoked"); n != 2 {
		t.Errorf("told %d times", n)
	}
}

func dmsTo(h *harness, chat int64, s string) int {
	n := 0
	for _, m := range h.tg.SentTo(chat) {
		if strings.Contains(m.Text, s) {
			n++
		}
	}
	return n
}

func TestConnectedDMReachesWhatJiraAllows(t *testing.T) {
	h := newHarness(t)
	h.jira.AddProject("HR", "People")
	h.jira.AddUser(aliceJira)
	hr, err := h.jira.As(testJane).CreateIssue("HR", "Task", "Salaries", "")
	if err != nil {
		t.Fatal(err)
	}
	// Without an account, HR is outside Alice's DM scope.
	wantText(t, h.ask(testAlice, "/issue "+hr.Key), "is not in your projects")
	h.connect(testAlice, aliceJira)
	wantText(t, h.ask(testAlice, "/issue "+hr.Key), "Salaries")
	h.jira.DenyProject(aliceJira, "HR")
	wantText(t, h.ask(testAlice, "/issue "+hr.Key), hr.Key+" not found")
	// In the group, the chat's scope still applies.
	wantText(t, h.askGroup(testGroup, testAlice, "/issue "+hr.Key), "not in this chat's projects")
}

func TestPersonalNotifications(t *testing.T) {
	h := newHarness(t)
	h.jira.AddProject("HR", "People")
	h.jira.AddUser(aliceJira)
	h.connect(testAlice, aliceJira)
	jane := h.jira.As(testJane)
	dm := func(s string) telegramtest.SentMessage {
		t.Helper()
		return h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == testAlice.ID && strings.Contains(m.Text, s) })
	}

	// Her own actions: nothing. (Asserted at the end, once later DMs prove
	// the events were handled.)
	own := h.newIssue("Her own")
	if err := h.jira.As(aliceJira).Assign(own, &aliceJira); err != nil {
		t.Fatal(err)
	}
	if _, err := h.jira.As(aliceJira).Comment(own, "note to self [~accountid:acc-alice]"); err != nil {
		t.Fatal(err)
	}

	key := h.newIssue("Disk full")
	if err := jane.Assign(key, &aliceJira); err != nil {
		t.Fatal(err)
	}
	dm("assigned")
	if _, err := jane.Comment(key, "[~accountid:acc-alice] can you look?"); err != nil {
		t.Fatal(err)
	}
	dm("mentioned you")

	watched := h.newIssue("Printer jam")
	if err := h.jira.AddWatcher(watched, aliceJira); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.Comment(watched, "toner ordered"); err != nil {
		t.Fatal(err)
	}
	dm("toner ordered")

	// HR is hidden from Alice in Jira: nothing about it reaches her.
	h.jira.DenyProject(aliceJira, "HR")
	hr, err := jane.CreateIssue("HR", "Task", "Salaries", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := jane.Assign(hr.Key, &aliceJira); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.Comment(hr.Key, "[~accountid:acc-alice] secret"); err != nil {
		t.Fatal(err)
	}
	// A later DM proves the HR events were handled before it.
	if _, err := jane.Comment(watched, "toner arrived"); err != nil {
		t.Fatal(err)
	}
	dm("toner arrived")
	h.waitIdle()
	for _, m := range h.tg.SentTo(testAlice.ID) {
		if strings.Contains(m.Text, "Salaries") || strings.Contains(m.Text, "secret") || strings.Contains(m.Text, "Her own") {
			t.Errorf("DM %q", m.Text)
		}
	}

	// /notify turns a kind off.
	menu := h.ask(testAlice, "/notify")
	got := h.press(testAlice, menu, findButton(t, menu, "issues I report or watch").Data)
	if got.Text != "Off" {
		t.Errorf("toggle answered %+v", got)
	}
	if a, _ := h.store.Account(testAlice.ID); notifyOn(a, notifyWatching) {
		t.Error("still on")
	}
}
