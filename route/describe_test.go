package route

import (
	"testing"

	"github.com/jtbot/jtbot/storage"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		sub    storage.Subscription
		target string
		want   string
	}{
		{storage.Subscription{Project: "OPS"}, "this chat", "OPS · every event → this chat"},
		{storage.Subscription{Project: "OPS", Types: []string{"Bug"}, Priorities: []string{"Highest"}, Events: []string{"comment", "status"}},
			"this topic", "OPS · type Bug · priority Highest · status changes and comments → this topic"},
		{storage.Subscription{Project: "OPS", Types: []string{"Bug"}, Events: []string{"comment"}},
			"this topic", "OPS · type Bug · comments → this topic"},
		{storage.Subscription{Project: "INFRA", Types: []string{"Bug", "Story", "Task"}, Statuses: []string{"In Progress", "Done"},
			Labels: []string{"release"}, Components: []string{"API", "Web"}, Events: []string{"created", "assignee", "priority", "attachment", "deleted"}},
			"@ops_news", "INFRA · type Bug, Story or Task · status In Progress or Done · label release · component API or Web · " +
				"new issues, assignee changes, priority changes, attachments and deletions → @ops_news"},
		{storage.Subscription{Project: "OPS", JQL: `labels = "on call"`}, "", `OPS · JQL labels = "on call" · every event`},
	}
	for _, tt := range tests {
		if got := Describe(tt.sub, tt.target); got != tt.want {
			t.Errorf("Describe(%+v)\n got %s\nwant %s", tt.sub, got, tt.want)
		}
	}
}

// What Parse reads, Describe says.
func TestParseThenDescribe(t *testing.T) {
	sub, err := Parse(`ops type:Bug priority:Highest events:status,comment`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Describe(sub, "this topic"), "OPS · type Bug · priority Highest · status changes and comments → this topic"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
