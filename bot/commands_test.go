package bot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

var testBob = telegramtest.User{ID: 777, FirstName: "Bob", Username: "bob"}

// ask sends text to the bot in a private chat and waits for the answer.
func (h *harness) ask(u telegramtest.User, text string) telegramtest.SentMessage {
	h.t.Helper()
	up := h.tg.PrivateMessage(u, text)
	h.tg.Push(up)
	id := messageID(up)
	return h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == u.ID && m.ReplyTo == id })
}

// askGroup sends text in a group and waits for the answer.
func (h *harness) askGroup(chat telegramtest.Chat, u telegramtest.User, text string) telegramtest.SentMessage {
	h.t.Helper()
	up := h.tg.GroupMessage(chat, u, text, 0)
	h.tg.Push(up)
	id := messageID(up)
	return h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == chat.ID && m.ReplyTo == id })
}

// pressed is how the bot answered a button press.
type pressed struct {
	Text  string
	Alert bool
}

// press presses a button of a message and waits for answerCallbackQuery.
func (h *harness) press(u telegramtest.User, m telegramtest.SentMessage, data string) pressed {
	h.t.Helper()
	up := h.tg.CallbackQuery(u, m.ChatID, m.MessageID, data)
	id := up["callback_query"].(map[string]any)["id"].(string)
	h.tg.Push(up)
	var got pressed
	if !h.tg.WaitFor(waitTime, func() bool {
		for _, c := range h.tg.Calls() {
			if c.Method == "answerCallbackQuery" && c.Params["callback_query_id"] == id {
				got = pressed{Text: c.Params["text"], Alert: c.Params["show_alert"] == "true"}
				return true
			}
		}
		return false
	}) {
		h.t.Fatalf("press %q never answered\n%s", data, h.logText())
	}
	return got
}

// message returns the current state of a sent message.
func (h *harness) message(chatID int64, id int) telegramtest.SentMessage {
	h.t.Helper()
	for _, m := range h.tg.SentTo(chatID) {
		if m.MessageID == id {
			return m
		}
	}
	h.t.Fatalf("no message %d in chat %d", id, chatID)
	return telegramtest.SentMessage{}
}

// waitEdited waits until a sent message has been edited n times.
func (h *harness) waitEdited(m telegramtest.SentMessage, n int) telegramtest.SentMessage {
	h.t.Helper()
	if !h.tg.WaitFor(waitTime, func() bool { return len(h.message(m.ChatID, m.MessageID).Edits) >= n }) {
		h.t.Fatalf("message never edited\n%s", h.logText())
	}
	return h.message(m.ChatID, m.MessageID)
}

type testButton struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
	URL  string `json:"url"`
}

func buttons(t *testing.T, m telegramtest.SentMessage) []testButton {
	t.Helper()
	if m.ReplyMarkup == nil {
		return nil
	}
	var kb struct {
		Rows [][]testButton `json:"inline_keyboard"`
	}
	if err := json.Unmarshal(m.ReplyMarkup, &kb); err != nil {
		t.Fatalf("markup %s: %v", m.ReplyMarkup, err)
	}
	var out []testButton
	for _, r := range kb.Rows {
		out = append(out, r...)
	}
	return out
}

func findButton(t *testing.T, m telegramtest.SentMessage, text string) testButton {
	t.Helper()
	for _, b := range buttons(t, m) {
		if strings.Contains(b.Text, text) {
			return b
		}
	}
	t.Fatalf("no button %q in %s", text, m.ReplyMarkup)
	return testButton{}
}

func plain(t *testing.T, m telegramtest.SentMessage) string {
	t.Helper()
	text, err := telegramtest.ParseHTML(m.Text)
	if err != nil {
		t.Fatalf("bad HTML %q: %v", m.Text, err)
	}
	return text
}

func wantText(t *testing.T, m telegramtest.SentMessage, parts ...string) {
	t.Helper()
	text := plain(t, m)
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("message %q lacks %q", text, p)
		}
	}
}

