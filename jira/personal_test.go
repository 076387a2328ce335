package jira

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// personal builds jane's own client: a PAT on Data Center, an API token
// with her e-mail on Cloud.
func personal(t *testing.T, srv *jiratest.Server) *Client {
	t.Helper()
	var auth Auth
	if srv.Deployment() == "Cloud" {
		auth = BasicAuth(jane.Email, srv.AddAPIToken(jane, jane.Email))
	} else {
		auth = BearerAuth(srv.AddPAT(jane))
	}
	c, err := NewPersonal(srv.URL, srv.URL, auth, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPersonalClientActsAsItsPerson(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, bot *Client) {
		ctx := context.Background()
		mine := personal(t, srv)
		me, err := mine.Myself(ctx)
		if err != nil || me.Display() != "Jane Jira" {
			t.Fatalf("myself = %+v, %v", me, err)
		}
		created, err := mine.CreateIssue(ctx, NewIssue{Project: "OPS", Type: "Task", Summary: "Printer jam"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mine.AddComment(ctx, created.Key, "on it"); err != nil {
			t.Fatal(err)
		}
		is, _ := srv.Issue(created.Key)
		if is.Reporter.DisplayName != "Jane Jira" || is.Comments[0].Author.DisplayName != "Jane Jira" {
			t.Errorf("reporter %v, comment author %v: want Jane", is.Reporter, is.Comments[0].Author)
		}
		if got := mine.BrowseURL(created.Key); got != srv.URL+"/browse/"+created.Key {
			t.Errorf("browse URL = %s", got)
		}
		// The bot's own client still acts as the bot.
		if _, err := bot.AddComment(ctx, created.Key, "noted"); err != nil {
			t.Fatal(err)
		}
		is, _ = srv.Issue(created.Key)
		if is.Comments[1].Author.DisplayName != "jtbot" {
			t.Errorf("bot comment author = %v", is.Comments[1].Author)
		}
	})
}

func TestPersonalClientSeesWhatItsPersonMay(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, bot *Client) {
		ctx := context.Background()
		srv.AddProject("HR", "People")
		if _, err := srv.As(jiratest.User{AccountID: "acc-hr", Name: "hr"}).CreateIssue("HR", "Task", "Salaries", ""); err != nil {
			t.Fatal(err)
		}
		srv.DenyProject(jane, "HR")
		mine := personal(t, srv)
		if _, err := mine.GetIssue(ctx, "HR-1"); !IsNotFound(err) {
			t.Errorf("jane reads HR-1: %v, want a 404", err)
		}
		if _, err := bot.GetIssue(ctx, "HR-1"); err != nil {
			t.Errorf("the bot reads HR-1: %v", err)
		}
		cards, _, err := mine.SearchPage(ctx, "project = HR", 0, 10)
		if err != nil || len(cards) != 0 {
			t.Errorf("jane's search = %v, %v; want nothing", cards, err)
		}
		_, err = mine.CreateIssue(ctx, NewIssue{Project: "HR", Type: "Task", Summary: "Raise"})
		var je *Error
		if !errors.As(err, &je) || je.Status != http.StatusBadRequest {
			t.Errorf("jane creates in HR: %v, want a 400", err)
		}
	})
}

func TestPersonalClientAfterRevocationIsUnauthorized(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, _ *Client) {
		mine := personal(t, srv)
		srv.RevokeTokens(jane)
		_, err := mine.Myself(context.Background())
		if !IsUnauthorized(err) {
			t.Errorf("after revocation: %v, want a 401", err)
		}
		var je *Error
		if errors.As(err, &je) && je.Temporary() {
			t.Error("a 401 must not be retried")
		}
	})
}

// failingSource is a token source whose refresh fails with err.
type failingSource struct{ err error }

func (f failingSource) Token() (*oauth2.Token, error) { return nil, f.err }

func TestRefusedGrantIsUnauthorizedAndOutageTemporary(t *testing.T) {
	srv, _ := site(t, "Cloud")
	answer := func(status int, code string) error {
		return &oauth2.RetrieveError{Response: &http.Response{StatusCode: status}, ErrorCode: code}
	}
	tests := []struct {
		name      string
		err       error
		status    int
		temporary bool
	}{
		{"invalid_grant", answer(403, "invalid_grant"), 401, false},
		{"bare 400", answer(400, ""), 401, false},
		{"token endpoint down", answer(503, ""), 0, true},
		{"token endpoint rate limit", answer(429, ""), 0, true},
		{"no answer", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, 0, true},
		{"no refresh token", errors.New("oauth2: token expired and refresh token is not set"), 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewPersonal(srv.URL, srv.URL, TokenAuth(failingSource{tt.err}), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Myself(context.Background())
			var je *Error
			if !errors.As(err, &je) || je.Status != tt.status || je.Temporary() != tt.temporary {
				t.Fatalf("err = %#v, want status %d temporary %v", err, tt.status, tt.temporary)
			}
			if IsUnauthorized(err) != (tt.status == 401) {
				t.Errorf("IsUnauthorized = %v", IsUnauthorized(err))
			}
		})
	}
}

