package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// lagSite is a Cloud fake whose search lags by a minute on a hand-driven
// clock.
func lagSite(t *testing.T) (*jiratest.Server, *Client, func(time.Duration)) {
	t.Helper()
	var mu sync.Mutex
	now := time.Now().UTC() // the client judges settling by the real clock
	srv := jiratest.NewServer(jiratest.Options{User: "bot@example.com", Token: "tok", SearchLag: time.Minute,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	t.Cleanup(srv.Close)
	srv.AddProject("OPS", "Operations")
	c, err := New(srv.URL, "bot@example.com", "tok", &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
}

func TestFindByOriginUnderSearchLag(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		advance   time.Duration
		reconcile bool
		settle    time.Duration
		found     bool
		unsettled bool
	}{
		{"lagging search, recent intent: unsure, never 'not created'", 0, false, time.Hour, false, true},
		{"lagging search, id reconciled: found", 0, true, time.Hour, true, false},
		{"index caught up: found", 2 * time.Minute, false, time.Hour, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, advance := lagSite(t)
			c.SetSearchSettle(tt.settle)
			intent := time.Now()
			created, err := c.CreateIssue(ctx, NewIssue{Project: "OPS", Type: "Task", Summary: "from a post", Origin: "-100/42"})
			if err != nil {
				t.Fatal(err)
			}
			advance(tt.advance)
			var reconcile []string
			if tt.reconcile {
				reconcile = []string{created.ID}
			}
			got, found, err := c.FindByOriginSince(ctx, "OPS", "-100/42", intent, reconcile)
			var je *Error
			if unsettled := errors.Is(err, ErrSearchUnsettled); unsettled != tt.unsettled ||
				(unsettled && (!errors.As(err, &je) || !je.Temporary() || je.RetryAfter <= 0)) {
				t.Fatalf("err = %v, want unsettled %v", err, tt.unsettled)
			}
			if found != tt.found || (found && got != created) {
				t.Errorf("found %v %+v, want %v %+v", found, got, tt.found, created)
			}
			if n := len(srv.Issues()); n != 1 {
				t.Errorf("%d issues", n)
			}
		})
	}
}

func TestFindByOriginSettledNotCreated(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		c.SetSearchSettle(0)
		_, found, err := c.FindByOriginSince(context.Background(), "OPS", "-100/1", time.Now(), nil)
		if err != nil || found {
			t.Errorf("found %v, err %v", found, err)
		}
	})
}

// The issue of a crashed create may lie beyond the newest 20 (or 100, one
// page) issues jtbot reported: every page is read.
func TestFindByOriginPagesThroughResults(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		ctx := context.Background()
		intent := time.Now()
		want, err := c.CreateIssue(ctx, NewIssue{Project: "OPS", Type: "Task", Summary: "the one", Origin: "-100/7"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 130; i++ {
			if _, err := c.CreateIssue(ctx, NewIssue{Project: "OPS", Type: "Task", Summary: fmt.Sprint("later ", i), Origin: fmt.Sprint("-100/", 100+i)}); err != nil {
				t.Fatal(err)
			}
		}
		// Someone else's issue is never a candidate.
		if _, err := srv.As(jane).CreateIssue("OPS", "Task", "jane's", ""); err != nil {
			t.Fatal(err)
		}
		for _, since := range []time.Time{intent, {}} {
			got, found, err := c.FindByOriginSince(ctx, "OPS", "-100/7", since, nil)
			if err != nil || !found || got != want {
				t.Errorf("since %v: %+v %v %v, want %+v", since, got, found, err, want)
			}
		}
	})
}
