package bot

import (
	"slices"
	"strings"
	"testing"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// The permission matrix of DESIGN §7, user × place × action × target,
// through the real bot against the fakes. Expectations come from the
// contract's rule, written here on its own: a user may act with the bot's
// account (ALLOWED_USERS, admins; an @name only for the account first seen
// with it), on an issue of the place's projects that has no security level.

type matrixUser struct {
	name   string
	u      telegramtest.User
	mayAct bool
	dm     []string // projects of the mapped chats the user is a member of
}

// A place gives each user and action a chat of its own kind, so that
// Telegram's per-group limits never hold an answer back.
type matrixPlace struct {
	name     string
	chat     func(ui, ai int, u telegramtest.User) telegramtest.Chat
	projects func(u matrixUser) []string
	group    bool
}

type matrixTarget struct {
	key, project, summary string
	secured               bool
}

var (
	matrixDave = telegramtest.User{ID: 601, FirstName: "Dave", Username: "dave"}
	matrixAdm  = telegramtest.User{ID: 700, FirstName: "Ada", Username: "ada"}
	matrixBob  = telegramtest.User{ID: 502, FirstName: "Bob", Username: "bob"}
	// Mallory has taken the name @alice after Alice's account was pinned.
	matrixMallory = telegramtest.User{ID: 666, FirstName: "Mallory", Username: "alice"}
)

func matrixUsers() []matrixUser {
	return []matrixUser{
		{name: "allowed @name, channel member", u: testAlice, mayAct: true, dm: []string{"OPS"}},
		{name: "allowed by ID, in no chat", u: matrixDave, mayAct: true},
		{name: "admin, web member", u: matrixAdm, mayAct: true, dm: []string{"WEB"}},
		{name: "not allowed", u: matrixBob},
		{name: "@name pinned to another ID", u: matrixMallory},
	}
}

// Chats of the matrix: per user ui and action ai, a channel mapped to OPS
// with its discussion group, a group mapped to WEB, an unmapped group.
func matrixChat(kind, ui, ai int) int64 { return -1005000000000 - int64(kind*1000+ui*100+ai) }

const (
	opsChannel = iota + 1
	opsDiscussion
	webGroup
	unmappedGroup
)

func matrixPlaces() []matrixPlace {
	group := func(kind int, title string) func(int, int, telegramtest.User) telegramtest.Chat {
		return func(ui, ai int, _ telegramtest.User) telegramtest.Chat {
			return telegramtest.Chat{ID: matrixChat(kind, ui, ai), Type: "supergroup", Title: title}
		}
	}
	projects := func(p ...string) func(matrixUser) []string { return func(matrixUser) []string { return p } }
	return []matrixPlace{
		{name: "DM", chat: func(_, _ int, u telegramtest.User) telegramtest.Chat {
			return telegramtest.Chat{ID: u.ID, Type: "private", FirstName: u.FirstName}
		}, projects: func(u matrixUser) []string { return u.dm }},
		{name: "channel's discussion group", chat: group(opsDiscussion, "Ops talk"), projects: projects("OPS"), group: true},
		{name: "mapped group", chat: group(webGroup, "Web team"), projects: projects("WEB"), group: true},
		{name: "unmapped group", chat: group(unmappedGroup, "Coffee"), projects: projects(), group: true},
	}
}

// matrixAction does something as u in chat about key and reports whether
// it took effect: a write in Jira, a watch, or the issue shown in answer.
type matrixAction struct {
	name      string
	groupOnly bool // key mentions are a group feature
	// blind writes show nothing of the issue: a reply under a post whose
	// issue got a security level later still becomes its comment.
	blind bool
	do    func(h *harness, c telegramtest.Chat, u telegramtest.User, tg matrixTarget) (shown bool)
}

func matrixActions() []matrixAction {
	command := func(format string) func(*harness, telegramtest.Chat, telegramtest.User, matrixTarget) bool {
		return func(h *harness, c telegramtest.Chat, u telegramtest.User, tg matrixTarget) bool {
			return h.answered(c, u, strings.ReplaceAll(format, "KEY", tg.key), 0, tg.summary)
		}
	}
	return []matrixAction{
		{name: "/issue", do: command("/issue KEY")},
		{name: "/comment", do: command("/comment KEY matrix comment")},
		{name: "/assign", do: command("/assign KEY none")},
		{name: "/transition", do: func(h *harness, c telegramtest.Chat, u telegramtest.User, tg matrixTarget) bool {
			to := "In Progress"
			if is, _ := h.jira.Issue(tg.key); is.Status == to {
				to = "To Do"
			}
			return h.answered(c, u, "/transition "+tg.key+" "+to, 0, tg.summary)
		}},
		{name: "/watch", do: func(h *harness, c telegramtest.Chat, u telegramtest.User, tg matrixTarget) bool {
			h.answered(c, u, "/watch "+tg.key, 0, tg.summary)
			watchers, _ := h.store.Watchers(tg.key)
			defer h.store.Unwatch(tg.key, u.ID)
			return slices.Contains(watchers, u.ID)
		}},
		{name: "key mention", groupOnly: true, do: command("news about KEY?")},
		{name: "card button", do: func(h *harness, c telegramtest.Chat, u telegramtest.User, tg matrixTarget) bool {
			ref := h.botMessage(c.ID, "a message with buttons")
			h.tg.Push(h.tg.CallbackQuery(u, c.ID, ref.MessageID, cb(cbCard, tg.key)))
			h.waitIdle()
			for _, m := range h.tg.SentTo(c.ID) {
				if m.MessageID == ref.MessageID && strings.Contains(m.Text, tg.summary) {
					return true
				}
			}
			return false
		}},
		{name: "reply → comment", blind: true, do: func(h *harness, c telegramtest.Chat, u telegramtest.User, tg matrixTarget) bool {
			ref := h.botMessage(c.ID, "a notification of "+tg.key)
			if err := h.store.LinkMessage(c.ID, ref.MessageID, storage.Link{Issue: tg.key}); err != nil {
				h.t.Fatal(err)
			}
			return h.answered(c, u, "matrix reply", ref.MessageID, tg.summary)
		}},
	}
}

// answered sends text as u in c (replying to replyTo when not 0), waits
// until the bot is done, and reports whether Jira was written to or an
// answer to the message showed summary.
func (h *harness) answered(c telegramtest.Chat, u telegramtest.User, text string, replyTo int, summary string) bool {
	h.t.Helper()
	writes := h.jiraWrites()
	up := h.tg.GroupMessage(c, u, text, replyTo) // a private chat too, for a reply
	if c.Type == "private" && replyTo == 0 {
		up = h.tg.PrivateMessage(u, text)
	}
	h.tg.Push(up)
	h.waitIdle()
	for _, m := range h.tg.SentTo(c.ID) {
		if m.ReplyTo == idOf(up) && strings.Contains(m.Text, summary) {
			return true
		}
	}
	return h.jiraWrites() > writes
}

// jiraWrites counts the requests that change something in Jira.
func (h *harness) jiraWrites() int {
	n := 0
	for _, r := range h.jira.Requests() {
		if r.Method != "GET" && !strings.Contains(r.Path, "/search") {
			n++
		}
	}
	return n
}

func TestPermissionMatrix(t *testing.T) {
	h := newHarness(t, "ALLOWED_USERS=@alice,601", "ADMIN_USERS=700")
	users, actions := matrixUsers(), matrixActions()
	for ui := range users {
		h.tg.AddChat(telegramtest.Chat{ID: users[ui].u.ID, Type: "private", FirstName: users[ui].u.FirstName})
		for ai := range actions {
			h.matrixChats(ui, ai, users)
		}
	}
	// Alice's account was the first seen with @alice.
	if !h.bot.allowed(&tele.User{ID: testAlice.ID, Username: "alice"}) {
		t.Fatal("alice refused")
	}
	h.jira.AddProject("WEB", "Website")
	h.jira.AddProject("HR", "People")
	targets := []matrixTarget{
		{project: "OPS", summary: "Matrix ops disk"},
		{project: "WEB", summary: "Matrix web logo"},
		{project: "HR", summary: "Matrix hr salaries"},
		{project: "OPS", summary: "Matrix ops secret", secured: true},
	}
	for i := range targets {
		is, err := h.jira.As(testJane).CreateIssue(targets[i].project, "Task", targets[i].summary, "")
		if err != nil {
			t.Fatal(err)
		}
		targets[i].key = is.Key
		if targets[i].secured {
			if err := h.jira.As(testJane).SetSecurityLevel(is.Key, "Staff"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The secured issue was public for a moment, and its creation may have
	// been shown then: the matrix looks only at what comes after, once
	// Jira's five webhooks are in and handled.
	if !h.jira.WaitFor(waitTime, func() bool { return delivered(h.jira.Deliveries()) == len(targets)+1 }) {
		t.Fatalf("Jira delivered %d webhooks", len(h.jira.Deliveries()))
	}
	h.waitIdle()
	before := len(h.tg.Sent())

	for _, place := range matrixPlaces() {
		for ui, u := range users {
			for ai, a := range actions {
				for _, tg := range targets {
					want := u.mayAct && (!tg.secured || a.blind) && slices.Contains(place.projects(u), tg.project) && (place.group || !a.groupOnly)
					name := strings.Join([]string{place.name, u.name, a.name, tg.key}, "/")
					if got := a.do(h, place.chat(ui, ai, u.u), u.u, tg); got != want {
						t.Errorf("%s: took effect %v, want %v", name, got, want)
					}
				}
			}
		}
	}
	// Nothing of HR, nor of the secured issue, was shown anywhere.
	for _, m := range h.tg.Sent()[before:] {
		for _, s := range []string{"Matrix hr salaries", "Matrix ops secret"} {
			if strings.Contains(m.Text, s) || slices.ContainsFunc(m.Edits, func(e string) bool { return strings.Contains(e, s) }) {
				t.Errorf("chat %d was shown %q: %q", m.ChatID, s, m.Text)
			}
		}
	}
}

// matrixChats makes the chats of user ui and action ai and sets every
// user's membership in the mapped ones (set, not learnt from writing).
func (h *harness) matrixChats(ui, ai int, users []matrixUser) {
	channel, discussion, web := matrixChat(opsChannel, ui, ai), matrixChat(opsDiscussion, ui, ai), matrixChat(webGroup, ui, ai)
	h.tg.AddChat(telegramtest.Chat{ID: channel, Type: "channel", Title: "Ops news"})
	for _, kind := range []int{opsDiscussion, webGroup, unmappedGroup} {
		h.tg.AddChat(telegramtest.Chat{ID: matrixChat(kind, ui, ai), Type: "supergroup"})
	}
	h.tg.LinkChats(channel, discussion)
	for chat, project := range map[int64]string{channel: "OPS", web: "WEB"} {
		if err := h.store.SetChatProject(chat, project); err != nil {
			h.t.Fatal(err)
		}
		for _, u := range users {
			status := "left"
			if slices.Contains(u.dm, project) {
				status = "member"
			}
			h.tg.SetChatMember(chat, u.u.ID, status)
		}
	}
}

// Restricted comments (role, group), Service Management internal notes and
// everything about an issue under a security level never reach a chat or a
// watcher's DM — nor do edits or deletions of such comments. The fake
// fires the webhooks real Jira fires for them (jiratest/restricted_test.go
// cites the payload shapes).
func TestRestrictedNeverReachesChats(t *testing.T) {
	h := newHarness(t)
	h.tg.AddChat(telegramtest.Chat{ID: testAlice.ID, Type: "private", FirstName: "Alice"})
	open, secured := h.newIssue("Open issue"), h.newIssue("Quiet issue")
	for _, key := range []string{open, secured} {
		if err := h.store.Watch(key, testAlice.ID); err != nil {
			t.Fatal(err)
		}
	}
	h.waitSent(textHas("Quiet issue")) // both issues have their root now
	jane := h.jira.As(testJane)
	secrets := []string{"role-only words", "group-only words", "internal note words", "secured words", "secured summary"}
	role, err := jane.CommentRestricted(open, secrets[0], &jiratest.Visibility{Type: "role", Value: "Administrators"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jane.CommentRestricted(open, secrets[1], &jiratest.Visibility{Type: "group", Value: "jira-admins"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.CommentRestricted(open, secrets[2], nil, true); err != nil {
		t.Fatal(err)
	}
	if err := jane.EditComment(open, role.ID, secrets[0]+" edited"); err != nil {
		t.Fatal(err)
	}
	if err := jane.DeleteComment(open, role.ID); err != nil {
		t.Fatal(err)
	}
	if err := jane.SetSecurityLevel(secured, "Staff"); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.Comment(secured, secrets[3]); err != nil {
		t.Fatal(err)
	}
	if err := jane.Edit(secured, map[string]any{"summary": secrets[4]}); err != nil {
		t.Fatal(err)
	}
	// A public comment last: once it is shown, everything before it was handled.
	if _, err := jane.Comment(open, "public words"); err != nil {
		t.Fatal(err)
	}
	h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == testAlice.ID && textHas("public words")(m) })
	h.waitIdle()
	for _, m := range h.tg.Sent() {
		for _, s := range secrets {
			if strings.Contains(m.Text, s) || slices.ContainsFunc(m.Edits, func(e string) bool { return strings.Contains(e, s) }) {
				t.Errorf("chat %d was shown %q: %q", m.ChatID, s, m.Text)
			}
		}
		if strings.Contains(m.Text, "deleted") {
			t.Errorf("the deletion of a restricted comment was shown in %d: %q", m.ChatID, m.Text)
		}
	}
}

// /search keeps to the chat's projects whatever the JQL says: a query that
// closes the narrowing's parenthesis still shows no other project's issue,
// nor a secured one.
func TestSearchCannotLeaveTheScope(t *testing.T) {
	h := newHarness(t)
	h.jira.AddProject("HR", "People")
	hr, err := h.jira.As(testJane).CreateIssue("HR", "Task", "Salaries of everyone", "")
	if err != nil {
		t.Fatal(err)
	}
	ops := h.newIssue("Ops printer")
	hidden := h.newIssue("Ops secret plan")
	if err := h.jira.As(testJane).SetSecurityLevel(hidden, "Staff"); err != nil {
		t.Fatal(err)
	}
	for _, jql := range []string{"project = OPS) OR (project = HR", "project = HR", "summary ~ Salaries ORDER BY key"} {
		answer := h.ask(testAlice, "/search "+jql)
		if strings.Contains(answer.Text, hr.Key) || strings.Contains(answer.Text, hidden) {
			t.Errorf("/search %s showed another project's or a secured issue: %q", jql, answer.Text)
		}
	}
	wantText(t, h.ask(testAlice, "/search project = OPS) OR (project = HR"), ops, "Ops printer")
}

// An edit changes Jira only when its author may act now: the author of a
// message someone else filed with /new may not rewrite the issue.
func TestEditsNeedAUserWhoMayAct(t *testing.T) {
	h := newHarness(t, "ALLOWED_USERS=@alice")
	carol := telegramtest.User{ID: 900, FirstName: "Carol"}
	orig := h.tg.GroupMessage(testGroup, carol, "The VPN drops every hour", 0)
	h.tg.Push(orig)
	answer := h.askGroupReply(testGroup, testAlice, "/new", idOf(orig))
	key := plain(t, answer)[len("📝 "):]
	edited := inner(orig)
	edited["text"] = "Carol's rewrite"
	h.tg.Push(map[string]any{"edited_message": edited})
	h.waitIdle()
	if is, _ := h.jira.Issue(key); is.Summary != "The VPN drops every hour" {
		t.Errorf("a user outside ALLOWED_USERS rewrote %s: %q", key, is.Summary)
	}
	// Carol's message that is a comment (written when she could still act):
	// her edit changes nothing either.
	said := h.tg.GroupMessage(testGroup, carol, "works again", 0)
	h.tg.Push(said)
	h.waitIdle()
	c, err := h.jira.As(testJane).Comment(key, "works again")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.LinkComment(key, c.ID, storage.MessageRef{ChatID: testGroupID, MessageID: idOf(said)}, true); err != nil {
		t.Fatal(err)
	}
	saidEdit := inner(said)
	saidEdit["text"] = "Carol's rewritten comment"
	h.tg.Push(map[string]any{"edited_message": saidEdit})
	h.waitIdle()
	if is, _ := h.jira.Issue(key); is.Comments[len(is.Comments)-1].Body != "works again" {
		t.Errorf("a user outside ALLOWED_USERS rewrote a comment: %q", is.Comments[len(is.Comments)-1].Body)
	}
	// A watcher outside ALLOWED_USERS gets no DMs.
	h.tg.AddChat(telegramtest.Chat{ID: carol.ID, Type: "private", FirstName: "Carol"})
	h.tg.SetChatMember(testChannelID, carol.ID, "member")
	if err := h.store.Watch(key, carol.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.store.Watch(key, testAlice.ID); err != nil {
		t.Fatal(err)
	}
	h.tg.AddChat(telegramtest.Chat{ID: testAlice.ID, Type: "private", FirstName: "Alice"})
	if _, err := h.jira.As(testJane).Comment(key, "checked the VPN"); err != nil {
		t.Fatal(err)
	}
	h.waitSent(func(m telegramtest.SentMessage) bool {
		return m.ChatID == testAlice.ID && textHas("checked the VPN")(m)
	})
	h.waitIdle()
	if sent := h.tg.SentTo(carol.ID); len(sent) != 0 {
		t.Errorf("a watcher outside ALLOWED_USERS got %q", sent[0].Text)
	}
}

// delivered counts the webhooks the receiver accepted.
func delivered(ds []jiratest.Delivery) int {
	n := 0
	for _, d := range ds {
		if d.Status == 200 {
			n++
		}
	}
	return n
}

// On Data Center a Service Management internal note carries no mark in
// the webhook (the fake, like Jira, keeps it in the comment's
// sd.public.comment property): jtbot asks before showing a comment of a
// Service Management project, and shows only the public one.
func TestDataCenterInternalNotesStayInJira(t *testing.T) {
	h := newHarnessOn(t, jiratest.Options{Deployment: "Server"})
	h.jira.SetProjectType("OPS", "service_desk")
	h.tg.AddChat(telegramtest.Chat{ID: testAlice.ID, Type: "private", FirstName: "Alice"})
	key := h.newIssue("VPN for the new office")
	if err := h.store.Watch(key, testAlice.ID); err != nil {
		t.Fatal(err)
	}
	h.waitSent(textHas("VPN for the new office"))
	jane := h.jira.As(testJane)
	if _, err := jane.CommentRestricted(key, "the admin password is hunter2", nil, true); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.Comment(key, "we are on it"); err != nil {
		t.Fatal(err)
	}
	h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == testAlice.ID && textHas("we are on it")(m) })
	h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == testChannelID && textHas("we are on it")(m) })
	h.waitIdle()
	for _, m := range h.tg.Sent() {
		if strings.Contains(m.Text, "hunter2") {
			t.Errorf("chat %d was shown the internal note: %q", m.ChatID, m.Text)
		}
	}
}