func TestWatchers(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, bot *Client) {
		if _, err := srv.As(jane).CreateIssue("OPS", "Task", "Lamp", ""); err != nil {
			t.Fatal(err)
		}
		bob := jiratest.User{AccountID: "acc-bob", Name: "bob", DisplayName: "Bob"}
		if err := srv.AddWatcher("OPS-1", bob); err != nil {
			t.Fatal(err)
		}
		got, err := bot.Watchers(context.Background(), "OPS-1")
		if err != nil || len(got) != 2 || got[0].Display() != "Jane Jira" || got[1].ID() == "" {
			t.Errorf("watchers = %+v, %v", got, err)
		}
		if _, err := bot.Watchers(context.Background(), "OPS-9"); !IsNotFound(err) {
			t.Errorf("missing issue: %v", err)
		}
	})
}

// Jira Cloud serves a revoked API token's requests as anonymous: a search
// answers 200 with nothing. The client must still see a 401.
func TestRevokedCloudAPITokenIsUnauthorizedEvenWhenJiraAnswers200(t *testing.T) {
	srv, bot := site(t, "Cloud")
	if _, err := bot.CreateIssue(context.Background(), NewIssue{Project: "OPS", Type: "Task", Summary: "Seen"}); err != nil {
		t.Fatal(err)
	}
	mine := personal(t, srv)
	mine.SetCloud(true)
	srv.RevokeTokens(jane)
	if _, _, err := mine.SearchPage(context.Background(), "project = OPS", 0, 10); !IsUnauthorized(err) {
		t.Errorf("search with a revoked API token: %v, want a 401", err)
	}
	if last := srv.Requests()[len(srv.Requests())-1]; last.Path != "/rest/api/2/search/jql" || last.Status != 200 {
		t.Errorf("the fake answered %s with %d, want Jira's anonymous 200", last.Path, last.Status)
	}
	if _, err := mine.GetIssue(context.Background(), "OPS-1"); !IsUnauthorized(err) {
		t.Errorf("read with a revoked API token: %v, want a 401", err)
	}
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Status != 404 {
		t.Errorf("the fake answered %d, want Jira's anonymous 404", last.Status)
	}
}

// CanReadComment answers with the person's own view: a comment restricted
// to a group or role they are not in, or an internal note for a
// non-agent, is false (Jira's 404); joining makes it true; any other
// failure is an error, never an answer.
func TestCanReadComment(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, bot *Client) {
		ctx := context.Background()
		hr := jiratest.User{AccountID: "acc-hr", Name: "hr"}
		is, err := srv.As(hr).CreateIssue("OPS", "Task", "Disk full", "")
		if err != nil {
			t.Fatal(err)
		}
		comment := func(body string, vis *jiratest.Visibility, internal bool) jiratest.Comment {
			t.Helper()
			c, err := srv.As(hr).CommentRestricted(is.Key, body, vis, internal)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		public := comment("hello", nil, false)
		admins := comment("admins only", &jiratest.Visibility{Type: "group", Value: "jira-admins"}, false)
		note := comment("agents only", nil, true)
		mine := personal(t, srv)
		want := func(id string, ok bool) {
			t.Helper()
			got, err := mine.CanReadComment(ctx, is.Key, id)
			if err != nil || got != ok {
				t.Errorf("jane reads comment %s: %v, %v; want %v", id, got, err, ok)
			}
		}
		want(public.ID, true)
		want(admins.ID, false)
		want(note.ID, false)
		want("99999", false) // no such comment
		srv.AddToGroup(jane, "jira-admins")
		srv.AddToRole(jane, "OPS", jiratest.ServiceDeskTeam)
		want(admins.ID, true)
		want(note.ID, true)
		if ok, err := bot.CanReadComment(ctx, is.Key, admins.ID); !ok || err != nil {
			t.Errorf("the bot reads: %v, %v", ok, err)
		}

		srv.FailNext("GET", "/rest/api/2/issue/", 1, 500, 0)
		if ok, err := mine.CanReadComment(ctx, is.Key, admins.ID); ok || err == nil {
			t.Errorf("on a 500: %v, %v; want an error", ok, err)
		}
		srv.ExpireTokens(jane)
		if _, err := mine.CanReadComment(ctx, is.Key, public.ID); !IsUnauthorized(err) {
			t.Errorf("expired token: %v, want a 401", err)
		}
	})
}
