package route

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira"
)

// fixture parses one of the real payloads kept beside the jira package.
func fixture(t testing.TB, name string) *jira.Event {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "jira", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := jira.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// show is the facts in one line: project key id kinds type priority
// status labels components | missing.
func show(f Facts) string {
	return strings.Join([]string{f.Project, f.Key, f.IssueID, strings.Join(f.Kinds.Names(), "+"), f.Type, f.Priority, f.Status,
		strings.Join(f.Labels, "+"), strings.Join(f.Components, "+"), "|", strings.Join(f.Missing(), "+")}, " ")
}

func TestFactsOf(t *testing.T) {
	tests := []struct{ fixture, want string }{
		{"cloud-issue-created.json", "TES TES-41 10040 created story high to do test-label comp-1 | "},
		{"cloud-issue-updated-status-in-progress.json", "TES TES-41 10040 status story high in progress test-label comp-1 | "},
		{"cloud-issue-updated-assignee.json", "TES TES-41 10040 assignee story high to do test-label comp-1 | "},
		{"cloud-issue-updated-unassigned.json", "TES TES-41 10040 assignee story high to do test-label comp-1 | "},
		{"cloud-issue-updated-attachment-changelog.json", "TES TES-41 10040 attachment story high to do sad+test-label comp-1 | "},
		{"cloud-issue-deleted.json", "IDT IDT-19 10303 deleted task medium to do   | "},
		// Cloud's comment events: a brief issue without labels or components.
		{"cloud-comment-created.json", "TES TES-41 10040 comment story high to do   | label+component"},
		{"cloud-comment-updated.json", "TES TES-41 10040 comment story high to do   | label+component"},
		{"cloud-comment-deleted.json", "KT KT-7 10357 comment task high to do   | label+component"},
		// Cloud's attachment_created: the key and a summary, no project object.
		{"cloud-attachment-created.json", "BUG BUG-15 10000 attachment      | type+priority+status+label+component"},
		// Data Center's comment events: no issue, its id in the comment's URL.
		{"server-comment-updated.json", "  10013 comment      | project+type+priority+status+label+component"},
		{"server-comment-deleted.json", "  10013 comment      | project+type+priority+status+label+component"},
		{"server-issue-updated-assignee.json", "PRJA PRJA-37 10226 assignee improvement medium to do   | "},
		// Data Center's issue_updated twin of a comment: no changelog.
		{"server-issue-updated-issue-commented.json", "PRJA PRJA-42 10231 comment improvement medium to do   | "},
		{"server-issue-deleted.json", "ZAVA ZAVA-24 10200 deleted task medium to do   | "},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			if got := show(FactsOf(fixture(t, tt.fixture))); got != tt.want {
				t.Errorf("\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// An issue_created's changelog lists the new issue's fields: still only
// "created". Other changelog fields are "updated".
func TestUpdateKinds(t *testing.T) {
	item := func(field string) jira.ChangeItem { return jira.ChangeItem{Field: jira.Text(field)} }
	tests := []struct {
		ev   jira.Event
		want string
	}{
		{jira.Event{WebhookEvent: jira.EventIssueCreated, Changelog: &jira.Changelog{Items: []jira.ChangeItem{item("status"), item("priority")}}}, "created"},
		{jira.Event{WebhookEvent: jira.EventIssueUpdated, Changelog: &jira.Changelog{Items: []jira.ChangeItem{item("Status"), item("resolution")}}}, "status+updated"},
		{jira.Event{WebhookEvent: jira.EventIssueUpdated, Changelog: &jira.Changelog{Items: []jira.ChangeItem{item("summary"), item("labels"), item("Component")}}}, "updated"},
		{jira.Event{WebhookEvent: jira.EventIssueUpdated, Changelog: &jira.Changelog{Items: []jira.ChangeItem{item("priority"), item("assignee"), item("Attachment")}}}, "assignee+priority+attachment"},
		{jira.Event{WebhookEvent: jira.EventIssueUpdated}, "updated"},
		{jira.Event{WebhookEvent: jira.EventIssueUpdated, IssueEventType: "issue_comment_deleted"}, "comment"},
		{jira.Event{WebhookEvent: jira.EventIssueUpdated, Comment: &jira.Comment{ID: "1"},
			Changelog: &jira.Changelog{Items: []jira.ChangeItem{item("status")}}}, "status+comment"},
		{jira.Event{WebhookEvent: "worklog_created"}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(FactsOf(&tt.ev).Kinds.Names(), "+"); got != tt.want {
			t.Errorf("%s %+v: %q, want %q", tt.ev.WebhookEvent, tt.ev.Changelog, got, tt.want)
		}
	}
}

// Fill completes what the payload lacked and keeps what it had.
func TestFill(t *testing.T) {
	card := jira.Card{Key: "PRJA-9", ID: "10013", Project: "PRJA", Type: "Bug", Priority: "Highest", Status: "Done",
		Labels: []string{"Release"}, Components: []string{"API"}}
	f := FactsOf(fixture(t, "server-comment-updated.json"))
	f.Fill(card)
	if got, want := show(f), "PRJA PRJA-9 10013 comment bug highest done release api | "; got != want {
		t.Errorf("DC comment filled:\n got %q\nwant %q", got, want)
	}
	f = FactsOf(fixture(t, "cloud-comment-created.json"))
	f.Fill(card)
	if got, want := show(f), "TES TES-41 10040 comment story high to do release api | "; got != want {
		t.Errorf("Cloud comment filled:\n got %q\nwant %q", got, want)
	}
}
