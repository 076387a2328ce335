package route

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/storage"
)

// testSubs are subscriptions to TES, the fixtures' project, and one to DEV.
func testSubs() []storage.Subscription {
	subs := []storage.Subscription{
		{ID: 1, Chat: -1},
		{ID: 2, Chat: -2, Thread: 5, Types: []string{"Bug"}, Events: []string{"status", "comment"}},
		{ID: 3, Chat: -2, Thread: 5, Priorities: []string{"High"}},
		{ID: 4, Chat: -2, Labels: []string{"release"}},
		{ID: 5, Chat: -3, Events: []string{"comment"}, JQL: "labels = x"},
		{ID: 6, Chat: -3, JQL: "priority = High"},
		{ID: 7, Chat: -3, Types: []string{"STORY"}, JQL: "labels = x"},
		{ID: 8, Chat: -4, Project: "DEV"},
		{ID: 9, Chat: -5, Components: []string{"COMP-1"}, Statuses: []string{"In Progress"}},
		{ID: 10, Chat: -5, Events: []string{"created"}, Labels: []string{"TEST-LABEL"}},
		{ID: 11, Chat: -6, Events: []string{"deleted"}},
		{ID: 12, Chat: -7, Labels: []string{"sad"}, Events: []string{"attachment"}},
		{ID: 13, Chat: -3, Events: []string{"attachment"}},
	}
	for i := range subs {
		if subs[i].Project == "" {
			subs[i].Project = "tes" // upper-cased by the index
		}
	}
	return subs
}

// showMatches is "chat[/thread]:ids:always" or "chat:ids:jql|jql", space-separated.
func showMatches(ms []Match) string {
	var parts []string
	for _, m := range ms {
		where := fmt.Sprint(m.Chat)
		if m.Thread != 0 {
			where += fmt.Sprintf("/%d", m.Thread)
		}
		ids := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(m.Subscriptions)), ","), "[]")
		due := "always"
		if !m.Always {
			due = strings.Join(m.JQLs, "|")
		}
		parts = append(parts, where+":"+ids+":"+due)
	}
	return strings.Join(parts, " ")
}

func TestMatch(t *testing.T) {
	ix := NewIndex(testSubs())
	tests := []struct{ fixture, want string }{
		{"cloud-issue-updated-status-in-progress.json", "-5:9:always -3:6,7:priority = High|labels = x -2/5:3:always -1:1:always"},
		{"cloud-issue-created.json", "-5:10:always -3:6,7:priority = High|labels = x -2/5:3:always -1:1:always"},
		// Labels and components unknown: their filters do not match (yet).
		{"cloud-comment-created.json", "-3:5,6,7:labels = x|priority = High -2/5:3:always -1:1:always"},
		// A subscription without JQL makes the chat's delivery due at once.
		{"cloud-issue-updated-attachment-changelog.json", "-7:12:always -3:6,7,13:always -2/5:3:always -1:1:always"},
		{"cloud-issue-deleted.json", ""}, // IDT: nobody subscribed
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			if got := showMatches(ix.Match(FactsOf(fixture(t, tt.fixture)))); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// Field filters, one at a time, on hand-made facts.
func TestMatchFilters(t *testing.T) {
	facts := Facts{Project: "OPS", Key: "OPS-1", Kinds: Status | Updated, Type: "bug", Priority: "highest",
		Status: "in progress", Labels: []string{"release", "db"}, Components: []string{"api"}}
	tests := []struct {
		sub  storage.Subscription
		want bool
	}{
		{storage.Subscription{}, true},
		{storage.Subscription{Events: []string{"status"}}, true},
		{storage.Subscription{Events: []string{"comment", "created"}}, false},
		{storage.Subscription{Types: []string{"Story", "bug"}}, true},
		{storage.Subscription{Types: []string{"Story"}}, false},
		{storage.Subscription{Priorities: []string{"HIGHEST"}}, true},
		{storage.Subscription{Priorities: []string{"High"}}, false},
		{storage.Subscription{Statuses: []string{"In Progress"}}, true},
		{storage.Subscription{Statuses: []string{"Done"}}, false},
		{storage.Subscription{Labels: []string{"x", "DB"}}, true},
		{storage.Subscription{Labels: []string{"x"}}, false},
		{storage.Subscription{Components: []string{"Api"}}, true},
		{storage.Subscription{Components: []string{"Web"}}, false},
		{storage.Subscription{Types: []string{"Bug"}, Labels: []string{"release"}, Events: []string{"status"}}, true},
		{storage.Subscription{Types: []string{"Bug"}, Labels: []string{"nope"}}, false},
		{storage.Subscription{Project: "DEV"}, false},
	}
	for _, tt := range tests {
		if tt.sub.Project == "" {
			tt.sub.Project = "OPS"
		}
		tt.sub.Chat, tt.sub.ID = -1, 1
		got := len(NewIndex([]storage.Subscription{tt.sub}).Match(facts)) == 1
		if got != tt.want {
			t.Errorf("%+v matched %v, want %v", tt.sub, got, tt.want)
		}
	}
	// Only a subscription without an events: filter hears other changes.
	only := Facts{Project: "OPS", Kinds: Updated}
	ix := NewIndex([]storage.Subscription{{ID: 1, Chat: -1, Project: "OPS"},
		{ID: 2, Chat: -2, Project: "OPS", Events: EventNames()}})
	if got := showMatches(ix.Match(only)); got != "-1:1:always" {
		t.Errorf("an update of other fields went to %q", got)
	}
	if got := ix.Match(Facts{Project: "OPS"}); got != nil {
		t.Errorf("an event of no kind went to %v", showMatches(got))
	}
}

func TestNeedsIssue(t *testing.T) {
	full := NewIndex(testSubs())
	plain := NewIndex([]storage.Subscription{{ID: 1, Chat: -1, Project: "TES", Types: []string{"Story"}}})
	empty := NewIndex(nil)
	tests := []struct {
		fixture            string
		full, plain, empty bool
	}{
		{"cloud-issue-created.json", false, false, false},
		{"cloud-comment-created.json", true, false, false},     // labels and components missing
		{"cloud-attachment-created.json", false, false, false}, // BUG: nobody subscribed
		{"server-comment-updated.json", true, true, false},     // not even the project
	}
	for _, tt := range tests {
		f := FactsOf(fixture(t, tt.fixture))
		if got := []bool{full.NeedsIssue(f), plain.NeedsIssue(f), empty.NeedsIssue(f)}; !reflect.DeepEqual(got, []bool{tt.full, tt.plain, tt.empty}) {
			t.Errorf("%s: NeedsIssue = %v, want %v", tt.fixture, got, []bool{tt.full, tt.plain, tt.empty})
		}
	}
	// Filled from the issue, the comment reaches the label subscription.
	f := FactsOf(fixture(t, "cloud-comment-created.json"))
	f.Fill(jira.Card{Labels: []string{"release"}, Components: []string{"COMP-1"}})
	if full.NeedsIssue(f) {
		t.Error("still needs the issue after Fill")
	}
	if got, want := showMatches(full.Match(f)), "-3:5,6,7:labels = x|priority = High -2:4:always -2/5:3:always -1:1:always"; got != want {
		t.Errorf("filled:\n got %s\nwant %s", got, want)
	}
	if got := full.Projects(); !reflect.DeepEqual(got, []string{"DEV", "TES"}) {
		t.Errorf("Projects = %v", got)
	}
}
