package jiratest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	v2 "github.com/ctreminiom/go-atlassian/v2/jira/v2"
	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"

	"github.com/jtbot/jtbot/jira/jiratest"
)

var (
	alice = jiratest.User{AccountID: "alice-id", Name: "alice", DisplayName: "Alice Doe", Email: "alice@example.com"}
	bob   = jiratest.User{AccountID: "bob-id", Name: "bob", DisplayName: "Bob Roe"}
)

// newSite starts a fake with project PROJ and users alice and bob.
func newSite(t *testing.T, opts jiratest.Options) *jiratest.Server {
	t.Helper()
	srv := jiratest.NewServer(opts)
	t.Cleanup(srv.Close)
	srv.AddProject("PROJ", "Project")
	srv.AddUser(alice)
	srv.AddUser(bob)
	return srv
}

// newClient is the real go-atlassian client, authenticated like jtbot.
func newClient(t *testing.T, srv *jiratest.Server, opts jiratest.Options) *v2.Client {
	t.Helper()
	c, err := v2.New(&http.Client{Timeout: 5 * time.Second}, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case opts.User != "":
		c.Auth.SetBasicAuth(opts.User, opts.Token)
	case opts.Token != "":
		c.Auth.SetBearerToken(opts.Token)
	}
	return c
}

// clientT keeps helper signatures short.
type clientT = v2.Client

func ctx(t *testing.T) context.Context {
	return t.Context()
}

// jiraError decodes a Jira error body from a failed call.
func jiraError(t *testing.T, res *models.ResponseScheme, err error) (int, jiratest.Error) {
	t.Helper()
	if err == nil {
		t.Fatal("call succeeded, want an error")
	}
	if res == nil {
		t.Fatalf("no response: %v", err)
	}
	var e jiratest.Error
	if jerr := json.Unmarshal(res.Bytes.Bytes(), &e); jerr != nil {
		t.Fatalf("error body %q: %v", res.Bytes.String(), jerr)
	}
	return res.Code, e
}

func must[T any](t *testing.T) func(T, *models.ResponseScheme, error) T {
	return func(v T, res *models.ResponseScheme, err error) T {
		t.Helper()
		if err != nil {
			body := ""
			if res != nil {
				body = res.Bytes.String()
			}
			t.Fatalf("call failed: %v %s", err, body)
		}
		return v
	}
}

// ok fails the test when a call that returns no value fails.
func ok(t *testing.T) func(*models.ResponseScheme, error) {
	return func(res *models.ResponseScheme, err error) {
		t.Helper()
		if err != nil {
			body := ""
			if res != nil {
				body = res.Bytes.String()
			}
			t.Fatalf("call failed: %v %s", err, body)
		}
	}
}

func newIssue(summary string) *models.IssueSchemeV2 {
	return &models.IssueSchemeV2{Fields: &models.IssueFieldsSchemeV2{
		Project:   &models.ProjectScheme{Key: "PROJ"},
		IssueType: &models.IssueTypeScheme{Name: "Task"},
		Summary:   summary,
	}}
}
