package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/wiki"
	"github.com/jtbot/jtbot/storage"
	tele "gopkg.in/telebot.v3"
)

// maxMessage is Telegram's limit on a message's text.
const maxMessage = 4096

// handleJiraEvents handles a batch of Jira events: one event, or a burst
// for one issue. For now each event gets its own message.
func (b *Bot) handleJiraEvents(ctx context.Context, batch []storage.Item) error {
	for _, it := range batch {
		if err := b.handleJira(ctx, it.Payload); err != nil {
			return err
		}
	}
	return nil
}

// handleJira turns one queued Jira event into Telegram messages.
func (b *Bot) handleJira(ctx context.Context, payload []byte) error {
	ev, err := jira.ParseEvent(payload)
	if err != nil {
		return permanent(err)
	}
	key, err := b.issueKey(ctx, ev)
	if err != nil || key == "" {
		return err
	}
	switch ev.WebhookEvent {
	case jira.EventIssueCreated:
		return b.onIssueCreated(ev, key)
	case jira.EventIssueUpdated:
		if ev.IssueEventType == "issue_commented" && ev.Comment != nil {
			return b.onCommentCreated(ev, key) // Data Center's form of comment_created
		}
		return b.onIssueUpdated(ctx, ev, key)
	case jira.EventCommentCreated:
		return b.onCommentCreated(ev, key)
	case jira.EventCommentUpdated, jira.EventCommentDeleted:
		return b.onCommentChanged(ev, key)
	case jira.EventIssueDeleted:
		return b.notify(ev, key, "🗑 deleted")
	case jira.EventAttachmentCreated:
		return b.notify(ev, key, attachmentLine(ev.Attachment))
	}
	return nil
}

// issueKey finds the event's issue key: from the payload, or, for Data
// Center comment events that carry only the issue id, from the store or Jira.
func (b *Bot) issueKey(ctx context.Context, ev *jira.Event) (string, error) {
	if key := ev.IssueKey(); key != "" {
		return key, nil
	}
	id := ev.IssueID()
	if id == "" {
		return "", nil
	}
	key, err := b.store.IssueKeyByID(id)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	key, err = b.jira.IssueKeyByID(ctx, id)
	if jira.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return key, b.store.RememberIssueID(id, key)
}

func (b *Bot) onIssueCreated(ev *jira.Event, key string) error {
	if root, err := b.store.Root(key); err == nil && root.FromTelegram {
		return nil // jtbot created it from a post: no echo
	}
	return b.notify(ev, key, "🆕 created")
}

func (b *Bot) onIssueUpdated(ctx context.Context, ev *jira.Event, key string) error {
	if ev.Changelog == nil {
		return nil
	}
	me := b.jiraAccount(ctx)
	var lines []string
	var other []string
	for _, item := range ev.Changelog.Items {
		field := strings.ToLower(string(item.Field))
		if me != "" && ev.User.ID() == me && (field == "summary" || field == "description") {
			continue // jtbot's own edit, following a Telegram edit
		}
		if line := changeLine(field, item); line != "" {
			lines = append(lines, line)
		} else {
			other = append(other, string(item.Field))
		}
	}
	if len(other) > 0 {
		lines = append(lines, "✏️ changed: "+wiki.EscapeHTML(strings.Join(other, ", ")))
	}
	if len(lines) == 0 {
		return nil
	}
	return b.notify(ev, key, strings.Join(lines, "\n"))
}

func changeLine(field string, it jira.ChangeItem) string {
	from, to := wiki.EscapeHTML(string(it.FromString)), wiki.EscapeHTML(string(it.ToString))
	switch field {
	case "status":
		return fmt.Sprintf("🔄 %s → <b>%s</b>", from, to)
	case "assignee":
		if to == "" {
			return "👤 unassigned"
		}
		return "👤 assigned to <b>" + to + "</b>"
	case "priority":
		return fmt.Sprintf("⚡ priority %s → <b>%s</b>", from, to)
	case "resolution":
		if to == "" {
			return "↩️ unresolved"
		}
		return "✅ resolved: <b>" + to + "</b>"
	case "summary":
		return "📝 summary: " + to
	case "duedate":
		return "📅 due " + to
	}
	return ""
}

func (b *Bot) onCommentCreated(ev *jira.Event, key string) error {
	c := ev.Comment
	if c == nil || c.ID == "" {
		return nil
	}
	if _, err := b.store.Comment(key, string(c.ID)); err == nil {
		return nil // written by jtbot from a reply, or already posted
	}
	text := "💬 <b>" + wiki.EscapeHTML(c.Author.Display()) + "</b>:\n" + wiki.ToTelegramHTML(string(c.Body), nil)
	sent, err := b.post(ev, key, text)
	if err != nil || sent == nil {
		return err
	}
	return b.store.LinkComment(key, string(c.ID), *sent, false)
}

// onCommentChanged edits the message that shows the comment.
func (b *Bot) onCommentChanged(ev *jira.Event, key string) error {
	c := ev.Comment
	if c == nil {
		return nil
	}
	link, err := b.store.Comment(key, string(c.ID))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && link.FromTelegram) {
		return nil
	}
	if err != nil {
		return err
	}
	text := "💬 <b>" + wiki.EscapeHTML(c.Author.Display()) + "</b>:\n" + wiki.ToTelegramHTML(string(c.Body), nil)
	if ev.WebhookEvent == jira.EventCommentDeleted {
		text = "💬 <i>comment deleted</i>"
	}
	msg := &tele.Message{ID: link.MessageID, Chat: &tele.Chat{ID: link.ChatID}}
	_, err = b.tg.Edit(msg, b.header(ev, key)+"\n"+text, &tele.SendOptions{ParseMode: tele.ModeHTML, DisableWebPagePreview: true})
	if err != nil && strings.Contains(err.Error(), "message is not modified") {
		return nil
	}
	return err
}

