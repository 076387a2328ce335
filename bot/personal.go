package bot

import (
	"context"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/storage"
)

// Personal notifications (DESIGN §8): connected people get a DM when an
// issue is assigned to them, when they are @mentioned, and about comments
// and status changes on issues they report or watch in Jira — never for
// their own actions, and only when their own account can read the issue
// and, for a restricted comment, that comment.

// Kinds of personal notification, the keys of Account.Notify.
const (
	notifyAssigned  = "assigned"
	notifyMentioned = "mentioned"
	notifyWatching  = "watching"
)

// notifyKinds in the order /notify shows them, with their labels.
var notifyKinds = []struct{ kind, label string }{
	{notifyAssigned, "assigned to me"},
	{notifyMentioned, "I am mentioned"},
	{notifyWatching, "issues I report or watch"},
}

// personalDMs are the personal lines of a batch: issue key → Telegram
// user → lines. They are sent with the watcher DMs of the issue's note.
type personalDMs map[string]map[int64][]string

// personalNotes reads a batch of Jira events for personal notifications.
// It is a courtesy like watcher DMs: what cannot be checked is not sent.
func (b *Bot) personalNotes(ctx context.Context, batch []storage.Item) personalDMs {
	if !b.cfg.PersonalAccounts() {
		return nil
	}
	accounts, err := b.store.Accounts()
	if err != nil || len(accounts) == 0 {
		if err != nil {
			b.log.WithError(err).Warn("cannot read the personal accounts: no personal notifications")
		}
		return nil
	}
	out := make(personalDMs)
	watchers := make(map[string][]jira.User) // per issue, asked once a batch
	for _, it := range batch {
		ev, err := jira.ParseEvent(it.Payload)
		if err != nil {
			continue
		}
		key, err := b.issueKey(ctx, ev)
		if err != nil || key == "" {
			continue
		}
		for _, a := range accounts {
			if a.NeedsReconnect {
				continue
			}
			kind, line := b.personalLine(ctx, a, ev, key, watchers)
			if line == "" || !notifyOn(a, kind) || !b.canRead(ctx, a, key) {
				continue
			}
			if unsure(ev.Comment) && !b.canReadComment(ctx, a, key, string(ev.Comment.ID)) {
				continue
			}
			if out[key] == nil {
				out[key] = make(map[int64][]string)
			}
			out[key][a.TelegramID] = append(out[key][a.TelegramID], line)
		}
	}
	return out
}

// wait is how long the batch should wait for every recipient's private
// chat to be free (0: now, or too long to wait for a courtesy).
func (p personalDMs) wait(tg Telegram) time.Duration {
	var wait time.Duration
	for _, users := range p {
		for u := range users {
			wait = max(wait, tg.Wait(u))
		}
	}
	if wait > dmPatience {
		return 0
	}
	return wait
}

func notifyOn(a storage.Account, kind string) bool {
	on, set := a.Notify[kind]
	return !set || on
}

// personalLine is what one event tells a, and of which kind ("" when
// nothing).
func (b *Bot) personalLine(ctx context.Context, a storage.Account, ev *jira.Event, key string, watchers map[string][]jira.User) (kind, line string) {
	if isUser(ev.User, a.JiraID) || (ev.Comment != nil && isUser(ev.Comment.Author, a.JiraID)) {
		return "", "" // their own action
	}
	who := markup.EscapeHTML(ev.User.Display())
	if ev.Comment != nil && ev.User == nil {
		who = markup.EscapeHTML(ev.Comment.Author.Display())
	}
	link := b.keyLink(key) + " " + markup.EscapeHTML(summaryOf(ev))
	switch {
	case assignedTo(ev, a.JiraID):
		return notifyAssigned, "🔔 " + who + " assigned " + link + " to you."
	case mentions(ev, a.JiraID):
		return notifyMentioned, "🔔 " + who + " mentioned you on " + link + "."
	}
	comment := ev.WebhookEvent == jira.EventCommentCreated
	status := statusChange(ev)
	if !comment && status == "" {
		return "", ""
	}
	if !b.follows(ctx, a, ev, key, watchers) {
		return "", ""
	}
	if comment {
		return notifyWatching, "💬 " + who + " commented on " + link + ":\n" + markup.EscapeHTML(shorten(string(ev.Comment.Body), 300))
	}
	return notifyWatching, "🔄 " + who + " moved " + link + " to <b>" + markup.EscapeHTML(status) + "</b>."
}

func summaryOf(ev *jira.Event) string {
	if ev.Issue == nil {
		return ""
	}
	return string(ev.Issue.Fields.Summary)
}

// isUser compares a Jira user with an account's id, whichever of
// accountId, name or key the site uses.
func isUser(u *jira.User, id string) bool {
	return u != nil && id != "" && (string(u.AccountID) == id || string(u.Name) == id || string(u.Key) == id)
}

// assignedTo: the event gives the issue to id (a change, or a new issue).
func assignedTo(ev *jira.Event, id string) bool {
	if ev.Changelog != nil {
		for _, it := range ev.Changelog.Items {
			if strings.EqualFold(string(it.Field), "assignee") && string(it.To) == id {
				return true
			}
		}
	}
	return ev.WebhookEvent == jira.EventIssueCreated && ev.Issue != nil && isUser(ev.Issue.Fields.Assignee, id)
}

