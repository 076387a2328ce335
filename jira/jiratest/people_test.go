package jiratest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	v2 "github.com/ctreminiom/go-atlassian/v2/jira/v2"
	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// dcOpts is a Data Center site under a context path, the bot with a PAT.
var dcOpts = jiratest.Options{Token: "bot-pat", Deployment: "Server", ContextPath: "/jira"}

// asAlice is the real go-atlassian client with alice's own credential: an
// API token on Cloud, a personal access token on Data Center.
func asAlice(t *testing.T, srv *jiratest.Server) *v2.Client {
	t.Helper()
	c, err := v2.New(&http.Client{Timeout: 5 * time.Second}, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Deployment() == "Cloud" {
		c.Auth.SetBasicAuth(alice.Email, srv.AddAPIToken(alice, alice.Email))
	} else {
		c.Auth.SetBearerToken(srv.AddPAT(alice))
	}
	return c
}

func deploymentName(o jiratest.Options) string {
	if o.Deployment == "" {
		return "Cloud"
	}
	return o.Deployment
}

func bothDeployments(t *testing.T, run func(t *testing.T, srv *jiratest.Server, bot *v2.Client)) {
	for _, opts := range []jiratest.Options{cloudOpts, dcOpts} {
		t.Run(deploymentName(opts), func(t *testing.T) {
			srv := newSite(t, opts)
			run(t, srv, newClient(t, srv, opts))
		})
	}
}

func TestPersonalCredentialActsAsItsPerson(t *testing.T) {
	bothDeployments(t, func(t *testing.T, srv *jiratest.Server, bot *v2.Client) {
		must[*models.IssueResponseScheme](t)(bot.Issue.Create(ctx(t), newIssue("Printer on fire"), nil))
		c := asAlice(t, srv)
		me := must[*models.UserScheme](t)(c.MySelf.Details(ctx(t), nil))
		if me.DisplayName != alice.DisplayName {
			t.Errorf("myself = %+v", me)
		}
		must[*models.IssueCommentSchemeV2](t)(c.Issue.Comment.Add(ctx(t), "PROJ-1", &models.CommentPayloadSchemeV2{Body: "mine"}, nil))
		is, _ := srv.Issue("PROJ-1")
		if is.Comments[0].Author.DisplayName != alice.DisplayName {
			t.Errorf("comment author = %+v, want alice", is.Comments[0].Author)
		}
		srv.ExpireTokens(alice)
		_, res, err := c.MySelf.Details(ctx(t), nil)
		if code, _ := jiraError(t, res, err); code != 401 {
			t.Errorf("expired credential: status %d, want 401", code)
		}
	})
}

func TestAPITokenNeedsItsEmail(t *testing.T) {
	srv := newSite(t, cloudOpts)
	tok := srv.AddAPIToken(alice, alice.Email)
	c, _ := v2.New(&http.Client{Timeout: 5 * time.Second}, srv.URL)
	c.Auth.SetBasicAuth("bob@example.com", tok)
	_, res, err := c.MySelf.Details(ctx(t), nil)
	if code, _ := jiraError(t, res, err); code != 401 {
		t.Errorf("API token with another e-mail: %d, want 401", code)
	}
}

func TestDeniedProjectDoesNotExistForThePerson(t *testing.T) {
	bothDeployments(t, func(t *testing.T, srv *jiratest.Server, bot *v2.Client) {
		srv.AddProject("HR", "People")
		hr := newIssue("Salaries")
		hr.Fields.Project.Key = "HR"
		must[*models.IssueResponseScheme](t)(bot.Issue.Create(ctx(t), hr, nil))
		srv.DenyProject(alice, "HR")
		c := asAlice(t, srv)

		_, res, err := c.Issue.Get(ctx(t), "HR-1", nil, nil)
		code, e := jiraError(t, res, err)
		if code != 404 || e.ErrorMessages[0] != "Issue does not exist or you do not have permission to see it." {
			t.Errorf("alice reads HR-1: %d %v", code, e)
		}
		_, res, err = c.Issue.Comment.Add(ctx(t), "HR-1", &models.CommentPayloadSchemeV2{Body: "hi"}, nil)
		if code, _ := jiraError(t, res, err); code != 404 {
			t.Errorf("alice comments on HR-1: %d", code)
		}
		_, res, err = c.Project.Get(ctx(t), "HR", nil)
		if code, _ := jiraError(t, res, err); code != 404 {
			t.Errorf("alice reads project HR: %d", code)
		}
		hr.Fields.Summary = "Raise"
		_, res, err = c.Issue.Create(ctx(t), hr, nil)
		if code, e := jiraError(t, res, err); code != 400 || e.Errors["project"] == "" {
			t.Errorf("alice creates in HR: %d %v", code, e)
		}
		if _, err := srv.As(alice).Comment("HR-1", "from the UI"); err == nil {
			t.Error("alice commented on HR-1 in the UI")
		}
		// The bot may still.
		must[*models.IssueSchemeV2](t)(bot.Issue.Get(ctx(t), "HR-1", nil, nil))
	})
}

func TestDeniedProjectIsLeftOutOfSearches(t *testing.T) {
	srv := newSite(t, dcOpts)
	srv.AddProject("HR", "People")
	bot := newClient(t, srv, dcOpts)
	for _, p := range []string{"PROJ", "HR"} {
		is := newIssue("one")
		is.Fields.Project.Key = p
		must[*models.IssueResponseScheme](t)(bot.Issue.Create(ctx(t), is, nil))
	}
	srv.DenyProject(alice, "hr")
	page := must[*models.IssueSearchSchemeV2](t)(asAlice(t, srv).Issue.Search.Post(ctx(t), "order by key", nil, nil, 0, 50, ""))
	if page.Total != 1 || page.Issues[0].Key != "PROJ-1" {
		t.Errorf("alice's search: total %d, %v", page.Total, page.Issues)
	}
}

// watchers reads GET …/watchers raw: {"watchCount","isWatching","watchers"}.
func watchers(t *testing.T, c *v2.Client, key string) (int, bool, []string) {
	t.Helper()
	req, err := c.NewRequest(ctx(t), http.MethodGet, "rest/api/2/issue/"+key+"/watchers", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		WatchCount int  `json:"watchCount"`
		IsWatching bool `json:"isWatching"`
		Watchers   []struct {
			DisplayName string `json:"displayName"`
		} `json:"watchers"`
	}
	if _, err := c.Call(req, &out); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range out.Watchers {
		names = append(names, w.DisplayName)
	}
	return out.WatchCount, out.IsWatching, names
}

func TestCreatorsAndCommentersWatch(t *testing.T) {
	bothDeployments(t, func(t *testing.T, srv *jiratest.Server, bot *v2.Client) {
		carol := jiratest.User{AccountID: "carol-id", Name: "carol", DisplayName: "Carol"}
		if _, err := srv.As(alice).CreateIssue("PROJ", "Task", "Order paper", ""); err != nil {
			t.Fatal(err)
		}
		if err := srv.As(alice).Assign("PROJ-1", &bob); err != nil {
			t.Fatal(err)
		}
		n, me, names := watchers(t, bot, "PROJ-1")
		if n != 1 || me || !slices.Equal(names, []string{alice.DisplayName}) {
			t.Errorf("after create+assign: %d %v %v; want only the creator (the assignee does not watch)", n, me, names)
		}
		if _, err := srv.As(bob).Comment("PROJ-1", "ordered"); err != nil {
			t.Fatal(err)
		}
		if err := srv.AddWatcher("PROJ-1", carol); err != nil {
			t.Fatal(err)
		}
		n, _, names = watchers(t, bot, "PROJ-1")
		if n != 3 || !slices.Equal(names, []string{alice.DisplayName, bob.DisplayName, "Carol"}) {
			t.Errorf("after comment and AddWatcher: %d %v", n, names)
		}
		if _, me, _ := watchers(t, asAlice(t, srv), "PROJ-1"); !me {
			t.Error("isWatching is false for alice, who watches")
		}
		if is, _ := srv.Issue("PROJ-1"); len(is.Watchers) != 3 {
			t.Errorf("snapshot watchers = %v", is.Watchers)
		}
	})
}

func TestMentionsReachWebhooksVerbatim(t *testing.T) {
	for _, tt := range []struct {
		opts    jiratest.Options
		mention string
	}{
		{cloudOpts, "[~accountid:bob-id]"},
		{dcOpts, "[~bob]"},
	} {
		t.Run(deploymentName(tt.opts), func(t *testing.T) {
			srv := newSite(t, tt.opts)
			rc := newReceiver(t, 0)
			srv.AddWebhook(jiratest.Webhook{Name: "jtbot", URL: rc.URL, Events: []string{"jira:issue_created", "comment_created"}})
			desc := "Please look, " + tt.mention + " *now*"
			if _, err := srv.As(alice).CreateIssue("PROJ", "Task", "Help", desc); err != nil {
				t.Fatal(err)
			}
			body := tt.mention + " can you {code}check{code}?"
			if _, err := srv.As(alice).Comment("PROJ-1", body); err != nil {
				t.Fatal(err)
			}
			waitDeliveries(t, srv, 2)
			var created struct {
				Issue struct{ Fields struct{ Description string } }
			}
			got := rc.received()
			if err := json.Unmarshal(got[0].Body, &created); err != nil || created.Issue.Fields.Description != desc {
				t.Errorf("issue_created description = %q, want %q", created.Issue.Fields.Description, desc)
			}
			if p := decode(t, got[1].Body); p.Comment == nil || p.Comment.Body != body {
				t.Errorf("comment_created body = %+v, want %q", p.Comment, body)
			}
		})
	}
}

// readAll is the body of a response, closed.
func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
