package bot

import (
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
)

func TestConnect(t *testing.T) {
	h := newHarness(t)
	h.jira.AddUser(jiratest.User{AccountID: "acc-janet", Name: "janet", DisplayName: "Janet Jira", Email: "janet@example.com"})
	tests := []struct {
		name, cmd, want, stored string
	}{
		{"no match", "/connect zed@example.com", "No Jira user matches", ""},
		{"several", "/connect jan", "Several Jira users match: Jane Jira, Janet Jira", ""},
		{"exact among several", "/connect jane jira", "Connected to Jane Jira", "acc-jane"},
		{"by e-mail", "/connect janet@example.com", "Connected to Janet Jira", "acc-janet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.store.Disconnect(testAlice.ID)
			wantText(t, h.ask(testAlice, tt.cmd), tt.want)
			got, _ := h.store.Connected(testAlice.ID)
			if got != tt.stored {
				t.Errorf("stored %q, want %q", got, tt.stored)
			}
		})
	}
	t.Run("Jira down", func(t *testing.T) {
		h.jira.FailNext("GET", "/rest/api/2/user/search", 1, 500, 0)
		wantText(t, h.ask(testAlice, "/connect jane jira"), "Jira is unreachable")
	})
	t.Run("disconnect", func(t *testing.T) {
		wantText(t, h.ask(testAlice, "/disconnect"), "Disconnected")
		if _, err := h.store.Connected(testAlice.ID); err == nil {
			t.Error("still connected")
		}
		wantText(t, h.ask(testAlice, "/disconnect"), "You were not connected")
	})
}

func TestWatchCommands(t *testing.T) {
	h := newHarness(t)
	key := h.newIssue("Disk full")
	tests := []struct {
		name, cmd, want string
		watching        int
	}{
		{"none yet", "/watching", "You watch no issues", 0},
		{"watch", "/watch " + key, "Watching " + key, 1},
		{"watch a missing issue", "/watch OPS-404", "OPS-404 not found", 1},
		{"list", "/watching", key, 1},
		{"unwatch", "/unwatch " + key, "Stopped watching " + key, 0},
		{"unwatch again", "/unwatch " + key, "You were not watching " + key, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantText(t, h.ask(testAlice, tt.cmd), tt.want)
			if keys, _ := h.store.Watching(testAlice.ID); len(keys) != tt.watching {
				t.Errorf("watching %v", keys)
			}
		})
	}
	wantText(t, h.askGroup(testGroup, testAlice, "/watch "+key), "Start a private chat with me")
}