// mentions: a new comment or a new description names id, as Cloud
// ([~accountid:ID]) or Data Center ([~name]) write it.
func mentions(ev *jira.Event, id string) bool {
	var texts []string
	if ev.Comment != nil && (ev.WebhookEvent == jira.EventCommentCreated || ev.WebhookEvent == jira.EventCommentUpdated) {
		texts = append(texts, string(ev.Comment.Body))
	}
	if ev.Changelog != nil {
		for _, it := range ev.Changelog.Items {
			if strings.EqualFold(string(it.Field), "description") {
				texts = append(texts, string(it.ToString))
			}
		}
	}
	for _, t := range texts {
		if strings.Contains(t, "[~accountid:"+id+"]") || strings.Contains(t, "[~"+id+"]") {
			return true
		}
	}
	return false
}

func statusChange(ev *jira.Event) string {
	if ev.Changelog == nil || ev.WebhookEvent != jira.EventIssueUpdated {
		return ""
	}
	for _, it := range ev.Changelog.Items {
		if strings.EqualFold(string(it.Field), "status") {
			return string(it.ToString)
		}
	}
	return ""
}

// follows: a reports the issue or watches it in Jira (asked with the
// bot's account, once per issue and batch).
func (b *Bot) follows(ctx context.Context, a storage.Account, ev *jira.Event, key string, watchers map[string][]jira.User) bool {
	if ev.Issue != nil && isUser(ev.Issue.Fields.Reporter, a.JiraID) {
		return true
	}
	ws, asked := watchers[key]
	if !asked {
		var err error
		if ws, err = b.jira.Watchers(ctx, key); err != nil {
			b.log.WithError(err).WithField("issue", key).Debug("cannot read the issue's watchers in Jira")
		}
		watchers[key] = ws
	}
	for _, w := range ws {
		if isUser(&w, a.JiraID) {
			return true
		}
	}
	return false
}

// canRead asks with a's own client whether they may read the issue; the
// answer is kept for the coalescing window.
func (b *Bot) canRead(ctx context.Context, a storage.Account, key string) bool {
	k := seenKey{user: a.TelegramID, key: key}
	if ok, known := b.seen.get(k, b.now()); known {
		return ok
	}
	c, err := b.clients.get(a, b.personalClient)
	if err != nil {
		return false
	}
	_, err = c.GetIssue(ctx, key)
	if jira.IsUnauthorized(err) {
		b.expire(ctx, a.TelegramID)
	}
	b.seen.put(k, err == nil, b.now())
	return err == nil
}

// canReadComment asks with a's own client whether they may read a
// restricted comment (a role or group, or an internal note): Jira lets
// exactly those people read it, so exactly they get the DM. The bot's own
// view never stands in for theirs. Jira's answer is kept for the
// coalescing window; a failure to ask (an outage, a revoked token) is
// not an answer: the DM is skipped and the next event asks again.
func (b *Bot) canReadComment(ctx context.Context, a storage.Account, key, commentID string) bool {
	if commentID == "" {
		return false
	}
	k := seenKey{user: a.TelegramID, key: key, comment: commentID}
	if ok, known := b.seen.get(k, b.now()); known {
		return ok
	}
	c, err := b.clients.get(a, b.personalClient)
	if err != nil {
		return false
	}
	ok, err := c.CanReadComment(ctx, key, commentID)
	if err != nil {
		if jira.IsUnauthorized(err) {
			b.expire(ctx, a.TelegramID)
		}
		b.log.WithError(err).WithField("issue", key).WithField("user", a.TelegramID).
			Debug("cannot ask Jira whether a person may read a restricted comment: no DM")
		return false
	}
	b.seen.put(k, ok, b.now())
	return ok
}

// seenKey is a person's read check: of an issue (comment "") or of one
// of its comments.
type seenKey struct {
	user    int64
	key     string
	comment string
}

// cmdNotify shows one toggle button per kind of personal notification.
func (b *Bot) cmdNotify(ctx context.Context, m *tele.Message, _ string) error {
	act := actorOf(ctx)
	if !act.connected() {
		return b.reply(ctx, m, connectHint+": personal notifications are for connected Jira accounts.")
	}
	_, err := b.replyWith(ctx, m, "🔔 Private messages about:", notifyKeyboard(act.account))
	return err
}

func notifyKeyboard(a storage.Account) *tele.ReplyMarkup {
	var rows [][]tele.InlineButton
	for _, k := range notifyKinds {
		mark := "✅ "
		if !notifyOn(a, k.kind) {
			mark = "⬜ "
		}
		rows = append(rows, row(tele.InlineButton{Text: mark + k.label, Data: cb(cbNotify, k.kind)}))
	}
	return &tele.ReplyMarkup{InlineKeyboard: rows}
}

// pressNotify toggles one kind.
func (b *Bot) pressNotify(ctx context.Context, c *tele.Callback, kind string) pressResult {
	act := actorOf(ctx)
	if !act.connected() {
		return alert(connectHint + ".")
	}
	a := act.account
	if a.Notify == nil {
		a.Notify = make(map[string]bool)
	}
	a.Notify[kind] = !notifyOn(a, kind)
	if err := b.store.SaveAccount(a); err != nil {
		return b.pressFailed(ctx, err, "")
	}
	b.edit(ctx, c.Message, "🔔 Private messages about:", notifyKeyboard(a))
	if a.Notify[kind] {
		return toast("On")
	}
	return toast("Off")
}

// unsure reports whether a comment may be hidden from some people: it is
// restricted, or nothing marks it public (a Data Center internal note
// carries no mark in the webhook: its sd.public.comment property is left
// out). Each recipient's own account is then asked.
func unsure(c *jira.Comment) bool {
	return c != nil && (c.Restricted() || c.JSDPublic == nil)
}
