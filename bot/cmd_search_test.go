package bot

import (
	"fmt"
	"strings"
	"testing"
)

func TestSearchPages(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 23; i++ {
		h.newIssue(fmt.Sprintf("Issue number %d", i))
	}
	res := h.ask(testAlice, "/search project = OPS\nORDER BY key ASC")
	wantText(t, res, "project = OPS ORDER BY key ASC", "Results 1–10", "OPS-1 Issue number 1", "OPS-10 ")
	if strings.Contains(plain(t, res), "OPS-11 ") {
		t.Errorf("page 1 shows more than 10: %q", plain(t, res))
	}
	if len(buttons(t, res)) != 1 {
		t.Fatalf("first page buttons = %+v", buttons(t, res))
	}
	pages := []struct {
		button, want string
		nav          int
	}{
		{"Next", "Results 11–20", 2},
		{"Next", "Results 21–23", 1},
		{"Previous", "Results 11–20", 2},
	}
	for i, p := range pages {
		got := h.press(testAlice, res, findButton(t, res, p.button).Data)
		if got.Alert {
			t.Fatalf("page press answered %+v", got)
		}
		res = h.waitEdited(res, i+1)
		wantText(t, res, p.want)
		if n := len(buttons(t, res)); n != p.nav {
			t.Errorf("after %s: %d buttons", p.button, n)
		}
	}
}

func TestSearchErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, cmd, want string
		status          int
	}{
		{"invalid JQL: Jira's words", "/search project = ", "Expecting", 0},
		{"unknown field", "/search colour = red", "Field 'colour' does not exist", 0},
		{"nothing found", "/search project = OPS AND status = Done", "No issues match", 0},
		{"Jira down", "/search project = OPS", "Jira is unreachable, try again in a minute", 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status != 0 {
				h.jira.FailNext("POST", "/rest/api/2/search", 1, tt.status, 0)
			}
			wantText(t, h.ask(testAlice, tt.cmd), tt.want)
		})
	}
}

func TestMyIssues(t *testing.T) {
	h := newHarness(t)
	wantText(t, h.ask(testAlice, "/my"), "Connect your own Jira account first")
	mine := h.newIssue("Mine and open")
	done := h.newIssue("Mine but done")
	h.newIssue("Not mine")
	for _, k := range []string{mine, done} {
		if err := h.jira.As(testJane).Assign(k, &testJane); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.jira.As(testJane).Transition(done, "Done"); err != nil {
		t.Fatal(err)
	}
	h.connect(testAlice, testJane)
	res := plain(t, h.ask(testAlice, "/my"))
	if !strings.Contains(res, "Mine and open") || strings.Contains(res, "Mine but done") || strings.Contains(res, "Not mine") {
		t.Errorf("/my = %q", res)
	}
}
