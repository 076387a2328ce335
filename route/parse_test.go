package route

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/storage"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, args string
		want       storage.Subscription
	}{
		{"project only", "ops", storage.Subscription{Project: "OPS"}},
		{"spaces around", "  OPS \t ", storage.Subscription{Project: "OPS"}},
		{"digits and underscore", "WEB_2", storage.Subscription{Project: "WEB_2"}},
		{"events lower-cased, repeats dropped", "OPS events:Status,comment,STATUS",
			storage.Subscription{Project: "OPS", Events: []string{"status", "comment"}}},
		{"every filter", `OPS events:created type:Bug,Story priority:High,Highest label:release component:API status:"In Progress",Done jql:"assignee is EMPTY"`,
			storage.Subscription{Project: "OPS", Events: []string{"created"}, Types: []string{"Bug", "Story"},
				Priorities: []string{"High", "Highest"}, Labels: []string{"release"}, Components: []string{"API"},
				Statuses: []string{"In Progress", "Done"}, JQL: "assignee is EMPTY"}},
		{"values keep their case", "OPS type:bug", storage.Subscription{Project: "OPS", Types: []string{"bug"}}},
		{"plural names", "OPS labels:a,b types:Bug", storage.Subscription{Project: "OPS", Labels: []string{"a", "b"}, Types: []string{"Bug"}}},
		{"filter names ignore case", "OPS Type:Bug", storage.Subscription{Project: "OPS", Types: []string{"Bug"}}},
		{"quoted value with a comma", `OPS component:"Back end, API",Web`, storage.Subscription{Project: "OPS", Components: []string{"Back end, API", "Web"}}},
		{"escaped quotes in jql", `OPS jql:"summary ~ \"disk full\" AND labels = x\\y"`,
			storage.Subscription{Project: "OPS", JQL: `summary ~ "disk full" AND labels = x\y`}},
		{"typographic quotes", `OPS status:“In Progress” jql:“labels = release”`,
			storage.Subscription{Project: "OPS", Statuses: []string{"In Progress"}, JQL: "labels = release"}},
		{"jql first", `OPS jql:"priority = Highest" type:Bug`,
			storage.Subscription{Project: "OPS", JQL: "priority = Highest", Types: []string{"Bug"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, args, want string }{
		{"nothing", "  ", "name a project first, e.g. OPS type:Bug"},
		{"filter first", "type:Bug", "start with the project key, then the filters, e.g. OPS type:Bug"},
		{"not a key", "ops-1", `"OPS-1" is not a Jira project key (like OPS or WEB2)`},
		{"one letter", "O", `"O" is not a Jira project key (like OPS or WEB2)`},
		{"starts with a digit", "2OPS", `"2OPS" is not a Jira project key (like OPS or WEB2)`},
		{"unknown filter", "OPS colour:red", `unknown filter "colour": use events, type, priority, label, component, status, jql`},
		{"a bare word", "OPS bugs", `"bugs" is not a filter: write name:value, with name one of events, type, priority, label, component, status, jql`},
		{"empty value", "OPS type:", "type: empty value; e.g. type:Bug,Story"},
		{"empty value before another filter", "OPS type: priority:High", "type: empty value; e.g. type:Bug,Story"},
		{"empty item", "OPS label:a,,b", "label: empty value; e.g. label:release"},
		{"trailing comma", "OPS label:a,", "label: empty value; e.g. label:release"},
		{"empty quotes", `OPS status:""`, `status: empty value; e.g. status:"In Progress",Done`},
		{"unknown event", "OPS events:status,closed", `unknown event "closed": use created, status, assignee, priority, comment, attachment, deleted`},
		{"given twice", "OPS type:Bug type:Story", "type: given twice; put all its values in one, comma-separated"},
		{"given twice as plural", "OPS label:a labels:b", "label: given twice; put all its values in one, comma-separated"},
		{"unclosed quote", `OPS status:"In Progress`, "status: a quote is not closed"},
		{"quote inside a value", `OPS status:In"Progress"`, `status: quote a whole value, e.g. status:"In Progress"`},
		{"text after a quote", `OPS status:"To Do"x`, "status: put a space or a comma after a closing quote"},
		{"jql unquoted", "OPS jql:labels=x", `jql: put the query in double quotes, e.g. jql:"labels = release"`},
		{"jql unterminated", `OPS jql:"labels = x`, `jql: the query's closing quote is missing (write \" for a quote inside it)`},
		{"jql unterminated by an escape", `OPS jql:"summary ~ \"x\"`, `jql: the query's closing quote is missing (write \" for a quote inside it)`},
		{"jql empty", `OPS jql:"  "`, `jql: empty query; e.g. jql:"labels = release"`},
		{"jql with an inner quote unescaped", `OPS jql:"summary ~ "disk""`, `jql: put a space after the closing quote (write \" for a quote inside the query)`},
		{"jql twice", `OPS jql:"a = b" jql:"c = d"`, "jql: given twice; join the queries with AND in one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.args)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *ParseError", tt.args, err)
			}
			if pe.Msg != tt.want {
				t.Errorf("Parse(%q)\n got %s\nwant %s", tt.args, pe.Msg, tt.want)
			}
			if strings.Contains(pe.Msg, "\n") {
				t.Errorf("more than one line: %q", pe.Msg)
			}
		})
	}
}
