package jiratest

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// jqlSite has PROJ-1 (alice, In Progress, label "ops", component "API",
// property jtbot.chat = "42"), PROJ-2 (a Bug, unassigned, Done, commented
// "printer") and OPS-1.
func jqlSite(t *testing.T) *Server {
	var tick atomic.Int64 // each reading is a second later, so dates order
	clock := func() time.Time { return time.Unix(1700000000+tick.Add(1), 0).UTC() }
	srv := NewServer(Options{Now: clock})
	t.Cleanup(srv.Close)
	srv.AddProject("PROJ", "Project")
	srv.AddProject("OPS", "Operations")
	srv.AddComponent("PROJ", "API")
	alice := User{AccountID: "alice-id", Name: "alice", DisplayName: "Alice"}
	srv.AddUser(alice)
	a := srv.As(alice)
	one, _ := a.CreateIssue("PROJ", "Task", "Fix the build", "CI is red")
	two, _ := a.CreateIssue("PROJ", "Bug", "Paper jam", "")
	if _, err := a.CreateIssue("OPS", "Task", "Rotate keys", ""); err != nil {
		t.Fatal(err)
	}
	must(t, a.Assign(one.Key, &alice))
	must(t, a.Transition(one.Key, "In Progress"))
	must(t, a.Transition(two.Key, "Done"))
	_, err := a.Comment(two.Key, "the printer is fixed")
	must(t, err)
	srv.mu.Lock()
	is := srv.issue(one.Key)
	is.Labels = []string{"ops"}
	is.Components = []string{"API"}
	is.setProperty("jtbot", json.RawMessage(`{"chat":"42","n":7}`))
	srv.mu.Unlock()
	return srv
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestJQLMatches(t *testing.T) {
	srv := jqlSite(t)
	tests := []struct{ jql, want string }{
		{"project = PROJ ORDER BY created ASC", "PROJ-1 PROJ-2"},
		{"project in (PROJ, ops) order by key asc", "OPS-1 PROJ-1 PROJ-2"},
		{`project = "Operations"`, "OPS-1"},
		{"key = PROJ-2", "PROJ-2"},
		{"assignee = currentUser()", ""},
		{`assignee = "alice-id"`, "PROJ-1"},
		{"assignee = alice", "PROJ-1"},
		{"assignee is EMPTY order by created asc", "PROJ-2 OPS-1"},
		{"assignee != alice", ""},
		{"resolution = Unresolved AND project = PROJ", "PROJ-1"},
		{"resolution != Unresolved", "PROJ-2"},
		{`status = "In Progress"`, "PROJ-1"},
		{`status in ("To Do", Done) ORDER BY created ASC`, "PROJ-2 OPS-1"},
		{`text ~ "printer"`, "PROJ-2"},
		{`summary ~ "build"`, "PROJ-1"},
		{`description ~ "red"`, "PROJ-1"},
		{`issue.property[jtbot].chat = "42"`, "PROJ-1"},
		{`issue.property[jtbot].n = 7`, "PROJ-1"},
		{`issue.property[jtbot].chat = "43"`, ""},
		{"labels = ops", "PROJ-1"},
		{"issuetype = Bug", "PROJ-2"},
		{"priority = Medium ORDER BY updated DESC", "PROJ-2 PROJ-1 OPS-1"},
		{"", "OPS-1 PROJ-2 PROJ-1"},
		// What subscriptions send: key = KEY AND (their JQL).
		{"key = PROJ-1 AND (labels = ops OR status = Done)", "PROJ-1"},
		{"key = PROJ-2 AND (labels = ops OR status = Done)", "PROJ-2"},
		{"key = PROJ-2 AND (labels = ops AND status = Done)", ""},
		{"key = PROJ-1 AND (component = api)", "PROJ-1"},
		{"key = PROJ-1 AND (component = api AND priority != High)", "PROJ-1"},
		{"project = PROJ OR key = OPS-1 order by key asc", "OPS-1 PROJ-1 PROJ-2"},
		{"(project = PROJ) ORDER BY created ASC", "PROJ-1 PROJ-2"},
		{"project = PROJ AND NOT status = Done", "PROJ-1"},
		{"NOT (status = Done OR labels = ops)", "OPS-1"},
		// AND binds before OR: Done OR (ops AND Bug).
		{"status = Done OR labels = ops AND issuetype = Bug", "PROJ-2"},
		{"labels != ops", ""}, // != never matches an empty field
		{"type in (Bug, Task) AND project != OPS ORDER BY created ASC", "PROJ-1 PROJ-2"},
		{"component in (API, api) AND type = Task", "PROJ-1"},
		{"component is EMPTY ORDER BY created ASC", "PROJ-2 OPS-1"},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			srv.mu.Lock()
			found, err := srv.run(tt.jql, srv.Me())
			srv.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, is := range found {
				keys = append(keys, is.Key)
			}
			if got := strings.Join(keys, " "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJQLErrors(t *testing.T) {
	srv := jqlSite(t)
	tests := []struct{ jql, want string }{
		{"foo = bar", "Field 'foo' does not exist or you do not have permission to view it."},
		{"project = NOPE", "The value 'NOPE' does not exist for the field 'project'."},
		{"project PROJ", "Error in the JQL Query: Expecting operator but got 'PROJ'."},
		{"project = PROJ foo", "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'. (line 1, character 16)"},
		{"project =", "Error in the JQL Query: Expecting either a value, list or function but got end of query. (line 1, character 10)"},
		{`summary = "x"`, "The operator '=' is not supported by the 'summary' field."},
		{"project ~ PROJ", "The operator '~' is not supported by the 'project' field."},
		{"key = PROJ-99", "An issue with key 'PROJ-99' does not exist for field 'key'."},
		{"assignee = nobody", "The value 'nobody' does not exist for the field 'assignee'."},
		{"assignee = whoever()", "Unable to find JQL function 'whoever()'."},
		{`summary ~ "unterminated`, "Error in the JQL Query: The quoted string"},
		{"project = PROJ ORDER BY colour", "Field 'colour' does not exist or you do not have permission to view it."},
		{"(project = PROJ", "Error in the JQL Query: Expecting ')' but got end of query. (line 1, character 16)"},
		{"key = PROJ-1 AND (status = Done foo)", "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'."},
		{"key = PROJ-1 AND ()", "Error in the JQL Query: Expecting a field name but got ')'."},
		{"project = PROJ AND", "Error in the JQL Query: Expecting a field name but got end of query."},
		{"component = Nope", "The value 'Nope' does not exist for the field 'component'."},
		{"components = API", "Field 'components' does not exist or you do not have permission to view it."},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			srv.mu.Lock()
			_, err := srv.run(tt.jql, srv.Me())
			srv.mu.Unlock()
			if err == nil || err.Status != 400 || !strings.HasPrefix(err.ErrorMessages[0], tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
