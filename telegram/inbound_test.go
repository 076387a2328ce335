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
