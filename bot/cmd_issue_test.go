package bot

import (
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

func TestIssueCard(t *testing.T) {
	h := newHarness(t)
	key := h.newIssue("Disk full on db-1")
	if err := h.jira.As(testJane).Assign(key, &testJane); err != nil {
		t.Fatal(err)
	}
	card := h.ask(testAlice, "/issue "+key)
	wantText(t, card, key, "Disk full on db-1", "Type: Task", "Status: To Do", "Assignee: Jane Jira",
		"Priority: ", "Reporter: Jane Jira", "Updated: ")
	if !strings.Contains(card.Text, h.jira.URL+"/browse/"+key) {
		t.Errorf("no link in %q", card.Text)
	}
	for _, b := range []string{"Assign to me", "Transition", "Watch"} {
		if findButton(t, card, b).Data == "" {
			t.Errorf("%s has no callback data", b)
		}
	}
	if open := findButton(t, card, "Open in Jira"); open.URL != h.jira.URL+"/browse/"+key {
		t.Errorf("open button = %+v", open)
	}
	// A reply to the card is a comment.
	h.tg.Push(h.tg.GroupMessage(telegramtest.Chat{ID: testAlice.ID, Type: "private"}, testAlice, "looking", card.MessageID))
	if !h.jira.WaitFor(waitTime, func() bool { is, _ := h.jira.Issue(key); return len(is.Comments) == 1 }) {
		t.Fatalf("reply to the card made no comment\n%s", h.logText())
	}
}

func TestCommentCommand(t *testing.T) {
	h := newHarness(t)
	key := h.newIssue("Disk full")
	answer := h.ask(testAlice, "/comment "+strings.ToLower(key)+" cleaned /tmp\nand *rotated* logs")
	wantText(t, answer, "Comment added to "+key)
	is, _ := h.jira.Issue(key)
	if len(is.Comments) != 1 {
		t.Fatalf("comments = %+v", is.Comments)
	}
	body := is.Comments[0].Body
	for _, want := range []string{"Alice Liddell (@alice) via Telegram", "cleaned /tmp", "rotated"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment %q lacks %q", body, want)
		}
	}
	// Jira's comment_created for it is not posted back anywhere.
	h.waitIdle()
	for _, m := range h.tg.Sent() {
		if strings.Contains(m.Text, "cleaned") {
			t.Errorf("comment echoed: %q", m.Text)
		}
	}
}

func TestAssignCommand(t *testing.T) {
	h := newHarness(t)
	key := h.newIssue("Disk full")
	tests := []struct {
		name, cmd, want string
		assignee        string // display name; "" unassigned
		connected       bool
	}{
		{"me without connect", "/assign " + key + " me", "Connect your own Jira account first", "", false},
		{"me", "/assign " + key + " me", "assigned to Jane Jira", "Jane Jira", true},
		{"none", "/assign " + key + " none", "now unassigned", "", true},
		{"by e-mail-ish name", "/assign " + key + " Jane Jira", "assigned to Jane Jira", "Jane Jira", true},
		{"unknown user", "/assign " + key + " zed", "No Jira user matches", "Jane Jira", true},
		{"missing issue", "/assign OPS-77 jane", "OPS-77 not found", "Jane Jira", true},
	}
	connected := false
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.connected && !connected {
				h.connect(testAlice, testJane)
				connected = true
			}
			wantText(t, h.ask(testAlice, tt.cmd), tt.want)
			is, _ := h.jira.Issue(key)
			got := ""
			if is.Assignee != nil {
				got = is.Assignee.DisplayName
			}
			if got != tt.assignee {
				t.Errorf("assignee = %q, want %q", got, tt.assignee)
			}
		})
	}
	is, _ := h.jira.Issue(key)
	notes := 0
	for _, c := range is.Comments {
		if strings.Contains(c.Body, "by Alice Liddell (@alice) via Telegram") {
			notes++
		}
	}
	// Alice acts as Jane: Jira's own history names her, no note needed.
	if notes != 0 {
		t.Errorf("%d notes naming Alice, want none: %+v", notes, is.Comments)
	}
}

