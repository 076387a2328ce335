package jira

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// jtbot's webhook through both admin APIs: Cloud and Data Center before 10
// (rest/webhooks/1.0/webhook), and Data Center 10+, where that path is
// gone (404) and rest/jira-webhook/1.0/webhooks serves numeric ids.
func TestWebhookAdminBothAPIs(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts jiratest.Options
	}{
		{"Cloud", jiratest.Options{Deployment: "Cloud"}},
		{"Data Center 9", jiratest.Options{Deployment: "Server"}},
		{"Data Center 10", jiratest.Options{Deployment: "Server", WebhookAPI10: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.User, tc.opts.Token = "bot@example.com", "tok"
			srv := jiratest.NewServer(tc.opts)
			t.Cleanup(srv.Close)
			c, err := New(srv.URL, "bot@example.com", "tok", &http.Client{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			hook := NewWebhook("https://bot.example/webhook/jira/", "s3cret", []string{"OPS"})
			for i, wantCreated := range []bool{true, false} {
				created, err := c.SaveWebhook(ctx, hook)
				if err != nil || created != wantCreated {
					t.Fatalf("save %d: created %v, err %v", i, created, err)
				}
			}
			if got := srv.Webhooks(); len(got) != 1 || got[0].JQL != "project in (OPS)" || got[0].Secret != "s3cret" {
				t.Fatalf("webhooks after two saves: %+v", got)
			}
			// A /link of WEB widens the filter, secret kept.
			missing, err := c.WidenWebhookFilter(ctx, []string{"OPS", "WEB"}, "s3cret")
			if err != nil || len(missing) != 1 || missing[0] != "WEB" {
				t.Fatalf("widen: %v, %v", missing, err)
			}
			if got := srv.Webhooks(); len(got) != 1 || got[0].JQL != "project in (OPS, WEB)" || got[0].Secret != "s3cret" {
				t.Fatalf("after widening: %+v", got)
			}
			listed, err := c.Webhooks(ctx)
			if err != nil || len(listed) != 1 || listed[0].JQL() != "project in (OPS, WEB)" || listed[0].ID() == "" {
				t.Fatalf("listed %+v, %v", listed, err)
			}
			if again, err := c.WidenWebhookFilter(ctx, []string{"WEB"}, "s3cret"); err != nil || len(again) != 0 {
				t.Errorf("nothing to widen: %v, %v", again, err)
			}
			if deleted, err := c.DeleteWebhook(ctx); err != nil || !deleted || len(srv.Webhooks()) != 0 {
				t.Errorf("delete: %v, %v, left %+v", deleted, err, srv.Webhooks())
			}
		})
	}
}

func TestFilterProjects(t *testing.T) {
	for _, tc := range []struct {
		jql  string
		want []string
		ok   bool
	}{
		{ProjectFilter([]string{"WEB", "OPS"}), []string{"OPS", "WEB"}, true},
		{"project in (OPS)", []string{"OPS"}, true},
		{"project = OPS AND labels = x", nil, false},
		{"", nil, false},
	} {
		got, ok := FilterProjects(tc.jql)
		if ok != tc.ok || len(got) != len(tc.want) || (ok && got[0] != tc.want[0]) {
			t.Errorf("FilterProjects(%q) = %v, %v", tc.jql, got, ok)
		}
	}
}
