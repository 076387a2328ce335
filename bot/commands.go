package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
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

// command is one entry of the menu. Open commands answer anyone: they are
// how a refused user learns their ID. Own commands are about the person's
// connection and work while it is expired.
type command struct {
	name, args, help string
	open, own        bool
	run              func(b *Bot, ctx context.Context, m *tele.Message, args string) error
}

func commandList() []command {
	return []command{
		{name: "start", help: "who you are and whether you may use me", open: true, run: (*Bot).cmdStart},
		{name: "help", help: "this list", open: true, run: (*Bot).cmdHelp},
		{name: "issue", args: "KEY", help: "show an issue with buttons", run: (*Bot).cmdIssue},
		{name: "new", args: "[PROJECT] summary", help: "create an issue (more lines: description)", run: (*Bot).cmdNew},
		{name: "comment", args: "KEY text", help: "comment on an issue", run: (*Bot).cmdComment},
		{name: "assign", args: "KEY me|user|none", help: "assign an issue", run: (*Bot).cmdAssign},
		{name: "transition", args: "KEY [status] [resolution=NAME]", help: "move an issue along its workflow", run: (*Bot).cmdTransition},
		{name: "search", args: "JQL", help: "search issues, 10 per page", run: (*Bot).cmdSearch},
		{name: "my", help: "your unresolved issues", run: (*Bot).cmdMy},
		{name: "connect", help: "act in Jira as yourself (in a private chat)", open: true, own: true, run: (*Bot).cmdConnect},
		{name: "disconnect", help: "forget your Jira account", open: true, own: true, run: (*Bot).cmdDisconnect},
		{name: "notify", help: "choose your private messages from Jira", open: true, own: true, run: (*Bot).cmdNotify},
		{name: "watch", args: "KEY", help: "get a private message about each change", run: (*Bot).cmdWatch},
		{name: "unwatch", args: "KEY", help: "stop those messages", run: (*Bot).cmdUnwatch},
		{name: "watching", help: "the issues you watch", run: (*Bot).cmdWatching},
		{name: "link", args: "PROJECT", help: "admins: link this chat to a Jira project", run: (*Bot).cmdLink},
		{name: "unlink", help: "admins: unlink this chat", run: (*Bot).cmdUnlink},
		{name: "subscribe", args: "[@chat] PROJECT [events:…] [type:…] [priority:…] [label:…] [component:…] [status:…] [jql:\"…\"]", help: "admins: send a project's events here, filtered", run: (*Bot).cmdSubscribe},
		{name: "subscriptions", help: "this chat's subscriptions", open: true, run: (*Bot).cmdSubscriptions},
		{name: "unsubscribe", args: "ID", help: "admins: remove a subscription", run: (*Bot).cmdUnsubscribe},
	}
}

// onCommand handles a command in any chat. Jira failures are told to the
// user and end there (nil): retrying a refused command helps nobody. Only a
// failure to answer, or to reach the database, is returned for a retry.
func (b *Bot) onCommand(ctx context.Context, m *tele.Message, cmd, args string) error {
	for _, c := range commandList() {
		if c.name != cmd {
			continue
		}
		if skip, err := b.unmapped(ctx, m, c.name); skip || err != nil {
			return err
		}
		act, err := b.actorFor(m.Sender)
		if err != nil {
			return err
		}
		ctx = withActor(ctx, act)
		if act.expired && !c.open && !c.own {
			// Never done with the bot's account instead (DESIGN §8).
			return b.reply(ctx, m, expiredText)
		}
		if !c.open && !act.personal() && !b.allowed(m.Sender) {
			b.log.WithField("chat", m.Chat.ID).Debug("command from a user outside ALLOWED_USERS refused")
			b.courtesy(ctx, m, refusal(m.Sender))
			return nil
		}
		return c.run(b, ctx, m, args)
	}
	if m.Chat.Type == tele.ChatPrivate {
		return b.reply(ctx, m, "I don't know /"+markup.EscapeHTML(cmd)+". /help lists what I do.")
	}
	return nil // in a group it may be meant for another bot
}

// registerCommands tells Telegram the command menu (setMyCommands).
func (b *Bot) registerCommands(ctx context.Context) error {
	var menu []tele.Command
	for _, c := range commandList() {
		menu = append(menu, tele.Command{Text: c.name, Description: strings.TrimSpace(c.args + " — " + c.help)})
	}
	return b.tg.SetCommands(ctx, menu)
}

func (b *Bot) cmdHelp(ctx context.Context, m *tele.Message, _ string) error {
	var sb strings.Builder
	sb.WriteString("<b>Commands</b>\n")
	for _, c := range commandList() {
		sb.WriteString("/" + c.name)
		if c.args != "" {
			sb.WriteString(" <i>" + markup.EscapeHTML(c.args) + "</i>")
		}
		sb.WriteString(" — " + markup.EscapeHTML(c.help) + "\n")
	}
	sb.WriteString("\nIn a linked group an issue key in a message gets a short card.")
	return b.reply(ctx, m, sb.String())
}

// allowed reports whether u may act with the bot's Jira account. An
// @username of ALLOWED_USERS counts for the first account seen with it
// only: Telegram names can be given up and claimed by someone else.
func (b *Bot) allowed(u *tele.User) bool {
	if u == nil {
		return false
	}
	users := b.cfg.AllowedUsers
	if users.Everyone || users.IDs[u.ID] || b.isAdmin(u) {
		return true
	}
	name := strings.ToLower(u.Username)
	if name == "" || !users.Usernames[name] {
		return false
	}
	pinned, err := b.store.PinUsername(name, u.ID)
	if err != nil {
		b.log.WithError(err).Warn("cannot pin a username of ALLOWED_USERS")
		return false
	}
	if pinned != u.ID {
		b.log.WithFields(map[string]any{"username": name, "user": u.ID, "pinned": pinned}).
			Warn("an account carrying a username of ALLOWED_USERS is not the one first seen with it: refused")
		return false
	}
	return true
}