func TestTransitionCommand(t *testing.T) {
	h := newHarness(t)
	key := h.newIssue("Disk full")
	tests := []struct {
		name, arg, want, status string
		buttons                 bool
	}{
		{"no status: buttons", "", "Move " + key + " (To Do) to:", "To Do", true},
		{"ambiguous: buttons", " n", "matches several transitions", "To Do", true},
		{"no match: buttons", " nowhere", "No transition of " + key + " matches", "To Do", true},
		{"case-insensitive", " IN PROGRESS", "To Do → In Progress", "In Progress", false},
		{"partial", " don", "In Progress → Done", "Done", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer := h.ask(testAlice, "/transition "+key+tt.arg)
			wantText(t, answer, tt.want)
			if got := len(buttons(t, answer)) > 0; got != tt.buttons {
				t.Errorf("buttons = %v", buttons(t, answer))
			}
			if is, _ := h.jira.Issue(key); is.Status != tt.status {
				t.Errorf("status = %q, want %q", is.Status, tt.status)
			}
		})
	}
	is, _ := h.jira.Issue(key)
	last := is.Comments[len(is.Comments)-1].Body
	if !strings.Contains(last, "Moved from In Progress to Done by Alice Liddell (@alice) via Telegram") {
		t.Errorf("note = %q", last)
	}
}

func TestIssueCardButtons(t *testing.T) {
	h := newHarness(t)
	key := h.newIssue("Disk full")
	card := h.ask(testAlice, "/issue "+key)

	// Transition: the card shows the transitions, one press makes one.
	if got := h.press(testAlice, card, findButton(t, card, "Transition").Data); got.Alert {
		t.Fatalf("transition menu: %+v", got)
	}
	menu := h.waitEdited(card, 1)
	move := findButton(t, menu, "In Progress")
	got := h.press(testAlice, menu, move.Data)
	if got.Alert || !strings.Contains(got.Text, key+" → In Progress") {
		t.Errorf("move answered %+v", got)
	}
	if is, _ := h.jira.Issue(key); is.Status != "In Progress" {
		t.Errorf("status = %q", is.Status)
	}
	card = h.waitEdited(card, 2)
	wantText(t, card, "Status: In Progress")

	// The same transition button again is stale: an alert, nothing done.
	got = h.press(testAlice, card, move.Data)
	if !got.Alert || !strings.Contains(got.Text, "no longer available") {
		t.Errorf("stale move answered %+v", got)
	}

	// Assign to me needs /connect, then works.
	got = h.press(testAlice, card, findButton(t, card, "Assign to me").Data)
	if !got.Alert || !strings.Contains(got.Text, "/connect") {
		t.Errorf("assign without connect answered %+v", got)
	}
	h.connect(testAlice, testJane)
	got = h.press(testAlice, card, findButton(t, card, "Assign to me").Data)
	if got.Alert {
		t.Errorf("assign answered %+v", got)
	}
	if is, _ := h.jira.Issue(key); is.Assignee == nil || is.Assignee.DisplayName != "Jane Jira" {
		t.Errorf("assignee = %+v", is.Assignee)
	}

	// Watch toggles, and the button follows.
	got = h.press(testAlice, card, findButton(t, card, "Watch").Data)
	if !strings.Contains(got.Text, "Watching "+key) {
		t.Errorf("watch answered %+v", got)
	}
	if keys, _ := h.store.Watching(testAlice.ID); len(keys) != 1 || keys[0] != key {
		t.Errorf("watching = %v", keys)
	}
	if !h.tg.WaitFor(waitTime, func() bool {
		return strings.Contains(string(h.message(card.ChatID, card.MessageID).ReplyMarkup), "Unwatch")
	}) {
		t.Errorf("button still says Watch")
	}
	got = h.press(testAlice, card, findButton(t, card, "Watch").Data)
	if !strings.Contains(got.Text, "Stopped watching") {
		t.Errorf("unwatch answered %+v", got)
	}
	if keys, _ := h.store.Watching(testAlice.ID); len(keys) != 0 {
		t.Errorf("watching = %v", keys)
	}
}

