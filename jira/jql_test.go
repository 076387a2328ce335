package jira

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// jqlIssues makes OPS-1 (a Bug labelled release, component API) and OPS-2
// (a Task) and returns OPS-1's id.
func jqlIssues(t *testing.T, srv *jiratest.Server) string {
	t.Helper()
	srv.AddComponent("OPS", "API")
	a := srv.As(jane)
	one, err := a.CreateIssue("OPS", "Bug", "Disk full", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateIssue("OPS", "Task", "Rotate keys", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.Edit("OPS-1", map[string]any{"labels": []string{"release"},
		"components": []map[string]string{{"name": "API"}}, "priority": map[string]string{"name": "Highest"}}); err != nil {
		t.Fatal(err)
	}
	return one.ID
}

func TestMatchesJQL(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		id := jqlIssues(t, srv)
		for _, tt := range []struct {
			issue, jql string
			want       bool
		}{
			{"OPS-1", "labels = release", true},
			{"OPS-2", "labels = release", false},
			{"OPS-1", "component = API AND priority = Highest", true},
			{"OPS-1", `component = api AND priority in (High, "Medium")`, false},
			{"OPS-2", "labels = release OR type = Task", true},
			{"OPS-2", "issuetype != Task", false},
			{"OPS-1", "project = OPS AND status = \"To Do\" AND NOT (labels is EMPTY)", true},
			{id, "labels = release", true},
		} {
			got, err := c.MatchesJQL(context.Background(), tt.issue, tt.jql)
			if err != nil || got != tt.want {
				t.Errorf("MatchesJQL(%s, %q) = %v, %v; want %v", tt.issue, tt.jql, got, err, tt.want)
			}
		}
	})
}

// Cloud's search lags behind the change that fired the event; the issue
// is reconciled, so the answer is about the issue as it is now.
func TestMatchesJQLReconciles(t *testing.T) {
	srv, c := site(t, "Cloud")
	id := jqlIssues(t, srv)
	srv.SetSearchLag(time.Hour)
	ctx := context.Background()
	if hits, _, err := c.SearchPage(ctx, "labels = release", 0, 10); err != nil || len(hits) != 0 {
		t.Fatalf("the lagging search sees %v, %v: the test proves nothing", hits, err)
	}
	before := len(srv.Requests())
	if ok, err := c.MatchesJQL(ctx, "OPS-1", "labels = release"); !ok || err != nil {
		t.Errorf("by key: %v, %v", ok, err)
	}
	if ok, err := c.MatchesJQL(ctx, id, "labels = release"); !ok || err != nil {
		t.Errorf("by id: %v, %v", ok, err)
	}
	// By key: a read for the id, then the search; by id: the search alone.
	if n := len(srv.Requests()) - before; n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestJQLRefused(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		jqlIssues(t, srv)
		ctx := context.Background()
		for _, tt := range []struct{ jql, msg string }{
			{"colour = red", "Field 'colour' does not exist or you do not have permission to view it."},
			{"status = Nope", "The value 'Nope' does not exist for the field 'status'."},
			{"status = Done ORDER BY created", "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'ORDER'."},
			{`summary ~ "open`, "Error in the JQL Query: The quoted string"},
		} {
			err := c.CheckJQL(ctx, tt.jql)
			var je *Error
			if !errors.As(err, &je) || je.Status != 400 || !strings.HasPrefix(je.Message, tt.msg) {
				t.Errorf("CheckJQL(%q) = %v; want 400 %q", tt.jql, err, tt.msg)
			}
			if _, err := c.MatchesJQL(ctx, "OPS-1", tt.jql); !errors.As(err, &je) || je.Status != 400 {
				t.Errorf("MatchesJQL(%q) = %v; want a 400", tt.jql, err)
			}
		}
		for _, ok := range []string{"labels = release", "component in (API) OR priority != Low"} {
			if err := c.CheckJQL(ctx, ok); err != nil {
				t.Errorf("CheckJQL(%q) = %v", ok, err)
			}
		}
		if _, err := c.MatchesJQL(ctx, "OPS-99", "labels = release"); err == nil {
			t.Error("an issue that does not exist matched or passed")
		}
	})
}
