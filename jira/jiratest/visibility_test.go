package jiratest_test

import (
	"slices"
	"testing"

	v2 "github.com/ctreminiom/go-atlassian/v2/jira/v2"
	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// seen lists the comment bodies c reads on key: alone by id, in the
// comment list, and in the issue's comment field.
func seen(t *testing.T, c *v2.Client, key string, ids ...string) (alone, list, field []string) {
	t.Helper()
	for _, id := range ids {
		got, res, err := c.Issue.Comment.Get(ctx(t), key, id)
		switch {
		case err == nil:
			alone = append(alone, got.Body)
		case res == nil || res.Code != 404:
			t.Fatalf("comment %s: %v", id, err)
		}
	}
	page := must[*models.IssueCommentPageSchemeV2](t)(c.Issue.Comment.Gets(ctx(t), key, "", nil, 0, 50))
	for _, x := range page.Comments {
		list = append(list, x.Body)
	}
	if page.Total != len(list) {
		t.Errorf("comment list total %d, %d comments", page.Total, len(list))
	}
	is := must[*models.IssueSchemeV2](t)(c.Issue.Get(ctx(t), key, nil, nil))
	for _, x := range is.Fields.Comment.Comments {
		field = append(field, x.Body)
	}
	return alone, list, field
}

func TestRestrictedCommentsExistOnlyForTheirReaders(t *testing.T) {
	bothDeployments(t, func(t *testing.T, srv *jiratest.Server, bot *v2.Client) {
		is, err := srv.As(bob).CreateIssue("PROJ", "Task", "Disk full", "")
		if err != nil {
			t.Fatal(err)
		}
		a := srv.As(bob)
		var ids []string
		for _, c := range []struct {
			body     string
			vis      *jiratest.Visibility
			internal bool
		}{
			{"public", nil, false},
			{"admins only", &jiratest.Visibility{Type: "group", Value: "jira-admins"}, false},
			{"developers only", &jiratest.Visibility{Type: "role", Value: "Developers"}, false},
			{"agents only", nil, true},
		} {
			made, err := a.CommentRestricted(is.Key, c.body, c.vis, c.internal)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, made.ID)
		}
		mine := asAlice(t, srv)
		want := func(who string, c *v2.Client, bodies ...string) {
			t.Helper()
			alone, list, field := seen(t, c, is.Key, ids...)
			for name, got := range map[string][]string{"alone": alone, "list": list, "issue": field} {
				if !slices.Equal(got, bodies) {
					t.Errorf("%s reads %s %q, want %q", who, name, got, bodies)
				}
			}
		}
		want("alice", mine, "public")
		srv.AddToGroup(alice, "JIRA-ADMINS") // group names ignore case
		srv.AddToRole(alice, "PROJ", "Developers")
		want("alice in both", mine, "public", "admins only", "developers only")
		srv.AddToRole(alice, "PROJ", jiratest.ServiceDeskTeam)
		want("alice the agent", mine, "public", "admins only", "developers only", "agents only")
		srv.RemoveFromGroup(alice, "jira-admins")
		want("alice out of the group", mine, "public", "developers only", "agents only")

		// The API user reads everything until a test takes it out.
		want("the bot", bot, "public", "admins only", "developers only", "agents only")
		srv.RemoveFromRole(srv.Me(), "PROJ", "Developers")
		want("the bot without the role", bot, "public", "admins only", "agents only")
	})
}

// A text search finds only the comments the searcher may read.
func TestRestrictedCommentsAreLeftOutOfTextSearch(t *testing.T) {
	srv := newSite(t, dcOpts)
	bot := newClient(t, srv, dcOpts)
	is, _ := srv.As(bob).CreateIssue("PROJ", "Task", "Disk full", "")
	if _, err := srv.As(bob).CommentRestricted(is.Key, "secret word", &jiratest.Visibility{Type: "group", Value: "jira-admins"}, false); err != nil {
		t.Fatal(err)
	}
	mine := asAlice(t, srv)
	search := func(c *v2.Client) int {
		page := must[*models.IssueSearchSchemeV2](t)(c.Issue.Search.Post(ctx(t), `comment ~ "secret"`, nil, nil, 0, 50, ""))
		return page.Total
	}
	if n := search(mine); n != 0 {
		t.Errorf("alice finds %d issues by a comment she cannot read", n)
	}
	if n := search(bot); n != 1 {
		t.Errorf("the bot finds %d issues", n)
	}
}
