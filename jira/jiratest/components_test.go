package jiratest

import (
	"encoding/json"
	"strings"
	"testing"
)

// Components: created per project, set by an edit (checked like Jira),
// rendered on the issue and reported in the changelog.
func TestComponents(t *testing.T) {
	srv := NewServer(Options{})
	t.Cleanup(srv.Close)
	srv.AddProject("OPS", "Operations")
	srv.AddComponent("OPS", "API")
	srv.AddComponent("OPS", "Database")
	srv.AddComponent("OPS", "api") // the same name: nothing new
	a := srv.As(User{AccountID: "a", DisplayName: "A"})
	is, err := a.CreateIssue("OPS", "Bug", "Slow queries", "")
	must(t, err)
	err = a.Edit(is.Key, map[string]any{"components": []map[string]string{{"name": "Frontend"}}})
	if e, ok := err.(*Error); !ok || e.Errors["components"] != "Component name 'Frontend' is not valid" {
		t.Errorf("an unknown component: %v", err)
	}
	must(t, a.Edit(is.Key, map[string]any{"components": []map[string]string{{"name": "database"}, {"name": "API"}},
		"labels": []string{"slow"}, "priority": map[string]string{"name": "Highest"}}))
	got, _ := srv.Issue(is.Key)
	if strings.Join(got.Components, ",") != "Database,API" || strings.Join(got.Labels, ",") != "slow" || got.Priority != "Highest" {
		t.Errorf("after the edit: %v %v %q", got.Components, got.Labels, got.Priority)
	}

	srv.mu.Lock()
	fields := srv.issueFields(srv.issue(is.Key), "")
	srv.mu.Unlock()
	b, _ := json.Marshal(fields["components"])
	if !strings.Contains(string(b), `"name":"Database"`) || !strings.Contains(string(b), `"name":"API"`) {
		t.Errorf("rendered components: %s", b)
	}

	must(t, a.Edit(is.Key, map[string]any{"components": []map[string]string{{"name": "API"}}}))
	srv.mu.Lock()
	items := srv.componentChanges(srv.issue(is.Key), nil)
	srv.mu.Unlock()
	if len(items) != 1 || items[0]["field"] != "Component" || items[0]["fromString"] != "API" {
		t.Errorf("changelog of removing API: %v", items)
	}
}
