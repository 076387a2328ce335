package jira

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// Jira answers 429 with Retry-After in seconds
// (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/);
// the verdict and the wait travel on the error.
func TestRateLimitRetryAfter(t *testing.T) {
	tests := []struct {
		name  string
		call  func(c *Client) error
		path  string
		after time.Duration
	}{
		{"create issue (own request)", func(c *Client) error {
			_, err := c.CreateIssue(context.Background(), NewIssue{Project: "OPS", Type: "Task", Summary: "x"})
			return err
		}, "/rest/api/2/issue", 7 * time.Second},
		{"add comment (go-atlassian)", func(c *Client) error {
			_, err := c.AddComment(context.Background(), "OPS-1", "hi")
			return err
		}, "/rest/api/2/issue/OPS-1/comment", 3 * time.Second},
		{"myself", func(c *Client) error { _, err := c.Myself(context.Background()); return err }, "/rest/api/2/myself", 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := site(t, "Cloud")
			if _, err := srv.As(jane).CreateIssue("OPS", "Task", "s", ""); err != nil {
				t.Fatal(err)
			}
			srv.FailNext(http.MethodPost, tt.path, 1, http.StatusTooManyRequests, tt.after)
			srv.FailNext(http.MethodGet, tt.path, 1, http.StatusTooManyRequests, tt.after)
			err := tt.call(c)
			var je *Error
			if !errors.As(err, &je) || je.Status != 429 || !je.Temporary() || je.RetryAfter != tt.after {
				t.Fatalf("err = %#v, want 429 temporary with RetryAfter %v", err, tt.after)
			}
			if err := tt.call(c); err != nil {
				t.Errorf("after the limit: %v", err)
			}
		})
	}
}

func TestRateLimitNextCountsEveryCall(t *testing.T) {
	srv, c := site(t, "Server")
	srv.RateLimitNext(2, 2*time.Second)
	for i := 0; i < 2; i++ {
		var je *Error
		if _, err := c.Myself(context.Background()); !errors.As(err, &je) || je.Status != 429 || je.RetryAfter != 2*time.Second {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if _, err := c.Myself(context.Background()); err != nil {
		t.Fatalf("third call: %v", err)
	}
}