// allowedID is allowed for a user known only by ID (a watcher).
func (b *Bot) allowedID(id int64) bool {
	users := b.cfg.AllowedUsers
	if users.Everyone || users.IDs[id] || b.cfg.AdminUsers.IDs[id] {
		return true
	}
	if len(users.Usernames) == 0 {
		return false
	}
	pins, err := b.store.Pins()
	if err != nil {
		b.log.WithError(err).Warn("cannot read the username pins")
		return false
	}
	for name, pinned := range pins {
		if pinned == id && users.Usernames[name] {
			return true
		}
	}
	return false
}

// isAdmin: ADMIN_USERS holds numeric IDs only (config refuses names).
func (b *Bot) isAdmin(u *tele.User) bool {
	return u != nil && b.cfg.AdminUsers.IDs[u.ID]
}

func refusal(u *tele.User) string {
	if u == nil {
		return "⛔ I only take commands from people, not from anonymous senders."
	}
	return fmt.Sprintf("⛔ You may not use this bot. Your Telegram ID is <code>%d</code>: ask an admin to add it to ALLOWED_USERS.", u.ID)
}

// reply answers a message in its chat (and topic), in HTML.
func (b *Bot) reply(ctx context.Context, m *tele.Message, html string) error {
	_, err := b.replyWith(ctx, m, html, nil)
	return err
}

func (b *Bot) replyWith(ctx context.Context, m *tele.Message, html string, kb *tele.ReplyMarkup) (*tele.Message, error) {
	return b.post(ctx, refOf(m), markup.Truncate(html, maxMessage), kb, mayWait)
}

// replyDone answers after a change was made in Jira. Sending it again means
// running the command again and making the change twice, so a failed
// answer is logged, not retried.
func (b *Bot) replyDone(ctx context.Context, m *tele.Message, html string, kb *tele.ReplyMarkup) *tele.Message {
	sent, err := b.replyWith(ctx, m, html, kb)
	if err != nil {
		b.log.WithError(err).WithField("chat", m.Chat.ID).Warn("cannot answer a command after acting on it")
	}
	return sent
}

// courtesy sends a line nobody waits for (a refusal, a hint): only when
// Telegram's limits allow it now, so that strangers cannot spend the
// bot's sending budget or hold up a chat's queue. It is never retried.
func (b *Bot) courtesy(ctx context.Context, m *tele.Message, html string) {
	if _, err := b.post(ctx, refOf(m), html, nil, ifFree); err != nil {
		b.log.WithError(err).WithField("chat", m.Chat.ID).Debug("courtesy message dropped")
	}
}

// failed tells the user what went wrong in Jira. Errors that are not
// Jira's (the database) are returned, so the command runs again later.
func (b *Bot) failed(ctx context.Context, m *tele.Message, err error, subject string) error {
	if b.refusedGrant(ctx, err) {
		if m.Chat.Type == tele.ChatPrivate {
			return nil // the person was just told so by DM
		}
		return b.reply(ctx, m, expiredText)
	}
	text, ok := humanError(err, subject)
	if !ok {
		return err
	}
	// Jira's words may quote the user's JQL: debug level only.
	b.log.WithError(err).WithField("chat", m.Chat.ID).Debug("command failed in Jira")
	return b.reply(ctx, m, "⚠️ "+markup.EscapeHTML(text))
}

// humanError is the short sentence a user sees for a failed Jira call about
// subject (an issue key, a project, or "" for a search). ok is false for
// errors that did not come from Jira.
func humanError(err error, subject string) (text string, ok bool) {
	var je *jira.Error
	if !errors.As(err, &je) {
		return "", false
	}
	switch {
	case je.Temporary():
		return "Jira is unreachable, try again in a minute", true
	case je.Status == http.StatusNotFound && subject != "":
		return subject + " not found", true
	case je.Status == http.StatusForbidden:
		return "jtbot's Jira account cannot see " + keyProject(subject), true
	case je.Status == http.StatusUnauthorized:
		return "Jira refuses jtbot's credentials: ask an admin to check JIRA_USER and JIRA_TOKEN", true
	case je.Message != "":
		return je.Message, true
	}
	return fmt.Sprintf("Jira refused that (status %d)", je.Status), true
}

// keyProject is the project part of an issue key ("OPS" of "OPS-12").
func keyProject(subject string) string {
	if subject == "" {
		return "that"
	}
	if p, _, ok := strings.Cut(subject, "-"); ok {
		return p
	}
	return subject
}

var (
	issueKeyPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,29}-[1-9][0-9]{0,9}$`)
	projectPattern  = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,29}$`)
)

// issueKey reads an issue key the way people type it ("ops-12").
func issueKey(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	return s, issueKeyPattern.MatchString(s)
}

// splitKey reads "KEY rest…"; rest keeps its line breaks.
func splitKey(args string) (key, rest string, ok bool) {
	head, rest := args, ""
	if i := strings.IndexAny(args, " \t\n"); i >= 0 {
		head, rest = args[:i], strings.TrimSpace(args[i+1:])
	}
	key, ok = issueKey(head)
	return key, rest, ok
}

func usage(name string) string {
	for _, c := range commandList() {
		if c.name == name {
			return "Usage: /" + c.name + " " + markup.EscapeHTML(c.args)
		}
	}
	return "See /help"
}
