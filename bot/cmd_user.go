package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/storage"
)

func (b *Bot) cmdStart(ctx context.Context, m *tele.Message, _ string) error {
	u := m.Sender
	if u == nil {
		return b.reply(ctx, m, refusal(nil))
	}
	lines := []string{fmt.Sprintf("👋 Hi %s. Your Telegram ID is <code>%d</code>.", markup.EscapeHTML(u.FirstName), u.ID)}
	if !b.allowed(u) {
		lines = append(lines, "⛔ You may not use this bot yet: ask an admin to add your ID to ALLOWED_USERS.")
		return b.reply(ctx, m, strings.Join(lines, "\n"))
	}
	lines = append(lines, "✅ You may use this bot.")
	if b.isAdmin(u) {
		lines = append(lines, "🛠 You are an admin: /link and /unlink are yours.")
	}
	id, err := b.store.Connected(u.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		lines = append(lines, "🔗 Jira: not connected. Send /connect <i>your-jira-email</i> to use /my and assign to yourself.")
	case err != nil:
		return err
	default:
		lines = append(lines, "🔗 Jira: connected as <b>"+markup.EscapeHTML(b.jiraName(ctx, id))+"</b>.")
	}
	lines = append(lines, "/help lists the commands.")
	return b.reply(ctx, m, strings.Join(lines, "\n"))
}

// jiraName is a connected user's display name, or their id when Jira
// cannot say.
func (b *Bot) jiraName(ctx context.Context, id string) string {
	u, err := b.jira.GetUser(ctx, id)
	if err != nil || u.Display() == "" {
		return id
	}
	return u.Display()
}

func (b *Bot) cmdConnect(ctx context.Context, m *tele.Message, args string) error {
	if args == "" {
		return b.reply(ctx, m, usage("connect"))
	}
	u, problem, err := b.findUser(ctx, args)
	if err != nil {
		return b.failed(ctx, m, err, "")
	}
	if problem != "" {
		return b.reply(ctx, m, problem)
	}
	id, err := b.jira.UserID(ctx, u)
	if err != nil {
		return b.failed(ctx, m, err, "")
	}
	if err := b.store.Connect(m.Sender.ID, id); err != nil {
		return err
	}
	b.log.WithField("telegram_user", m.Sender.ID).Info("user connected to Jira")
	return b.reply(ctx, m, "🔗 Connected to <b>"+markup.EscapeHTML(u.Display())+"</b>. /my and “assign me” now use this Jira user.")
}

// findUser looks a Jira user up by e-mail, username or name. problem is
// what to tell the user when there is not exactly one.
func (b *Bot) findUser(ctx context.Context, query string) (u jira.User, problem string, err error) {
	found, err := b.jira.FindUsers(ctx, query)
	if err != nil {
		return jira.User{}, "", err
	}
	if len(found) == 1 {
		return found[0], "", nil
	}
	for _, f := range found {
		for _, v := range []jira.Text{f.Email, f.Name, f.AccountID, f.DisplayName} {
			if v != "" && strings.EqualFold(string(v), query) {
				return f, "", nil
			}
		}
	}
	if len(found) == 0 {
		return jira.User{}, "No Jira user matches “" + markup.EscapeHTML(query) + "”.", nil
	}
	var names []string
	for _, f := range found[:min(len(found), 5)] {
		names = append(names, markup.EscapeHTML(f.Display()))
	}
	return jira.User{}, "Several Jira users match: " + strings.Join(names, ", ") + ". Give the e-mail or username.", nil
}

func (b *Bot) cmdDisconnect(ctx context.Context, m *tele.Message, _ string) error {
	_, err := b.store.Connected(m.Sender.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return b.reply(ctx, m, "You were not connected.")
	}
	if err != nil {
		return err
	}
	if err := b.store.Disconnect(m.Sender.ID); err != nil {
		return err
	}
	return b.reply(ctx, m, "Disconnected: I no longer act as your Jira user.")
}

func (b *Bot) cmdWatch(ctx context.Context, m *tele.Message, args string) error {
	key, ok := issueKey(args)
	if !ok {
		return b.reply(ctx, m, usage("watch"))
	}
	if _, ok, err := b.reach(ctx, m, key); !ok {
		return err
	}
	if err := b.store.Watch(key, m.Sender.ID); err != nil {
		return err
	}
	text := "👁 Watching " + b.keyLink(key) + ": I'll send you a private message about each change."
	if m.Chat.Type != tele.ChatPrivate {
		text += " Start a private chat with me if you haven't."
	}
	return b.reply(ctx, m, text)
}

func (b *Bot) cmdUnwatch(ctx context.Context, m *tele.Message, args string) error {
	key, ok := issueKey(args)
	if !ok {
		return b.reply(ctx, m, usage("unwatch"))
	}
	had, err := b.store.Unwatch(key, m.Sender.ID)
	if err != nil {
		return err
	}
	if !had {
		return b.reply(ctx, m, "You were not watching "+b.keyLink(key)+".")
	}
	return b.reply(ctx, m, "🙈 Stopped watching "+b.keyLink(key)+".")
}

func (b *Bot) cmdWatching(ctx context.Context, m *tele.Message, _ string) error {
	keys, err := b.store.Watching(m.Sender.ID)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return b.reply(ctx, m, "You watch no issues. /watch <i>KEY</i> to start.")
	}
	lines := []string{"👁 You watch:"}
	for _, k := range keys {
		lines = append(lines, "• "+b.keyLink(k))
	}
	return b.reply(ctx, m, strings.Join(lines, "\n"))
}

func (b *Bot) keyLink(key string) string {
	return fmt.Sprintf(`<a href="%s">%s</a>`, markup.EscapeHTML(b.jira.BrowseURL(key)), markup.EscapeHTML(key))
}