func TestButtonsCheckAccessAgain(t *testing.T) {
	h := newHarness(t, "ALLOWED_USERS=@alice")
	key := h.newIssue("Disk full")
	card := h.ask(testAlice, "/issue "+key)
	for _, b := range []string{"Transition", "Assign to me", "Watch"} {
		t.Run(b, func(t *testing.T) {
			got := h.press(testBob, card, findButton(t, card, b).Data)
			if !got.Alert || !strings.Contains(got.Text, "Your Telegram ID is 777") {
				t.Errorf("answered %+v", got)
			}
		})
	}
	if keys, _ := h.store.Watching(testBob.ID); len(keys) != 0 {
		t.Errorf("bob watches %v", keys)
	}
}

func TestStaleButtons(t *testing.T) {
	h := newHarness(t)
	key := h.newIssue("Disk full")
	card := h.ask(testAlice, "/issue "+key)
	tests := []struct {
		name, data, want string
		status           int // a Jira failure first; 0 none
	}{
		{"issue gone", cb(cbWatch, key), key + " not found", 404},
		{"Jira away", cb(cbAssignMe, key), "Jira is unreachable", 503},
		{"no such transition", cb(cbMove, key, "999"), "no longer available", 0},
		{"garbage", "zz|what", "no longer works", 0},
		{"bad page", cb(cbSearchPage, "x"), "no longer works", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status != 0 {
				h.jira.FailNext("GET", "/rest/api/2/issue/"+key, 1, tt.status, 0)
			}
			got := h.press(testAlice, card, tt.data)
			if !got.Alert || !strings.Contains(got.Text, tt.want) {
				t.Errorf("answered %+v, want an alert with %q", got, tt.want)
			}
		})
	}
	// A deleted issue.
	if err := h.jira.As(testJane).DeleteIssue(key); err != nil {
		t.Fatal(err)
	}
	got := h.press(testAlice, card, findButton(t, card, "Transition").Data)
	if !got.Alert || !strings.Contains(got.Text, key+" not found") {
		t.Errorf("deleted issue answered %+v", got)
	}
}

// A transition whose screen requires a resolution (a typical Data Center
// "Resolve" screen, modelled by the fake) offers the resolutions as
// buttons, or takes resolution=NAME; a screen with other required fields
// sends the user to Jira. Never Jira's raw 400.
func TestTransitionScreens(t *testing.T) {
	h := newHarness(t)
	h.jira.RequireOnTransition("Done", jiratest.ResolutionField())
	h.jira.RequireOnTransition("In Progress", jiratest.TransitionField{ID: "customfield_10050", Name: "Root cause", Required: true})

	// Buttons, then a press on one.
	key := h.newIssue("Disk full")
	answer := h.ask(testAlice, "/transition "+key+" done")
	wantText(t, answer, "needs a resolution")
	fixed := findButton(t, answer, "Fixed")
	h.press(testAlice, answer, fixed.Data)
	if is, _ := h.jira.Issue(key); is.Status != "Done" || is.Resolution != "Fixed" {
		t.Errorf("after the press: status %q, resolution %q", is.Status, is.Resolution)
	}

	// resolution=NAME, any case.
	other := h.newIssue("Fan noise")
	wantText(t, h.ask(testAlice, "/transition "+other+" done resolution=won't do"), "To Do → Done")
	if is, _ := h.jira.Issue(other); is.Status != "Done" || is.Resolution != "Won't Do" {
		t.Errorf("resolution=: status %q, resolution %q", is.Status, is.Resolution)
	}
	// A resolution the screen does not offer changes nothing.
	third := h.newIssue("Printer")
	wantText(t, h.ask(testAlice, "/transition "+third+" done resolution=Whatever"), "a resolution among Fixed, Won't Do, Duplicate")

	// Another required field: a short line with a link, nothing changed.
	wantText(t, h.ask(testAlice, "/transition "+third+" in progress"), "needs Root cause", "do it in Jira", h.jira.URL+"/browse/"+third)
	if is, _ := h.jira.Issue(third); is.Status != "To Do" {
		t.Errorf("status %q after a refused transition", is.Status)
	}
}
