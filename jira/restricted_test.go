package jira

import (
	"encoding/json"
	"testing"
)

// edit decodes a fixture, lets change alter it and encodes it again, so
// that a restricted case differs from a real payload by one member only.
func edit(t *testing.T, name string, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixture(t, name), &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

func TestEventRestricted(t *testing.T) {
	level := map[string]any{"self": "https://x.atlassian.net/rest/api/2/securitylevel/10000", "id": "10000", "name": "Internal", "description": "Staff only"}
	tests := []struct {
		name            string
		body            []byte
		restricted      bool
		securityUnknown bool
	}{
		// Real payloads: nothing restricted. Issue events carry
		// "security": null; Cloud comment events carry a brief issue
		// without the field; Data Center comment events no issue at all.
		{"cloud issue created", fixture(t, "cloud-issue-created.json"), false, false},
		{"cloud issue updated", fixture(t, "cloud-issue-updated-status-in-progress.json"), false, false},
		{"cloud comment created (jsdPublic true)", fixture(t, "cloud-comment-created.json"), false, true},
		{"cloud attachment created", fixture(t, "cloud-attachment-created.json"), false, true},
		{"server comment updated, no issue", fixture(t, "server-comment-updated.json"), false, true},
		{"server issue commented", fixture(t, "server-issue-updated-issue-commented.json"), false, true},

		{"comment limited to a role", edit(t, "cloud-comment-created.json", func(m map[string]any) {
			obj(m, "comment")["visibility"] = map[string]any{"type": "role", "value": "Administrators", "identifier": "Administrators"}
		}), true, false},
		{"comment limited to a group", edit(t, "server-comment-updated.json", func(m map[string]any) {
			obj(m, "comment")["visibility"] = map[string]any{"type": "group", "value": "jira-developers"}
		}), true, false},
		{"service management internal note", edit(t, "cloud-comment-updated.json", func(m map[string]any) {
			obj(m, "comment")["jsdPublic"] = false
		}), true, false},
		{"issue with a security level", edit(t, "cloud-issue-updated-assignee.json", func(m map[string]any) {
			obj(obj(m, "issue"), "fields")["security"] = level
		}), true, false},
		{"issue created with a security level", edit(t, "cloud-issue-created.json", func(m map[string]any) {
			obj(obj(m, "issue"), "fields")["security"] = level
		}), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseEvent(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.Restricted(); got != tt.restricted {
				t.Errorf("Restricted() = %v, want %v", got, tt.restricted)
			}
			if got := ev.SecurityUnknown(); got != tt.securityUnknown {
				t.Errorf("SecurityUnknown() = %v, want %v", got, tt.securityUnknown)
			}
		})
	}
}
