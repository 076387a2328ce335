package bot

import (
	"context"
	"strings"

	tele "gopkg.in/telebot.v3"
)

// parseCommand splits "/cmd@botname args" when the message starts with a
// command addressed to this bot (or to no bot in particular).
func parseCommand(m *tele.Message, botUsername string) (cmd, args string, ok bool) {
	text := m.Text
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	head, rest := text, ""
	if i := strings.IndexAny(text, " \t\n"); i >= 0 {
		head, rest = text[:i], text[i+1:]
	}
	name, target, addressed := strings.Cut(head[1:], "@")
	if name == "" || (addressed && !strings.EqualFold(target, botUsername)) {
		return "", "", false
	}
	return strings.ToLower(name), strings.TrimSpace(rest), true
}

// onCommand handles a command in any chat.
func (b *Bot) onCommand(ctx context.Context, m *tele.Message, cmd, args string) error {
	switch cmd {
	case "new":
		return b.cmdNew(ctx, m, args)
	}
	return nil
}

// onCallback handles a press on an inline button.
func (b *Bot) onCallback(ctx context.Context, c *tele.Callback) error {
	return nil
}

// registerCommands tells Telegram the command menu (setMyCommands).
func (b *Bot) registerCommands() error {
	return nil
}
