package bot

import (
	"context"
	"fmt"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
)

func (b *Bot) cmdStart(ctx context.Context, m *tele.Message, _ string) error {
	u := m.Sender
	if u == nil {
		return b.reply(ctx, m, refusal(nil))
	}
	lines := []string{fmt.Sprintf("👋 Hi %s. Your Telegram ID is <code>%d</code>.", markup.EscapeHTML(u.FirstName), u.ID)}
	act := actorOf(ctx)
	switch {
	case b.allowed(u):
		lines = append(lines, "✅ You may use this bot.")
	case act.connected():
		lines = append(lines, "✅ You may use this bot with your own Jira account.")
	default:
		lines = append(lines, "⛔ You may not use this bot's Jira account: ask an admin to add your ID to ALLOWED_USERS.")
	}
	if b.isAdmin(u) {
		lines = append(lines, "🛠 You are an admin: /link, /unlink, /subscribe and /unsubscribe are yours.")
	}
	lines = append(lines, b.connectionLine(act), "/help lists the commands.")
	return b.reply(ctx, m, strings.Join(lines, "\n"))
}

// connectionLine says whom a user acts as in Jira.
func (b *Bot) connectionLine(act actor) string {
	switch {
	case !b.cfg.PersonalAccounts():
		return "🔗 Jira: personal accounts are off on this bot."
	case act.expired:
		return "🔌 Jira: your connection as <b>" + markup.EscapeHTML(act.account.JiraName) + "</b> expired: send /connect again."
	case act.connected():
		return "🔗 Jira: connected as <b>" + markup.EscapeHTML(act.account.JiraName) + "</b>: you act as yourself."
	}
	return "🔗 Jira: not connected. Send /connect to me in a private chat to act as yourself."
}

// jiraName is a Jira user's display name, or their id when Jira cannot
// say.
func (b *Bot) jiraName(ctx context.Context, id string) string {
	u, err := b.jc(ctx).GetUser(ctx, id)
	if err != nil || u.Display() == "" {
		return id
	}
	return u.Display()
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
