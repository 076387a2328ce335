package bot

import (
	"testing"
)

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
