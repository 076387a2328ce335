package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jtbot/jtbot/jira/jiratest"
)

var jane = jiratest.User{AccountID: "acc-jane", Name: "jane", DisplayName: "Jane Jira", Email: "jane@example.com"}

// site starts a fake Jira of one deployment (under a context path, which
// catches requests that lose it) and a client for it.
func site(t *testing.T, deployment string) (*jiratest.Server, *Client) {
	t.Helper()
	srv := jiratest.NewServer(jiratest.Options{User: "bot@example.com", Token: "tok", Deployment: deployment, ContextPath: "/jira"})
	t.Cleanup(srv.Close)
	srv.AddProject("OPS", "Operations")
	srv.AddUser(jane)
	c, err := New(srv.URL, "bot@example.com", "tok", &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func deployments(t *testing.T, run func(t *testing.T, srv *jiratest.Server, c *Client)) {
	for _, d := range []string{"Cloud", "Server"} {
		t.Run(d, func(t *testing.T) {
			srv, c := site(t, d)
			run(t, srv, c)
		})
	}
}

func TestGetIssue(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		if _, err := srv.As(jane).CreateIssue("OPS", "Bug", "Disk full", ""); err != nil {
			t.Fatal(err)
		}
		if err := srv.As(jane).Assign("OPS-1", &jane); err != nil {
			t.Fatal(err)
		}
		is, err := c.GetIssue(context.Background(), "OPS-1")
		if err != nil {
			t.Fatal(err)
		}
		if is.Key != "OPS-1" || is.Summary != "Disk full" || is.Type != "Bug" || is.Status != "To Do" || is.Project != "OPS" {
			t.Errorf("issue = %+v", is)
		}
		if is.Assignee.Display() != "Jane Jira" || is.Reporter.Display() != "Jane Jira" || is.Updated.IsZero() {
			t.Errorf("people/updated = %v %v %v", is.Assignee, is.Reporter, is.Updated)
		}
		if len(is.Transitions) != 2 || is.Transitions[0].To == "" {
			t.Errorf("transitions = %+v", is.Transitions)
		}
		_, err = c.GetIssue(context.Background(), "OPS-99")
		if !IsNotFound(err) {
			t.Errorf("missing issue: err = %v", err)
		}
	})
}

func TestTransitionAndAssign(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		ctx := context.Background()
		if _, err := srv.As(jane).CreateIssue("OPS", "Task", "Deploy", ""); err != nil {
			t.Fatal(err)
		}
		list, err := c.Transitions(ctx, "OPS-1")
		if err != nil {
			t.Fatal(err)
		}
		var toDone string
		for _, tr := range list {
			if tr.To == "Done" {
				toDone = tr.ID
			}
		}
		if err := c.DoTransition(ctx, "OPS-1", toDone); err != nil {
			t.Fatal(err)
		}
		id, err := c.UserID(ctx, User{AccountID: Text(jane.AccountID), Name: Text(jane.Name)})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Assign(ctx, "OPS-1", id); err != nil {
			t.Fatal(err)
		}
		is, _ := srv.Issue("OPS-1")
		if is.Status != "Done" || is.Assignee == nil || is.Assignee.DisplayName != "Jane Jira" {
			t.Errorf("issue = %+v", is)
		}
		if err := c.Assign(ctx, "OPS-1", ""); err != nil {
			t.Fatal(err)
		}
		if is, _ := srv.Issue("OPS-1"); is.Assignee != nil {
			t.Errorf("still assigned to %v", is.Assignee)
		}
		err = c.DoTransition(ctx, "OPS-1", toDone)
		var je *Error
		if !errors.As(err, &je) || je.Status != 400 {
			t.Errorf("stale transition: err = %v", err)
		}
	})
}

func TestFindAndGetUser(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		ctx := context.Background()
		found, err := c.FindUsers(ctx, "jane@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].Display() != "Jane Jira" {
			t.Fatalf("found = %+v", found)
		}
		id, _ := c.UserID(ctx, found[0])
		u, err := c.GetUser(ctx, id)
		if err != nil || u.Display() != "Jane Jira" {
			t.Errorf("GetUser(%q) = %+v, %v", id, u, err)
		}
		if none, err := c.FindUsers(ctx, "nobody-here"); err != nil || len(none) != 0 {
			t.Errorf("no match: %v, %v", none, err)
		}
	})
}

func TestGetProject(t *testing.T) {
	_, c := site(t, "Cloud")
	p, err := c.GetProject(context.Background(), "OPS")
	if err != nil || p.Name != "Operations" {
		t.Errorf("project = %+v, %v", p, err)
	}
	if _, err := c.GetProject(context.Background(), "NOPE"); !IsNotFound(err) {
		t.Errorf("missing project: err = %v", err)
	}
}

func TestSearchPage(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		for i := 1; i <= 25; i++ {
			if _, err := srv.As(jane).CreateIssue("OPS", "Task", fmt.Sprintf("Issue %d", i), ""); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name        string
			start       int
			first, last string
			count       int
			more        bool
		}{
			{"first page", 0, "OPS-1", "OPS-10", 10, true},
			{"middle page", 10, "OPS-11", "OPS-20", 10, true},
			{"last page", 20, "OPS-21", "OPS-25", 5, false},
			{"past the end", 30, "", "", 0, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, more, err := c.SearchPage(context.Background(), "project = OPS ORDER BY key ASC", tt.start, 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) != tt.count || more != tt.more {
					t.Fatalf("got %d issues, more=%v", len(page), more)
				}
				if tt.count > 0 && (page[0].Key != tt.first || page[len(page)-1].Key != tt.last || page[0].Status != "To Do") {
					t.Errorf("page = %+v … %+v", page[0], page[len(page)-1])
				}
			})
		}
		_, _, err := c.SearchPage(context.Background(), "project = ", 0, 10)
		var je *Error
		if !errors.As(err, &je) || je.Status != 400 || je.Message == "" {
			t.Errorf("bad JQL: err = %#v", err)
		}
	})
}

func TestIssueErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		temporary bool
	}{
		{"forbidden", 403, false},
		{"server error", 500, true},
		{"rate limited", 429, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := site(t, "Cloud")
			srv.FailNext("GET", "/rest/api/2/issue/", 1, tt.status, time.Second)
			_, err := c.GetIssue(context.Background(), "OPS-1")
			var je *Error
			if !errors.As(err, &je) || je.Status != tt.status || je.Temporary() != tt.temporary {
				t.Errorf("err = %v", err)
			}
		})
	}
}
