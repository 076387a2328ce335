package telegram

import (
	"encoding/json"
	"testing"
)

func TestAlbumUpdatesShareAQueueGroup(t *testing.T) {
	tests := []struct {
		name, update, want string
	}{
		{"channel album", `{"update_id":1,"channel_post":{"message_id":5,"chat":{"id":-100123},"media_group_id":"777"}}`, "album:-100123:777"},
		{"group album", `{"update_id":2,"message":{"message_id":5,"chat":{"id":-100456},"media_group_id":"888"}}`, "album:-100456:888"},
		{"single photo", `{"update_id":3,"channel_post":{"message_id":5,"chat":{"id":-100123}}}`, ""},
		{"edit of an album photo", `{"update_id":4,"edited_channel_post":{"message_id":5,"chat":{"id":-100123},"media_group_id":"777"}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var head updateHead
			if err := json.Unmarshal([]byte(tc.update), &head); err != nil {
				t.Fatal(err)
			}
			if got := head.album(); got != tc.want {
				t.Errorf("album = %q, want %q", got, tc.want)
			}
		})
	}
}

// Updates of one chat keep their order; commands have their own line, so
// that a post waiting for Jira does not hold them up.
func TestOrderKeys(t *testing.T) {
	tests := []struct{ name, update, want string }{
		{"channel post", `{"update_id":1,"channel_post":{"message_id":5,"chat":{"id":-100123},"text":"Disk full"}}`, "chat:-100123"},
		{"reply in a group", `{"update_id":2,"message":{"message_id":6,"chat":{"id":-100456},"text":"on it"}}`, "chat:-100456"},
		{"edit", `{"update_id":3,"edited_message":{"message_id":6,"chat":{"id":-100456},"text":"/x"}}`, "chat:-100456"},
		{"command in a group", `{"update_id":4,"message":{"message_id":7,"chat":{"id":-100456},"text":"/issue OPS-1"}}`, "cmd:-100456"},
		{"command in a DM", `{"update_id":5,"message":{"message_id":8,"chat":{"id":501},"text":"/help"}}`, "cmd:501"},
		{"button", `{"update_id":6,"callback_query":{"id":"q","from":{"id":501}}}`, "user:501"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var head updateHead
			if err := json.Unmarshal([]byte(tc.update), &head); err != nil {
				t.Fatal(err)
			}
			if got := head.orderKey(); got != tc.want {
				t.Errorf("orderKey = %q, want %q", got, tc.want)
			}
		})
	}
}
