package jira

import (
	"context"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// Labels and components as the real payloads carry them, and whether a
// payload says anything about them at all.
func TestEventLabelsComponents(t *testing.T) {
	tests := []struct {
		fixture            string
		labels, components string // "?" = not in the payload
	}{
		{"cloud-issue-created.json", "test-label", "COMP-1"},
		{"cloud-issue-updated-attachment-changelog.json", "sad,test-label", "COMP-1"},
		{"server-issue-updated-assignee.json", "", ""},
		{"cloud-issue-deleted.json", "", ""},
		{"cloud-comment-created.json", "?", "?"},    // a brief issue
		{"cloud-attachment-created.json", "?", "?"}, // only the summary
		{"server-comment-updated.json", "?", "?"},   // no issue at all
		{"server-issue-deleted.json", "", ""},
	}
	show := func(l List) string {
		if !l.Known {
			return "?"
		}
		return strings.Join(l.Names, ",")
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			ev, err := ParseEvent(fixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var f IssueFields
			if ev.Issue != nil {
				f = ev.Issue.Fields
			}
			if got := show(f.Labels); got != tt.labels {
				t.Errorf("labels %q, want %q", got, tt.labels)
			}
			if got := show(f.Components); got != tt.components {
				t.Errorf("components %q, want %q", got, tt.components)
			}
		})
	}
}

// A field of an unexpected shape is unknown; it does not reject the event.
func TestListOddShapes(t *testing.T) {
	for body, want := range map[string]string{
		`{"issue":{"fields":{"labels":"x"}}}`:                  "?",
		`{"issue":{"fields":{"labels":[1,"a"]}}}`:              "1,a",
		`{"issue":{"fields":{"labels":[{"name":"n"},[]]}}}`:    "?",
		`{"issue":{"fields":{"labels":null}}}`:                 "",
		`{"issue":{"fields":{"components":[{"id":"1"}]}}}`:     "", // no name: nothing to match
		`{"issue":{"fields":{"components":[{"name":"API"}]}}}`: "API",
	} {
		ev, err := ParseEvent([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		l := ev.Issue.Fields.Labels
		if strings.Contains(body, "components") {
			l = ev.Issue.Fields.Components
		}
		got := "?"
		if l.Known {
			got = strings.Join(l.Names, ",")
		}
		if got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
}

// A card carries the issue's labels and components, for routing events
// whose payload lacks them.
func TestCardLabelsComponents(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		srv.AddComponent("OPS", "API")
		a := srv.As(jane)
		if _, err := a.CreateIssue("OPS", "Bug", "Disk full", ""); err != nil {
			t.Fatal(err)
		}
		if err := a.Edit("OPS-1", map[string]any{"labels": []string{"release", "db"},
			"components": []map[string]string{{"name": "api"}}}); err != nil {
			t.Fatal(err)
		}
		card, err := c.GetIssue(context.Background(), "OPS-1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(card.Labels, ",") != "release,db" || strings.Join(card.Components, ",") != "API" {
			t.Errorf("labels %v, components %v", card.Labels, card.Components)
		}
	})
}
