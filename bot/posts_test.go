package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// tgFixture loads a real update from testdata/fixtures without its
// update_id (the fake assigns one, so a fixture can be pushed twice).
func tgFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var u map[string]any
	if err := dec.Decode(&u); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	delete(u, "update_id")
	return u
}

// inner returns the message object of an update, whatever its kind.
func inner(u map[string]any) map[string]any {
	for _, kind := range []string{"message", "channel_post", "edited_message", "edited_channel_post"} {
		if m, ok := u[kind].(map[string]any); ok {
			return m
		}
	}
	panic("update without a message")
}

// idOf reads the message_id of an update, as a fixture or the fake wrote it.
func idOf(u map[string]any) int {
	switch v := inner(u)["message_id"].(type) {
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	case int:
		return v
	}
	panic("message without message_id")
}

// asChannelPost moves a fixture's message into a channel_post of chat, as
// a channel sends it: sender_chat instead of from.
func asChannelPost(u map[string]any, chat telegramtest.Chat) map[string]any {
	m := inner(u)
	delete(m, "from")
	m["chat"], m["sender_chat"] = chat, chat
	return map[string]any{"channel_post": m}
}

// waitIssue waits until the fake Jira holds an issue that matches.
func (h *harness) waitIssue(match func(jiratest.Issue) bool) jiratest.Issue {
	h.t.Helper()
	var found jiratest.Issue
	if !h.jira.WaitFor(waitTime, func() bool {
		for _, is := range h.jira.Issues() {
			if match(is) {
				found = is
				return true
			}
		}
		return false
	}) {
		h.t.Fatalf("no matching issue; issues: %+v\nlogs:\n%s", h.jira.Issues(), h.logText())
	}
	return found
}

func (h *harness) waitComments(key string, n int) jiratest.Issue {
	h.t.Helper()
	var is jiratest.Issue
	if !h.jira.WaitFor(waitTime, func() bool { is, _ = h.jira.Issue(key); return len(is.Comments) >= n }) {
		h.t.Fatalf("%s has %d comments, want %d\nlogs:\n%s", key, len(is.Comments), n, h.logText())
	}
	return is
}

func (h *harness) answerTo(chatID int64, id int) telegramtest.SentMessage {
	h.t.Helper()
	return h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == chatID && m.ReplyTo == id })
}

func TestChannelPostFixtureAndItsEdit(t *testing.T) {
	h := newHarness(t)
	post := tgFixture(t, "channel-post-text.json")
	inner(post)["chat"].(map[string]any)["id"] = testChannelID
	h.tg.Push(post)
	answer := h.answerTo(testChannelID, 2)
	wantText(t, answer, "OPS-1")
	if !strings.Contains(answer.Text, `href="`+h.jira.URL+`/browse/OPS-1"`) || answer.ParseMode != "HTML" {
		t.Errorf("answer = %+v, want an HTML link to OPS-1", answer)
	}
	is, _ := h.jira.Issue("OPS-1")
	if is.Summary != "test" || is.Type != "Task" {
		t.Errorf("issue = %q (%s)", is.Summary, is.Type)
	}
	// The fixture's channel has no username: the members-only /c/ link.
	for _, want := range []string{"test", "TestChannel999999", "https://t.me/c/1000000001/2"} {
		if !strings.Contains(is.Description, want) {
			t.Errorf("description %q lacks %q", is.Description, want)
		}
	}
	var origin struct{ Origin string }
	_ = json.Unmarshal(is.Properties[jira.OriginProperty], &origin)
	if origin.Origin != strconv.FormatInt(testChannelID, 10)+"/2" {
		t.Errorf("origin property = %s", is.Properties[jira.OriginProperty])
	}

	edit := tgFixture(t, "edited-channel-post-text.json")
	inner(edit)["chat"].(map[string]any)["id"] = testChannelID
	h.tg.Push(edit)
	h.waitIssue(func(is jiratest.Issue) bool {
		return is.Summary == "test test" && strings.Contains(is.Description, "test test")
	})
	// An edit of a message that is no issue is ignored.
	other := tgFixture(t, "edited-channel-post-text.json")
	inner(other)["chat"].(map[string]any)["id"] = testChannelID
	inner(other)["message_id"] = 999
	h.tg.Push(other)
	h.waitIdle()
	if n := len(h.jira.Issues()); n != 1 {
		t.Errorf("%d issues", n)
	}
}

