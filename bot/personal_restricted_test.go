package bot

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// bobJira is Bob's own Jira account.
var bobJira = jiratest.User{AccountID: "acc-bob", Name: "bob", DisplayName: "Bob Jira"}

// dmTo waits for a DM to u containing s.
func (h *harness) dmTo(u telegramtest.User, s string) {
	h.t.Helper()
	h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == u.ID && textHas(s)(m) })
}

// shownOnlyTo fails for every message that shows one of secrets to a chat
// other than the allowed ones.
func (h *harness) shownOnlyTo(secrets []string, allowed ...int64) {
	h.t.Helper()
	for _, m := range h.tg.Sent() {
		if slices.Contains(allowed, m.ChatID) {
			continue
		}
		for _, s := range secrets {
			if strings.Contains(m.Text, s) {
				h.t.Errorf("chat %d was shown %q: %q", m.ChatID, s, m.Text)
			}
		}
	}
}

// A comment restricted to a group reaches, by DM, the reporter who is in
// the group, and no one else: not before she joins, not when Jira cannot
// say (the batch is not retried for it), never a chat nor a /watch DM.
func TestRestrictedCommentReachesWhomJiraLets(t *testing.T) {
	h := newHarness(t)
	h.jira.AddUser(aliceJira)
	h.connect(testAlice, aliceJira)
	// Bob watches with /watch; reading the channel puts OPS in his DM scope.
	h.tg.AddChat(telegramtest.Chat{ID: testBob.ID, Type: "private", FirstName: "Bob"})
	h.tg.SetChatMember(testChannelID, testBob.ID, "member")
	is, err := h.jira.As(aliceJira).CreateIssue("OPS", "Task", "Disk full", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.Watch(is.Key, testBob.ID); err != nil {
		t.Fatal(err)
	}
	h.waitSent(textHas("Disk full")) // its root in the channel
	jane := h.jira.As(testJane)
	admins := &jiratest.Visibility{Type: "group", Value: "jira-admins"}
	comment := func(body string, vis *jiratest.Visibility) {
		t.Helper()
		if _, err := jane.CommentRestricted(is.Key, body, vis, false); err != nil {
			t.Fatal(err)
		}
	}

	comment("before joining words", admins)
	comment("first public words", nil) // once Alice has it, the one before was handled
	h.dmTo(testAlice, "first public words")

	h.jira.AddToGroup(aliceJira, "jira-admins")
	comment("member words", admins)
	h.dmTo(testAlice, "member words")

	h.jira.FailNext("GET", "/rest/api/2/issue/"+is.Key+"/comment/", 1, 500, 0)
	comment("outage words", admins)
	comment("last public words", nil)
	h.dmTo(testAlice, "last public words")
	h.waitIdle()

	if n := dmsTo(h, testAlice.ID, "member words"); n != 1 {
		t.Errorf("Alice got the member's comment %d times", n)
	}
	for _, s := range []string{"before joining words", "outage words"} {
		if n := dmsTo(h, testAlice.ID, s); n != 0 {
			t.Errorf("Alice got %q", s)
		}
	}
	if !failedOnce(h, is.Key) {
		t.Error("Alice's read check never met the outage")
	}
	if n := len(h.sentMatching("last public words")); n != 3 { // the chat, Bob's /watch DM, Alice's DM
		t.Errorf("the last public comment was sent %d times, want 3", n)
	}
	h.shownOnlyTo([]string{"before joining words", "member words", "outage words"}, testAlice.ID)
}

// failedOnce: a person's read check of a comment of key got the 500.
func failedOnce(h *harness, key string) bool {
	for _, r := range h.jira.Requests() {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/rest/api/2/issue/"+key+"/comment/") && r.Status == 500 {
			return true
		}
	}
	return false
}

// A Service Management internal note reaches the agent who watches the
// request, not the customer who reported it: on Cloud the webhook marks
// it (jsdPublic), on Data Center only the comment's property does.
func TestInternalNoteReachesAgentsNotCustomers(t *testing.T) {
	for _, d := range []string{"Cloud", "Server"} {
		t.Run(d, func(t *testing.T) { internalNoteReachesAgents(t, d) })
	}
}

func internalNoteReachesAgents(t *testing.T, deployment string) {
	h := newHarnessOn(t, jiratest.Options{Deployment: deployment})
	h.jira.SetProjectType("OPS", "service_desk")
	h.jira.AddUser(aliceJira)
	h.jira.AddUser(bobJira)
	h.connect(testAlice, aliceJira)
	h.connect(testBob, bobJira)
	h.jira.AddToRole(bobJira, "OPS", jiratest.ServiceDeskTeam)
	is, err := h.jira.As(aliceJira).CreateIssue("OPS", "Task", "Printer jam", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.jira.AddWatcher(is.Key, bobJira); err != nil {
		t.Fatal(err)
	}
	jane := h.jira.As(testJane)
	if _, err := jane.CommentRestricted(is.Key, "internal words", nil, true); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.Comment(is.Key, "public words"); err != nil {
		t.Fatal(err)
	}
	h.dmTo(testBob, "internal words")
	h.dmTo(testAlice, "public words")
	h.dmTo(testBob, "public words")
	h.waitIdle()
	h.shownOnlyTo([]string{"internal words"}, testBob.ID)
}

// A person's answer about a comment is kept for the coalescing window:
// asked once, however many events of the window need it.
func TestCommentReadCheckIsKeptForTheWindow(t *testing.T) {
	h := newHarness(t, "COALESCE_WINDOW=1h") // the worker sleeps: only the direct calls below ask
	h.jira.AddUser(aliceJira)
	h.connect(testAlice, aliceJira)
	key := h.newIssue("Disk full")
	c, err := h.jira.As(testJane).CommentRestricted(key, "secret", &jiratest.Visibility{Type: "group", Value: "jira-admins"}, false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := h.store.Account(testAlice.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if h.bot.canReadComment(ctx, a, key, c.ID) {
		t.Error("Alice reads a comment of a group she is not in")
	}
	h.jira.AddToGroup(aliceJira, "jira-admins")
	if h.bot.canReadComment(ctx, a, key, c.ID) {
		t.Error("the kept answer was not used")
	}
	asked := 0
	for _, r := range h.jira.Requests() {
		if r.Method == "GET" && r.Path == "/rest/api/2/issue/"+key+"/comment/"+c.ID {
			asked++
		}
	}
	if asked != 1 {
		t.Errorf("Jira was asked %d times, want once", asked)
	}
}

// A connected person outside ALLOWED_USERS may /watch with their own
// account, and their watch DMs follow what that account may read.
func TestConnectedWatcherGetsWhatTheirAccountReads(t *testing.T) {
	h := newHarness(t, "ALLOWED_USERS=@alice")
	h.jira.AddUser(bobJira)
	h.tg.AddChat(telegramtest.Chat{ID: testBob.ID, Type: "private", FirstName: "Bob"})
	h.connect(testBob, bobJira)
	key := h.newIssue("Coffee machine")
	wantText(t, h.ask(testBob, "/watch "+key), "Watching")
	jane := h.jira.As(testJane)
	if _, err := jane.Comment(key, "descaled"); err != nil {
		t.Fatal(err)
	}
	h.dmTo(testBob, "descaled")
	h.jira.DenyProject(bobJira, "OPS")
	if _, err := jane.Comment(key, "new filters bought"); err != nil {
		t.Fatal(err)
	}
	h.waitSent(textHas("new filters bought")) // the channel's copy: the batch is done
	h.waitIdle()
	h.shownOnlyTo([]string{"new filters bought"}, testChannelID, testGroupID)
}
