package bot

import (
	"context"

	tele "gopkg.in/telebot.v3"
)

// cmdNew handles /new: in a mapped group it makes an issue of the text (or
// of the message it replies to); in a DM it uses JIRA_PROJECT.
func (b *Bot) cmdNew(ctx context.Context, m *tele.Message, args string) error {
	return nil
}