func TestPostFields(t *testing.T) {
	h := newHarness(t, "HASHTAG_TYPES=bug:Bug,story:Story")
	long := strings.Repeat("😀", 300)
	tests := []struct {
		name, text                string
		entities                  []tele.MessageEntity
		summary, typ              string
		labels                    []string
		descriptionHas, footerHas []string
		descriptionLacks          []string
	}{
		{name: "first non-empty line", text: "\n  Disk full  \nOn db01.", summary: "Disk full", typ: "Task",
			descriptionHas: []string{"On db01."}, footerHas: []string{"Ops news", "https://t.me/opsnews/"}},
		{name: "hashtags are labels and pick the type", text: "Login broken #bug #web",
			entities: []tele.MessageEntity{{Type: "hashtag", Offset: 13, Length: 4}, {Type: "hashtag", Offset: 18, Length: 4}},
			summary:  "Login broken #bug #web", typ: "Bug", labels: []string{"bug", "web"}},
		{name: "hashtag type is case blind", text: "#Story: dark mode",
			entities: []tele.MessageEntity{{Type: "hashtag", Offset: 0, Length: 6}},
			summary:  "#Story: dark mode", typ: "Story", labels: []string{"Story"}},
		{name: "summary cut at 255 UTF-16 units on a character", text: long + "\nrest",
			summary: strings.Repeat("😀", 127) + "…", typ: "Task", descriptionHas: []string{long}},
		{name: "emoji do not shift formatting", text: "😀 bold after",
			entities: []tele.MessageEntity{{Type: "bold", Offset: 3, Length: 4}},
			summary:  "😀 bold after", typ: "Task", descriptionHas: []string{"😀 *bold* after"}},
		{name: "wiki characters are escaped", text: "a {code} [x] *y*", summary: "a {code} [x] *y*", typ: "Task",
			descriptionHas: []string{`\[x\]`, `\*y\*`}, descriptionLacks: []string{"{code}"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := h.tg.ChannelPost(testChannel, tc.text)
			ents, _ := json.Marshal(tc.entities)
			inner(up)["entities"] = json.RawMessage(ents)
			h.tg.Push(up)
			answer := h.answerTo(testChannelID, idOf(up))
			key := plain(t, answer)[len("📝 "):]
			is, _ := h.jira.Issue(key)
			if is.Summary != tc.summary || jira.UTF16Len(is.Summary) > jira.MaxSummary {
				t.Errorf("summary = %q, want %q", is.Summary, tc.summary)
			}
			if is.Type != tc.typ {
				t.Errorf("type = %s, want %s", is.Type, tc.typ)
			}
			if len(is.Labels) != 0 || len(tc.labels) != 0 {
				if !reflect.DeepEqual(is.Labels, tc.labels) {
					t.Errorf("labels = %q, want %q", is.Labels, tc.labels)
				}
			}
			for _, want := range append(tc.descriptionHas, tc.footerHas...) {
				if !strings.Contains(is.Description, want) {
					t.Errorf("description %q lacks %q", is.Description, want)
				}
			}
			for _, bad := range tc.descriptionLacks {
				if strings.Contains(is.Description, bad) {
					t.Errorf("description %q has unescaped %q", is.Description, bad)
				}
			}
		})
	}
}

