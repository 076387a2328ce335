package jiratest_test

import (
	"encoding/json"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// member walks a decoded JSON object; ok is false when a step is missing.
func member(v any, path ...string) (any, bool) {
	for _, k := range path {
		m, isObj := v.(map[string]any)
		if !isObj {
			return nil, false
		}
		if v, isObj = m[k]; !isObj {
			return nil, false
		}
	}
	return v, true
}

func TestRestrictedContentInPayloads(t *testing.T) {
	tests := []struct {
		name, deployment string
		event            string
		act              func(t *testing.T, a *jiratest.Actor, key string)
		path             []string
		want             any // JSON value at path; nil with absent = must be missing
		absent           bool
	}{
		{"role visibility, Cloud", "Cloud", "comment_created", func(t *testing.T, a *jiratest.Actor, key string) {
			if _, err := a.CommentRestricted(key, "secret", &jiratest.Visibility{Type: "role", Value: "Administrators"}, false); err != nil {
				t.Fatal(err)
			}
		}, []string{"comment", "visibility", "type"}, "role", false},
		{"group visibility, Data Center", "Server", "comment_created", func(t *testing.T, a *jiratest.Actor, key string) {
			if _, err := a.CommentRestricted(key, "secret", &jiratest.Visibility{Type: "group", Value: "jira-developers"}, false); err != nil {
				t.Fatal(err)
			}
		}, []string{"comment", "visibility", "value"}, "jira-developers", false},
		{"internal note, Cloud", "Cloud", "comment_created", func(t *testing.T, a *jiratest.Actor, key string) {
			if _, err := a.CommentRestricted(key, "between agents", nil, true); err != nil {
				t.Fatal(err)
			}
		}, []string{"comment", "jsdPublic"}, false, false},
		{"public comment, Cloud", "Cloud", "comment_created", func(t *testing.T, a *jiratest.Actor, key string) {
			if _, err := a.Comment(key, "hello"); err != nil {
				t.Fatal(err)
			}
		}, []string{"comment", "jsdPublic"}, true, false},
		{"security level on issue events", "Cloud", "jira:issue_updated", func(t *testing.T, a *jiratest.Actor, key string) {
			if err := a.SetSecurityLevel(key, "Internal"); err != nil {
				t.Fatal(err)
			}
		}, []string{"issue", "fields", "security", "name"}, "Internal", false},
		{"Cloud comment events carry no security field", "Cloud", "comment_created", func(t *testing.T, a *jiratest.Actor, key string) {
			if err := a.SetSecurityLevel(key, "Internal"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Comment(key, "x"); err != nil {
				t.Fatal(err)
			}
		}, []string{"issue", "fields", "security"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, jiratest.Options{Deployment: tt.deployment})
			rc := newReceiver(t, 0)
			a := srv.As(alice)
			is, err := a.CreateIssue("PROJ", "Task", "x", "")
			if err != nil {
				t.Fatal(err)
			}
			srv.AddWebhook(jiratest.Webhook{Name: "h", URL: rc.URL, Events: []string{tt.event}})
			tt.act(t, a, is.Key)
			waitDeliveries(t, srv, 1)
			var body any
			if err := json.Unmarshal(rc.received()[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			got, ok := member(body, tt.path...)
			if tt.absent {
				if ok {
					t.Errorf("%v present: %v", tt.path, got)
				}
				return
			}
			if !ok || got != tt.want {
				t.Errorf("%v = %v (present %v), want %v", tt.path, got, ok, tt.want)
			}
		})
	}
}

func TestBareAttachmentEvent(t *testing.T) {
	srv := newSite(t, jiratest.Options{BareAttachmentEvents: true})
	rc := newReceiver(t, 0)
	srv.AddWebhook(jiratest.Webhook{Name: "h", URL: rc.URL, Events: []string{"attachment_created"}})
	a := srv.As(alice)
	is, _ := a.CreateIssue("PROJ", "Task", "x", "")
	if _, err := a.Attach(is.Key, "a.txt", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	waitDeliveries(t, srv, 1)
	var body map[string]any
	if err := json.Unmarshal(rc.received()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if _, ok := body["issue"]; ok || body["attachment"] == nil || body["webhookEvent"] != "attachment_created" {
		t.Errorf("payload = %v", body)
	}
}