// newIssue creates an issue in the fake Jira as Jane, as if in its UI.
func (h *harness) newIssue(summary string) string {
	h.t.Helper()
	is, err := h.jira.As(testJane).CreateIssue("OPS", "Task", summary, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return is.Key
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name, text, cmd, args string
		ok                    bool
	}{
		{"plain", "/issue OPS-1", "issue", "OPS-1", true},
		{"addressed to us", "/Issue@JTBot_test_bot OPS-1", "issue", "OPS-1", true},
		{"addressed to another bot", "/issue@otherbot OPS-1", "", "", false},
		{"args on the next line", "/comment\nOPS-1 hi", "comment", "OPS-1 hi", true},
		{"not a command", "issue OPS-1", "", "", false},
		{"bare slash", "/ x", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, args, ok := parseCommand(&tele.Message{Text: tt.text}, "jtbot_test_bot")
			if cmd != tt.cmd || args != tt.args || ok != tt.ok {
				t.Errorf("= %q %q %v", cmd, args, ok)
			}
		})
	}
}

func TestStartAndHelp(t *testing.T) {
	h := newHarness(t, "ALLOWED_USERS=@alice", "ADMIN_USERS=501")
	tests := []struct {
		name string
		user telegramtest.User
		text string
		want []string
	}{
		{"allowed admin", testAlice, "/start", []string{"Your Telegram ID is 501", "You may use this bot", "admin", "not connected"}},
		{"refused", testBob, "/start", []string{"Your Telegram ID is 777", "may not use this bot", "ALLOWED_USERS"}},
		{"help for anyone", testBob, "/help", []string{"/issue KEY", "/search JQL", "/link PROJECT", "/watching"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantText(t, h.ask(tt.user, tt.text), tt.want...)
		})
	}
	h.connect(testAlice, testJane)
	wantText(t, h.ask(testAlice, "/start"), "connected as Jane Jira")
}

func TestCommandMenuIsRegistered(t *testing.T) {
	h := newHarness(t)
	for _, c := range h.tg.Calls() {
		if c.Method != "setMyCommands" {
			continue
		}
		for _, name := range []string{`"issue"`, `"search"`, `"new"`, `"connect"`, `"unlink"`} {
			if !strings.Contains(c.Params["commands"], name) {
				t.Errorf("menu lacks %s: %s", name, c.Params["commands"])
			}
		}
		return
	}
	t.Fatal("setMyCommands never called")
}

func TestRefusedUser(t *testing.T) {
	h := newHarness(t, "ALLOWED_USERS=@alice")
	key := h.newIssue("Disk full")
	// One stranger per command: refusals are courtesy messages, dropped
	// rather than queued when the chat had an answer within the last second.
	for i, cmd := range []string{"/issue " + key, "/comment " + key + " hi", "/assign " + key + " me", "/transition " + key + " done",
		"/search project = OPS", "/my", "/watch " + key, "/unwatch " + key, "/watching", "/link OPS", "/unlink", "/new Something"} {
		t.Run(cmd, func(t *testing.T) {
			stranger := testBob
			stranger.ID += int64(i)
			wantText(t, h.ask(stranger, cmd), "may not use this bot", fmt.Sprintf("Your Telegram ID is %d", stranger.ID), "ask an admin")
		})
	}
	is, _ := h.jira.Issue(key)
	if len(is.Comments) != 0 || is.Status != "To Do" || is.Assignee != nil {
		t.Errorf("a refused user changed the issue: %+v", is)
	}
}

func TestUnknownCommand(t *testing.T) {
	h := newHarness(t)
	wantText(t, h.ask(testAlice, "/frobnicate"), "I don't know /frobnicate", "/help")
}

func TestCommandInGroupWithBotName(t *testing.T) {
	h := newHarness(t)
	key := h.newIssue("Disk full")
	answer := h.askGroup(testGroup, testAlice, "/issue@"+h.tg.Bot().Username+" "+strings.ToLower(key))
	wantText(t, answer, key, "Disk full")
	// Addressed to another bot: no answer, and the queue moves on.
	other := h.tg.GroupMessage(testGroup, testAlice, "/issue@someotherbot "+key, 0)
	h.tg.Push(other)
	h.waitIdle()
	for _, m := range h.tg.SentTo(testGroupID) {
		if m.ReplyTo == messageID(other) {
			t.Errorf("answered a command meant for another bot: %q", m.Text)
		}
	}
}

