package jira

import (
	"context"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
)

func TestInternalNote(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		ctx := context.Background()
		is, err := srv.As(jane).CreateIssue("OPS", "Task", "Printer", "")
		if err != nil {
			t.Fatal(err)
		}
		public, err := srv.As(jane).Comment(is.Key, "for the customer")
		if err != nil {
			t.Fatal(err)
		}
		note, err := srv.As(jane).CommentRestricted(is.Key, "agents only", nil, true)
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{public.ID: false, note.ID: true, "999999": true} {
			if got, err := c.InternalNote(ctx, is.Key, id); err != nil || got != want {
				t.Errorf("comment %s: internal %v, %v; want %v", id, got, err, want)
			}
		}
		srv.FailNext("GET", "/rest/api/2/issue/", 1, 503, 0)
		if _, err := c.InternalNote(ctx, is.Key, note.ID); err == nil {
			t.Error("an outage reads as an answer")
		}
	})
}