func TestMessageURL(t *testing.T) {
	tests := []struct {
		name string
		chat *tele.Chat
		want string
	}{
		{"public channel", &tele.Chat{ID: -1001234567890, Username: "opsnews"}, "https://t.me/opsnews/42"},
		{"private supergroup", &tele.Chat{ID: -1001234567890}, "https://t.me/c/1234567890/42"},
		{"basic group", &tele.Chat{ID: -4567}, ""},
		{"private chat", &tele.Chat{ID: 501}, ""},
		{"no chat", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MessageURL(tc.chat, 42); got != tc.want {
				t.Errorf("MessageURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"first line", "Build red\nsince abc", "Build red"},
		{"skips blank lines", "\n \n  Disk full \n", "Disk full"},
		{"no text", " \n ", "(no text)"},
		{"exactly 255", strings.Repeat("a", 255), strings.Repeat("a", 255)},
		{"256 is cut", strings.Repeat("a", 256), strings.Repeat("a", 254) + "…"},
		{"astral characters count as two, as Jira counts", strings.Repeat("🚀", 300), strings.Repeat("🚀", 127) + "…"},
		{"a surrogate pair is never split", "a" + strings.Repeat("🚀", 300), "a" + strings.Repeat("🚀", 126) + "…"},
		{"combining text stays valid", strings.Repeat("é", 300), strings.Repeat("é", 254) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Summary(tc.text)
			if got != tc.want || !utf8.ValidString(got) || jira.UTF16Len(got) > jira.MaxSummary {
				t.Errorf("Summary = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFitField(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		cut       bool
		keepsTail bool
	}{
		{"short", "hello", false, true},
		{"at the limit", strings.Repeat("a", maxField-len("|tail")), false, true},
		{"one over", strings.Repeat("a", maxField), true, true},
		{"astral characters count twice", strings.Repeat("😀", maxField/2+1), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, cut := fitField(tc.body, "|tail", "message.txt")
			if cut != tc.cut || utf16Len(got) > maxField || !utf8.ValidString(got) || !strings.HasSuffix(got, "|tail") {
				t.Errorf("cut = %v (want %v), %d units", cut, tc.cut, utf16Len(got))
			}
			if cut && !strings.Contains(got, "attached as message.txt") {
				t.Errorf("no note in %q", got[len(got)-200:])
			}
		})
	}
}

func TestLongPostIsCutAndAttached(t *testing.T) {
	h := newHarness(t)
	text := "Huge log\n" + strings.Repeat("line of log output {x}\n", 2000)
	up := h.tg.ChannelPost(testChannel, text)
	h.tg.Push(up)
	h.answerTo(testChannelID, idOf(up))
	var is jiratest.Issue
	if !h.jira.WaitFor(waitTime, func() bool { is, _ = h.jira.Issue("OPS-1"); return len(is.Attachments) == 1 }) {
		t.Fatalf("no attachment\n%s", h.logText())
	}
	if n := utf16Len(is.Description); n > maxField || !strings.Contains(is.Description, "the whole text is attached as message.txt") {
		t.Errorf("description of %d units, note missing: …%s", n, is.Description[len(is.Description)-300:])
	}
	if a := is.Attachments[0]; a.Filename != "message.txt" || string(a.Content) != text {
		t.Errorf("attachment %s of %d bytes", a.Filename, len(a.Content))
	}
}

func TestUnmappedChatsAreIgnored(t *testing.T) {
	h := newHarness(t)
	elsewhere := telegramtest.Chat{ID: -1009999999999, Type: "channel", Title: "Elsewhere"}
	h.tg.Push(h.tg.ChannelPost(elsewhere, "Not for Jira"))
	h.tg.Push(h.tg.GroupMessage(telegramtest.Chat{ID: -1008888888888, Type: "supergroup", Title: "Chatter"}, testAlice, "hello OPS-1", 0))
	h.tg.WaitFor(waitTime, func() bool { return h.tg.PendingUpdates() == 0 })
	h.waitIdle()
	if n := len(h.jira.Issues()); n != 0 {
		t.Errorf("%d issues from unmapped chats", n)
	}
	if n := len(h.tg.Sent()); n != 0 {
		t.Errorf("sent %+v", h.tg.Sent())
	}
	for _, want := range []string{"post in an unmapped chat ignored", "message in an unmapped chat ignored"} {
		if !h.tg.WaitFor(waitTime, func() bool { return strings.Contains(h.logText(), want) }) {
			t.Errorf("no debug line %q:\n%s", want, h.logText())
		}
	}
}

func TestRepliesBecomeComments(t *testing.T) {
	forum := telegramtest.Chat{ID: -1001234567489, Type: "supergroup", Title: "Testing", Username: "testing", IsForum: true}
	h := newHarness(t, "CHAT_PROJECTS="+strconv.FormatInt(forum.ID, 10)+":OPS")
	key := h.newIssue("Disk full")
	if err := h.store.LinkMessage(forum.ID, 66, storage.Link{Issue: key}); err != nil {
		t.Fatal(err)
	}
	reply := tgFixture(t, "supergroup-reply-to-message.json")
	h.tg.Push(reply)
	is := h.waitComments(key, 1)
	if c := is.Comments[0].Body; !strings.Contains(c, "Mario Bros (@MarioBros) via Telegram") || !strings.Contains(c, "bbbb") {
		t.Errorf("comment = %q", c)
	}

	// A reply to the comment's message is a comment too; its edit follows.
	again := h.tg.GroupMessage(forum, testAlice, "second *thought*", 68)
	h.tg.Push(again)
	is = h.waitComments(key, 2)
	edited := h.tg.GroupMessage(forum, testAlice, "second thought, edited", 68)
	inner(edited)["message_id"] = idOf(again)
	h.tg.Push(map[string]any{"edited_message": inner(edited)})
	h.jira.WaitFor(waitTime, func() bool { is, _ = h.jira.Issue(key); return strings.Contains(is.Comments[1].Body, "edited") })
	if !strings.Contains(is.Comments[1].Body, "second thought, edited") || !strings.Contains(is.Comments[1].Body, "Alice Liddell (@alice)") {
		t.Errorf("edited comment = %q", is.Comments[1].Body)
	}
	if len(is.Comments) != 2 {
		t.Errorf("%d comments", len(is.Comments))
	}
}

func TestRepliesFromOutsidersMakeNoComment(t *testing.T) {
	h := newHarness(t, "ALLOWED_USERS=@alice")
	post := h.tg.ChannelPost(testChannel, "Build red")
	h.tg.Push(post)
	h.answerTo(testChannelID, idOf(post))
	h.tg.Push(h.tg.GroupMessage(telegramtest.Chat{ID: testChannelID, Type: "supergroup"}, testBob, "me too", idOf(post)))
	h.tg.Push(h.tg.GroupMessage(telegramtest.Chat{ID: testChannelID, Type: "supergroup"}, testAlice, "on it", idOf(post)))
	is := h.waitComments("OPS-1", 1)
	h.waitIdle()
	is, _ = h.jira.Issue("OPS-1")
	if len(is.Comments) != 1 || !strings.Contains(is.Comments[0].Body, "on it") {
		t.Errorf("comments = %+v", is.Comments)
	}
}

func TestDiscussionGroupForward(t *testing.T) {
	h := newHarness(t)
	post := h.tg.ChannelPost(testChannel, "Release 1.2")
	h.tg.Push(post)
	h.answerTo(testChannelID, idOf(post))
	fwd := h.tg.GroupMessage(testGroup, testAlice, "Release 1.2", 0)
	m := inner(fwd)
	delete(m, "from")
	m["sender_chat"], m["is_automatic_forward"] = testChannel, true
	m["forward_origin"] = map[string]any{"type": "channel", "chat": testChannel, "message_id": idOf(post), "date": 1}
	h.tg.Push(fwd)
	h.tg.Push(h.tg.GroupMessage(testGroup, testAlice, "under the post", idOf(fwd)))
	is := h.waitComments("OPS-1", 1)
	if !strings.Contains(is.Comments[0].Body, "under the post") {
		t.Errorf("comment = %q", is.Comments[0].Body)
	}
	root, err := h.store.Root("OPS-1")
	if err != nil || root.ChatID != testGroupID || root.MessageID != idOf(fwd) {
		t.Errorf("root = %+v, %v: want the forward", root, err)
	}
	// Jira's news lands under the forward, and in the channel not at all,
	// though the channel is the chat mapped to OPS.
	if err := h.jira.As(testJane).Transition("OPS-1", "In Progress"); err != nil {
		t.Fatal(err)
	}
	note := h.waitSent(textHas("In Progress"))
	h.waitIdle()
	if note.ChatID != testGroupID || note.ReplyTo != idOf(fwd) {
		t.Errorf("the news went to %d replying to %d", note.ChatID, note.ReplyTo)
	}
	for _, m := range h.tg.SentTo(testChannelID) {
		if strings.Contains(m.Text, "In Progress") {
			t.Errorf("the channel got the news as well: %q", m.Text)
		}
	}
}

func TestCrashBetweenJiraAndLinkMakesNoSecondIssue(t *testing.T) {
	h := newHarness(t)
	up := h.tg.ChannelPost(testChannel, "Build red")
	id := idOf(up)
	// What a crash leaves: the intent recorded, the issue made in Jira, no link.
	ref := storage.MessageRef{ChatID: testChannelID, MessageID: id}
	if _, err := h.store.BeginIssue(ref); err != nil {
		t.Fatal(err)
	}
	created, err := h.bot.jira.CreateIssue(context.Background(), jira.NewIssue{Project: "OPS", Type: "Task", Summary: "Build red", Origin: originOf(ref)})
	if err != nil {
		t.Fatal(err)
	}
	h.tg.Push(up)
	wantText(t, h.answerTo(testChannelID, id), created.Key)
	h.waitIdle()
	if n := len(h.jira.Issues()); n != 1 {
		t.Errorf("%d issues, want 1", n)
	}
	if link, err := h.store.MessageLink(testChannelID, id); err != nil || link.Issue != created.Key {
		t.Errorf("link = %+v, %v", link, err)
	}
}

func TestJiraRefusalIsToldAndDeadLettered(t *testing.T) {
	h := newHarness(t, "HASHTAG_TYPES=bug:Defect")
	up := h.tg.ChannelPost(testChannel, "Crash #bug")
	inner(up)["entities"] = []tele.MessageEntity{{Type: "hashtag", Offset: 6, Length: 4}}
	h.tg.Push(up)
	answer := h.answerTo(testChannelID, idOf(up))
	wantText(t, answer, "Jira refused to create an issue", "issue type")
	h.waitIdle()
	if dead, _ := h.store.Dead(); len(dead) != 1 {
		t.Errorf("%d dead letters, want 1", len(dead))
	}
}

func TestMissingProjectIsRetried(t *testing.T) {
	h := newHarness(t, "CHAT_PROJECTS="+strconv.FormatInt(testChannelID, 10)+":NEWP")
	up := h.tg.ChannelPost(testChannel, "Waiting for a project")
	h.tg.Push(up)
	if !h.tg.WaitFor(waitTime, func() bool {
		return strings.Contains(h.logText(), "level=error") && strings.Contains(h.logText(), "NEWP")
	}) {
		t.Fatalf("no retry logged\n%s", h.logText())
	}
	if dead, _ := h.store.Dead(); len(dead) != 0 {
		t.Fatalf("dead-lettered: %+v", dead)
	}
	h.jira.AddProject("NEWP", "New project")
	wantText(t, h.answerTo(testChannelID, idOf(up)), "NEWP-1")
}

func TestForumTopicAnswerStaysInTopic(t *testing.T) {
	forum := telegramtest.Chat{ID: -1001234567489, Type: "supergroup", Title: "Testing", Username: "testing", IsForum: true}
	h := newHarness(t, "CHAT_PROJECTS="+strconv.FormatInt(forum.ID, 10)+":OPS")
	up := tgFixture(t, "forum-topic-message.json")
	m := inner(up)
	m["text"] = "/new lòklò"
	m["entities"] = []tele.MessageEntity{{Type: "bot_command", Offset: 0, Length: 4}}
	h.tg.Push(up)
	answer := h.answerTo(forum.ID, 35)
	if answer.ThreadID != 33 {
		t.Errorf("answer in thread %d, want topic 33", answer.ThreadID)
	}
	is := h.waitIssue(func(is jiratest.Issue) bool { return is.Summary == "lòklò" })
	if !strings.Contains(is.Description, "https://t.me/testing/35") {
		t.Errorf("description = %q", is.Description)
	}

	// Not a topic message: message_thread_id names a reply thread and is
	// not sent back.
	reply := tgFixture(t, "supergroup-reply-to-message.json")
	m = inner(reply)
	m["text"] = "/new"
	m["entities"] = []tele.MessageEntity{{Type: "bot_command", Offset: 0, Length: 4}}
	h.tg.Push(reply)
	answer = h.answerTo(forum.ID, 68)
	if answer.ThreadID != 0 {
		t.Errorf("answer in thread %d, want none", answer.ThreadID)
	}
}

func TestNewCommand(t *testing.T) {
	h := newHarness(t, "CHAT_PROJECTS="+strconv.FormatInt(testGroupID, 10)+":OPS", "ALLOWED_USERS=@alice,@bob", "JIRA_PROJECT=OPS")
	h.jira.AddProject("WEB", "Website")

	t.Run("in a group, with a description", func(t *testing.T) {
		up := h.tg.GroupMessage(testGroup, testAlice, "/new Printer #jam\non floor 2", 0)
		inner(up)["entities"] = []tele.MessageEntity{{Type: "bot_command", Offset: 0, Length: 4},
			{Type: "hashtag", Offset: 13, Length: 4}, {Type: "bold", Offset: 21, Length: 5}}
		h.tg.Push(up)
		answer := h.answerTo(testGroupID, idOf(up))
		key := plain(t, answer)[len("📝 "):]
		if !strings.Contains(answer.Text, `href="`+h.jira.URL+"/browse/"+key+`"`) {
			t.Errorf("answer = %q", answer.Text)
		}
		is, _ := h.jira.Issue(key)
		if is.Summary != "Printer #jam" || !reflect.DeepEqual(is.Labels, []string{"jam"}) {
			t.Errorf("issue = %q %q", is.Summary, is.Labels)
		}
		if !strings.HasPrefix(is.Description, "on *floor* 2") || !strings.Contains(is.Description, "Alice Liddell (@alice)") {
			t.Errorf("description = %q", is.Description)
		}
		// Editing the command edits the issue, command and all left out.
		m := inner(up)
		m["text"], m["entities"] = "/new Printer jammed\non floor 3", []tele.MessageEntity{{Type: "bot_command", Offset: 0, Length: 4}}
		h.tg.Push(map[string]any{"edited_message": m})
		h.waitIssue(func(is jiratest.Issue) bool {
			return is.Key == key && is.Summary == "Printer jammed" && strings.HasPrefix(is.Description, "on floor 3")
		})
	})
	t.Run("as a reply, of someone's message", func(t *testing.T) {
		orig := h.tg.GroupMessage(testGroup, telegramtest.User{ID: 900, FirstName: "Carol"}, "The VPN drops every hour", 0)
		h.tg.Push(orig)
		up := h.tg.GroupMessage(testGroup, testBob, "/new", idOf(orig))
		h.tg.Push(up)
		answer := h.answerTo(testGroupID, idOf(up))
		key := plain(t, answer)[len("📝 "):]
		is, _ := h.jira.Issue(key)
		if is.Summary != "The VPN drops every hour" || !strings.Contains(is.Description, "by Carol in Ops chat") || !strings.Contains(is.Description, "filed by Bob (@bob)") {
			t.Errorf("issue = %q / %q", is.Summary, is.Description)
		}
		// Replies to the original message become comments of the issue.
		h.tg.Push(h.tg.GroupMessage(testGroup, testAlice, "same here", idOf(orig)))
		h.waitComments(key, 1)
		// Filing it again only points at the issue.
		wantText(t, h.askGroupReply(testGroup, testAlice, "/new", idOf(orig)), "already belongs to "+key)
	})
	t.Run("in a DM, default project", func(t *testing.T) {
		wantText(t, h.ask(testAlice, "/new DNS is down\nsince 10:00"), "OPS-")
		h.waitIssue(func(is jiratest.Issue) bool {
			return is.Project == "OPS" && is.Summary == "DNS is down" && strings.HasPrefix(is.Description, "since 10:00")
		})
	})
	t.Run("in a DM, named project", func(t *testing.T) {
		// WEB is the project of a chat Alice is in; HR of none.
		web := int64(-1003000000003)
		h.tg.AddChat(telegramtest.Chat{ID: web, Type: "supergroup", Title: "Web"})
		h.tg.SetChatMember(web, testAlice.ID, "member")
		if err := h.store.SetChatProject(web, "WEB"); err != nil {
			t.Fatal(err)
		}
		h.jira.AddProject("HR", "People")
		wantText(t, h.ask(testAlice, "/new HR Salaries"), "HR is not in your projects")
		wantText(t, h.ask(testAlice, "/new WEB Logo is blurry"), "WEB-1")
		h.waitIssue(func(is jiratest.Issue) bool { return is.Key == "WEB-1" && is.Summary == "Logo is blurry" })
	})
	t.Run("usage without a summary", func(t *testing.T) {
		wantText(t, h.ask(testAlice, "/new"), "Usage: /new")
	})
	t.Run("refused user learns their ID", func(t *testing.T) {
		carol := telegramtest.User{ID: 900, FirstName: "Carol"}
		wantText(t, h.ask(carol, "/new Something"), "Your Telegram ID is 900", "ask an admin")
	})
	t.Run("unmapped group", func(t *testing.T) {
		other := telegramtest.Chat{ID: -1007777777777, Type: "supergroup", Title: "Other"}
		wantText(t, h.askGroup(other, testAlice, "/new Something"), "not linked to a Jira project")
	})
}

func TestNewCommandWithoutDefaultProject(t *testing.T) {
	h := newHarness(t)
	wantText(t, h.ask(testAlice, "/new Something"), "Which project?")
	wantText(t, h.ask(testAlice, "/new ops Something"), "OPS-1")
}

// askGroupReply sends text in a group as a reply and waits for the answer.
func (h *harness) askGroupReply(chat telegramtest.Chat, u telegramtest.User, text string, to int) telegramtest.SentMessage {
	h.t.Helper()
	up := h.tg.GroupMessage(chat, u, text, to)
	h.tg.Push(up)
	return h.answerTo(chat.ID, idOf(up))
}