// notify posts one line about an issue under its root.
func (b *Bot) notify(ev *jira.Event, key, line string) error {
	_, err := b.post(ev, key, line)
	return err
}

// post sends text, headed by the issue, under the issue's root. An issue of
// a mapped project without a root gets this message as its root. It returns
// nil, nil when the issue has no place in Telegram.
func (b *Bot) post(ev *jira.Event, key, text string) (*storage.MessageRef, error) {
	text = wiki.Truncate(b.header(ev, key)+"\n"+text, maxMessage)
	root, err := b.store.Root(key)
	if err == nil {
		return b.send(root.MessageRef, text)
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	chat, ok, err := b.chatFor(projectOf(ev, key))
	if err != nil || !ok {
		return nil, err
	}
	sent, err := b.send(storage.MessageRef{ChatID: chat}, text)
	if err != nil {
		return nil, err
	}
	return sent, b.store.SetRoot(key, *sent, false)
}

func (b *Bot) header(ev *jira.Event, key string) string {
	h := fmt.Sprintf("%s <a href=\"%s\">%s</a>", typeEmoji(ev), wiki.EscapeHTML(b.jira.BrowseURL(key)), key)
	if ev.Issue != nil && ev.Issue.Fields.Summary != "" {
		h += " " + wiki.EscapeHTML(string(ev.Issue.Fields.Summary))
	}
	return h
}

func typeEmoji(ev *jira.Event) string {
	if ev.Issue == nil || ev.Issue.Fields.IssueType == nil {
		return "📌"
	}
	switch strings.ToLower(string(ev.Issue.Fields.IssueType.Name)) {
	case "bug":
		return "🐞"
	case "story":
		return "📗"
	case "epic":
		return "⚡"
	case "sub-task", "subtask":
		return "🔹"
	}
	return "📌"
}

func attachmentLine(a *jira.Attachment) string {
	if a == nil {
		return "📎 attachment added"
	}
	name := wiki.EscapeHTML(string(a.Filename))
	if strings.HasPrefix(string(a.Content), "http") {
		name = fmt.Sprintf("<a href=\"%s\">%s</a>", wiki.EscapeHTML(string(a.Content)), name)
	}
	return fmt.Sprintf("📎 %s (%s)", name, humanSize(a.Size))
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func projectOf(ev *jira.Event, key string) string {
	if ev.Issue != nil && ev.Issue.Fields.Project != nil && ev.Issue.Fields.Project.Key != "" {
		return string(ev.Issue.Fields.Project.Key)
	}
	p, _, _ := strings.Cut(key, "-")
	return p
}

// chatFor finds the chat a project is mapped to; with several, the lowest
// chat ID, so the choice is stable.
func (b *Bot) chatFor(project string) (int64, bool, error) {
	rt, err := b.store.ChatProjects()
	if err != nil {
		return 0, false, err
	}
	var chats []int64
	for chat, p := range b.cfg.ChatProjects {
		if _, overridden := rt[chat]; !overridden && p == project {
			chats = append(chats, chat)
		}
	}
	for chat, p := range rt {
		if p == project {
			chats = append(chats, chat)
		}
	}
	if len(chats) == 0 {
		return 0, false, nil
	}
	sort.Slice(chats, func(i, j int) bool { return chats[i] < chats[j] })
	return chats[0], true, nil
}

// send posts HTML text as a reply to ref (or to the chat when ref has no
// message). If Telegram cannot parse the HTML, it sends the text plain
// rather than lose it.
func (b *Bot) send(ref storage.MessageRef, text string) (*storage.MessageRef, error) {
	opts := &tele.SendOptions{ParseMode: tele.ModeHTML, ThreadID: ref.ThreadID, DisableWebPagePreview: true}
	if ref.MessageID != 0 {
		opts = b.replyOptions(ref)
	}
	sent, err := b.tg.Send(tele.ChatID(ref.ChatID), text, opts)
	if err != nil && strings.Contains(err.Error(), "can't parse entities") {
		b.log.WithError(err).Warn("telegram refused our HTML; sending plain text")
		opts.ParseMode = tele.ModeDefault
		sent, err = b.tg.Send(tele.ChatID(ref.ChatID), stripTags(text), opts)
	}
	if err != nil {
		return nil, err
	}
	return &storage.MessageRef{ChatID: sent.Chat.ID, MessageID: sent.ID, ThreadID: ref.ThreadID}, nil
}

// jiraAccount is jtbot's own Jira account id, looked up once.
func (b *Bot) jiraAccount(ctx context.Context) string {
	if u := b.jiraMe.Load(); u != nil {
		return u.ID()
	}
	u, err := b.jira.Myself(ctx)
	if err != nil {
		b.log.WithError(err).Warn("cannot read jtbot's own Jira account")
		return ""
	}
	b.jiraMe.Store(&u)
	return u.ID()
}
