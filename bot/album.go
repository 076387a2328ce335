package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/storage"
)

// onAlbum handles the updates of one album together: in a channel it is one
// issue with all the files, as a reply it is one comment.
func (b *Bot) onAlbum(ctx context.Context, batch []storage.Item) error {
	var album []*tele.Message
	channel := false
	for _, it := range batch {
		var u tele.Update
		if err := json.Unmarshal(it.Payload, &u); err != nil {
			return permanent(fmt.Errorf("bot: malformed update: %w", err))
		}
		switch {
		case u.ChannelPost != nil:
			album, channel = append(album, u.ChannelPost), true
		case u.Message != nil:
			album = append(album, u.Message)
		default:
			if err := b.handleUpdate(ctx, it.Payload); err != nil {
				return err
			}
		}
	}
	if len(album) == 0 {
		return nil
	}
	sort.SliceStable(album, func(i, j int) bool { return album[i].ID < album[j].ID })
	lead := albumLead(album)
	switch {
	case channel:
		return b.onPost(ctx, lead, album)
	case lead.AutomaticForward:
		for _, m := range album {
			if err := b.onAutomaticForward(m); err != nil {
				return err
			}
		}
		return nil
	}
	linked, err := b.repliesToLinked(lead)
	if err != nil {
		return err
	}
	if linked {
		return b.onReply(ctx, lead, album)
	}
	return b.onMessage(ctx, lead)
}

// albumLead is the message that speaks for an album: the one with the
// caption (Telegram puts it on the first), or else the first.
func albumLead(album []*tele.Message) *tele.Message {
	for _, m := range album {
		if messageText(m) != "" {
			return m
		}
	}
	return album[0]
}