// Every Jira failure class becomes one short sentence, for any command.
func TestJiraErrorsAreHuman(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   string
	}{
		{"not found", 404, "OPS-1 not found"},
		{"forbidden", 403, "jtbot's Jira account cannot see OPS"},
		{"server error", 500, "Jira is unreachable, try again in a minute"},
		{"unavailable", 503, "Jira is unreachable, try again in a minute"},
		{"rate limited", 429, "Jira is unreachable, try again in a minute"},
	}
	cmds := []string{"/issue OPS-1", "/comment OPS-1 hello", "/transition OPS-1 done", "/watch OPS-1"}
	h := newHarness(t)
	h.newIssue("Disk full")
	for _, tt := range tests {
		for _, cmd := range cmds {
			t.Run(tt.name+" "+cmd, func(t *testing.T) {
				h.jira.FailNext("", "/rest/api/2/issue/OPS-1", 1, tt.status, time.Second)
				answer := h.ask(testAlice, cmd)
				text := plain(t, answer)
				if !strings.Contains(text, tt.want) || strings.Contains(text, "{") || len(text) > 200 {
					t.Errorf("answer = %q, want %q", text, tt.want)
				}
			})
		}
	}
	h.waitIdle()
	if _, dead := h.store.Depth(); dead != 0 {
		t.Errorf("%d commands dead-lettered", dead)
	}
}

func TestMissingIssue(t *testing.T) {
	h := newHarness(t)
	wantText(t, h.ask(testAlice, "/issue OPS-999"), "OPS-999 not found")
}

func TestUsageOnBadArguments(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range []string{"/issue", "/issue nonsense", "/comment OPS-1", "/assign OPS-1", "/transition", "/search", "/watch x", "/unwatch"} {
		t.Run(cmd, func(t *testing.T) {
			wantText(t, h.ask(testAlice, cmd), "Usage: /")
		})
	}
}

func TestFailedAnswerIsRetried(t *testing.T) {
	h := newHarness(t)
	h.newIssue("Disk full")
	h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == testChannelID }) // Jira's news of OPS-1
	h.waitIdle()
	h.tg.FailNext("sendMessage", 1, 502, "Bad Gateway", 0)
	wantText(t, h.ask(testAlice, "/issue OPS-1"), "Disk full")
	if !strings.Contains(h.logText(), "will retry") {
		t.Errorf("the failed answer was not retried:\n%s", h.logText())
	}
}

func TestCallbackDataFits(t *testing.T) {
	key := "ABCDEFGHIJKLMNOPQRSTUVWXYZ1234-1234567890"
	for _, data := range []string{cb(cbMove, key, "123456789012"), cb(cbSearchPage, strconv.Itoa(maxSearchPage))} {
		if len(data) > 64 {
			t.Errorf("%q is %d bytes", data, len(data))
		}
	}
}

func TestHumanError(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		subject string
		want    string
		ok      bool
	}{
		{"network", &jira.Error{Op: "read issue", Err: errors.New("connection refused")}, "OPS-1", "Jira is unreachable, try again in a minute", true},
		{"not found", &jira.Error{Status: 404, Message: "Issue does not exist"}, "PROJ-999", "PROJ-999 not found", true},
		{"forbidden", &jira.Error{Status: 403}, "PROJ-9", "jtbot's Jira account cannot see PROJ", true},
		{"bad JQL", &jira.Error{Status: 400, Message: "Field 'x' does not exist"}, "", "Field 'x' does not exist", true},
		{"credentials", &jira.Error{Status: 401}, "OPS-1", "Jira refuses jtbot's credentials: ask an admin to check JIRA_USER and JIRA_TOKEN", true},
		{"wrapped", fmt.Errorf("x: %w", &jira.Error{Status: 502}), "OPS-1", "Jira is unreachable, try again in a minute", true},
		{"not Jira's", errors.New("disk full"), "OPS-1", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := humanError(tt.err, tt.subject)
			if got != tt.want || ok != tt.ok {
				t.Errorf("= %q %v", got, ok)
			}
		})
	}
}

func TestJiraUnreachable(t *testing.T) {
	h := newHarness(t)
	h.jira.Close()
	for _, cmd := range []string{"/issue OPS-1", "/search project = OPS", "/connect jane@example.com api-token"} {
		t.Run(cmd, func(t *testing.T) {
			wantText(t, h.ask(testAlice, cmd), "Jira is unreachable, try again in a minute")
		})
	}
}
