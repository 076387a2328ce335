package jira

import (
	"context"
	"reflect"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
)

func TestTransitionScreens(t *testing.T) {
	rootCause := jiratest.TransitionField{ID: "customfield_10050", Name: "Root cause", Allowed: []string{"Code", "Config"}, Required: true}
	tests := []struct {
		name      string
		screen    []jiratest.TransitionField
		fields    map[string]any
		missing   []string
		resolved  string // resolution after a successful transition
		otherReqs int
	}{
		{"no screen: workflow sets Done", nil, nil, nil, "Done", 0},
		{"resolution required, not given", []jiratest.TransitionField{jiratest.ResolutionField()}, nil, []string{"resolution"}, "", 0},
		{"resolution given", []jiratest.TransitionField{jiratest.ResolutionField()}, ResolutionFields("Won't Do"), nil, "Won't Do", 0},
		{"resolution and custom field required", []jiratest.TransitionField{jiratest.ResolutionField(), rootCause}, ResolutionFields("Fixed"), []string{"customfield_10050"}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
				ctx := context.Background()
				if _, err := srv.As(jane).CreateIssue("OPS", "Task", "s", ""); err != nil {
					t.Fatal(err)
				}
				if len(tt.screen) > 0 {
					srv.RequireOnTransition("Done", tt.screen...)
				}
				list, err := c.Transitions(ctx, "OPS-1")
				if err != nil {
					t.Fatal(err)
				}
				var done Transition
				for _, tr := range list {
					if tr.To == "Done" {
						done = tr
					}
				}
				res, hasRes := done.Resolution()
				if hasRes != (len(tt.screen) > 0) || (hasRes && (!res.Required || !reflect.DeepEqual(res.Allowed, []string{"Fixed", "Won't Do", "Duplicate"}))) {
					t.Errorf("resolution field = %+v %v", res, hasRes)
				}
				if n := len(done.OtherRequired()); n != tt.otherReqs {
					t.Errorf("OtherRequired = %+v", done.OtherRequired())
				}
				card, err := c.GetIssue(ctx, "OPS-1")
				if err != nil || !reflect.DeepEqual(card.Transitions, list) {
					t.Errorf("GetIssue transitions = %+v, %v", card.Transitions, err)
				}
				err = c.DoTransitionWith(ctx, "OPS-1", done.ID, tt.fields)
				if got := MissingFields(err); !reflect.DeepEqual(got, tt.missing) {
					t.Fatalf("MissingFields = %v (err %v), want %v", got, err, tt.missing)
				}
				is, _ := srv.Issue("OPS-1")
				if tt.missing != nil {
					if is.Status != "To Do" {
						t.Errorf("refused transition moved the issue to %s", is.Status)
					}
					return
				}
				if err != nil || is.Status != "Done" || is.Resolution != tt.resolved {
					t.Errorf("err %v, status %s, resolution %q", err, is.Status, is.Resolution)
				}
			})
		})
	}
}
