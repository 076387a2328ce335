package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/wiki"
	"github.com/jtbot/jtbot/storage"
	tele "gopkg.in/telebot.v3"
)

// handleUpdates handles a batch of updates. For now each is handled on its
// own; albums (one group) are handled together.
func (b *Bot) handleUpdates(ctx context.Context, batch []storage.Item) error {
	for _, it := range batch {
		if err := b.handleUpdate(ctx, it.Payload); err != nil {
			return err
		}
	}
	return nil
}

// handleUpdate turns one queued Telegram update into Jira actions.
func (b *Bot) handleUpdate(ctx context.Context, payload []byte) error {
	var u tele.Update
	if err := json.Unmarshal(payload, &u); err != nil {
		return permanent(fmt.Errorf("bot: malformed update: %w", err))
	}
	switch {
	case u.ChannelPost != nil:
		return b.onPost(ctx, u.ChannelPost)
	case u.EditedChannelPost != nil:
		return b.onEdit(ctx, u.EditedChannelPost)
	case u.Message != nil:
		return b.onMessage(ctx, u.Message)
	case u.EditedMessage != nil:
		return b.onEdit(ctx, u.EditedMessage)
	case u.Callback != nil:
		return b.onCallback(ctx, u.Callback)
	}
	return nil
}

// project returns the Jira project a chat is mapped to: run-time mappings
// (/link) first, then CHAT_PROJECTS.
func (b *Bot) project(chatID int64) (string, bool, error) {
	rt, err := b.store.ChatProjects()
	if err != nil {
		return "", false, err
	}
	if p, ok := rt[chatID]; ok {
		return p, true, nil
	}
	p, ok := b.cfg.ChatProjects[chatID]
	return p, ok, nil
}

func (b *Bot) onPost(ctx context.Context, m *tele.Message) error {
	project, ok, err := b.project(m.Chat.ID)
	if err != nil {
		return err
	}
	if !ok {
		b.log.WithField("chat", m.Chat.ID).Debug("post in an unmapped chat ignored")
		return nil
	}
	if messageText(m) == "" {
		return nil
	}
	return b.createIssue(ctx, m, project)
}

func (b *Bot) onMessage(ctx context.Context, m *tele.Message) error {
	if m.AutomaticForward {
		return b.onAutomaticForward(m)
	}
	if cmd, args, ok := parseCommand(m, b.Username()); ok {
		return b.onCommand(ctx, m, cmd, args)
	}
	if m.ReplyTo != nil {
		return b.onReply(ctx, m)
	}
	return b.onMentions(ctx, m)
}

// createIssue makes the post an issue exactly once: the intent is recorded
// before Jira is asked, so a retry after a crash between Jira's answer and
// the saved link finds the issue instead of creating a second one.
func (b *Bot) createIssue(ctx context.Context, m *tele.Message, project string) error {
	post := refOf(m)
	if link, err := b.store.MessageLink(post.ChatID, post.MessageID); err == nil {
		b.log.WithField("issue", link.Issue).Debug("post already has an issue")
		return nil
	}
	origin := originOf(post)
	earlier, err := b.store.BeginIssue(post)
	if err != nil {
		return err
	}
	var created jira.Created
	found := false
	if earlier {
		if created, found, err = b.jira.FindByOrigin(ctx, project, origin); err != nil {
			return err
		}
	}
	if !found {
		created, err = b.jira.CreateIssue(ctx, b.newIssue(m, project, origin))
		if err != nil {
			return b.createFailed(m, project, err)
		}
	}
	if err := b.store.RecordIssue(post, created.Key, created.ID, true); err != nil {
		return err
	}
	b.log.WithFields(map[string]any{"issue": created.Key, "chat": post.ChatID}).Info("issue created from a post")
	return b.answerPost(m, created.Key)
}

// createFailed decides what a refused creation means: a missing project or
// refused account is a setting to fix (retry, loudly); a refused field is
// told to the chat and the post dead-lettered.
func (b *Bot) createFailed(m *tele.Message, project string, err error) error {
	var je *jira.Error
	if !errors.As(err, &je) || je.Temporary() {
		return err
	}
	if je.Status == 404 || je.Status == 401 || je.Status == 403 {
		return transientError{fmt.Errorf("project %s: %w", project, err)}
	}
	reason := je.Message
	if reason == "" {
		reason = fmt.Sprintf("status %d", je.Status)
	}
	text := "⚠️ Jira refused to create an issue: " + wiki.EscapeHTML(reason)
	if _, serr := b.tg.Send(tele.ChatID(m.Chat.ID), text, b.replyOptions(refOf(m))); serr != nil {
		b.log.WithError(redactErr(serr, b.cfg.TelegramToken)).Warn("cannot tell the chat about a refused issue")
	}
	return permanent(err)
}

// answerPost replies under the post with the new key, and links the answer
// so that replies to it become comments too.
func (b *Bot) answerPost(m *tele.Message, key string) error {
	text := fmt.Sprintf("📝 <a href=\"%s\">%s</a>", wiki.EscapeHTML(b.jira.BrowseURL(key)), key)
	sent, err := b.tg.Send(tele.ChatID(m.Chat.ID), text, b.replyOptions(refOf(m)))
	if err != nil {
		return err
	}
	return b.store.LinkMessage(sent.Chat.ID, sent.ID, storage.Link{Issue: key})
}

func (b *Bot) newIssue(m *tele.Message, project, origin string) jira.NewIssue {
	text, entities := messageText(m), messageEntities(m)
	typ := b.cfg.JiraIssueType
	var labels []string
	for _, tag := range hashtags(text, entities) {
		labels = append(labels, tag)
		if t, ok := b.cfg.HashtagTypes[strings.ToLower(tag)]; ok {
			typ = t
		}
	}
	return jira.NewIssue{
		Project:     project,
		Type:        typ,
		Summary:     Summary(text),
		Description: wiki.FromTelegram(text, entities) + b.footer(m),
		Labels:      labels,
		Origin:      origin,
	}
}

// footer names who posted where, with a link back to the message.
func (b *Bot) footer(m *tele.Message) string {
	who := m.Signature
	if who == "" && m.Sender != nil {
		who = fullName(m.Sender)
	}
	if who == "" && m.SenderChat != nil {
		who = m.SenderChat.Title
	}
	parts := []string{"\n\n----\n_Posted"}
	if who != "" {
		parts = append(parts, " by "+wiki.Escape(who))
	}
	if m.Chat.Title != "" {
		parts = append(parts, " in "+wiki.Escape(m.Chat.Title))
	}
	parts = append(parts, " via Telegram_")
	if link := MessageURL(m.Chat, m.ID); link != "" {
		parts = append(parts, " — ["+link+"]")
	}
	return strings.Join(parts, "")
}

// onAutomaticForward links the copy of a channel post that Telegram puts in
// the channel's discussion group, and makes it the issue's root so that
// notifications land in the comments thread.
func (b *Bot) onAutomaticForward(m *tele.Message) error {
	chatID, msgID := forwardOrigin(m)
	if chatID == 0 {
		return nil
	}
	link, err := b.store.MessageLink(chatID, msgID)
	if errors.Is(err, storage.ErrNotFound) {
		if _, mapped, _ := b.project(chatID); mapped {
			// The post's issue is still being created: wait for it.
			return transientError{errors.New("automatic forward arrived before its post's issue")}
		}
		return nil
	}
	if err != nil {
		return err
	}
	return b.store.SetRoot(link.Issue, refOf(m), true)
}

func forwardOrigin(m *tele.Message) (int64, int) {
	if m.Origin != nil && m.Origin.Chat != nil && m.Origin.MessageID != 0 {
		return m.Origin.Chat.ID, m.Origin.MessageID
	}
	if m.OriginalChat != nil {
		return m.OriginalChat.ID, m.OriginalMessageID
	}
	return 0, 0
}

// onReply makes a reply to any linked message a Jira comment.
func (b *Bot) onReply(ctx context.Context, m *tele.Message) error {
	link, err := b.store.MessageLink(m.Chat.ID, m.ReplyTo.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if m.Sender == nil || !b.cfg.AllowedUsers.Contains(m.Sender.ID, m.Sender.Username) {
		b.log.WithField("chat", m.Chat.ID).Debug("reply from a user outside ALLOWED_USERS: no comment")
		return nil
	}
	text := messageText(m)
	if text == "" {
		return nil
	}
	body := b.commentBody(m)
	id, err := b.jira.AddComment(ctx, link.Issue, body)
	if err != nil {
		if jira.IsNotFound(err) {
			return permanent(fmt.Errorf("issue %s is gone: %w", link.Issue, err))
		}
		return err
	}
	b.log.WithField("issue", link.Issue).Info("comment added from a reply")
	return b.store.LinkComment(link.Issue, id, refOf(m), true)
}

func (b *Bot) commentBody(m *tele.Message) string {
	return "_" + wiki.Escape(Attribution(m.Sender)) + "_\n" + wiki.FromTelegram(messageText(m), messageEntities(m))
}

// onEdit follows edits: a post that became an issue updates it, a reply
// that became a comment updates the comment.
func (b *Bot) onEdit(ctx context.Context, m *tele.Message) error {
	link, err := b.store.MessageLink(m.Chat.ID, m.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if link.Comment != "" {
		return b.jira.UpdateComment(ctx, link.Issue, link.Comment, b.commentBody(m))
	}
	root, err := b.store.Root(link.Issue)
	if err != nil || !root.FromTelegram || root.ChatID != m.Chat.ID || root.MessageID != m.ID {
		return nil // an answer or a forward was edited, not the post
	}
	text := messageText(m)
	return b.jira.UpdateIssue(ctx, link.Issue, Summary(text), wiki.FromTelegram(text, messageEntities(m))+b.footer(m))
}

func (b *Bot) replyOptions(to storage.MessageRef) *tele.SendOptions {
	return &tele.SendOptions{
		ParseMode:             tele.ModeHTML,
		ReplyTo:               &tele.Message{ID: to.MessageID},
		AllowWithoutReply:     true,
		ThreadID:              to.ThreadID,
		DisableWebPagePreview: true,
	}
}

func refOf(m *tele.Message) storage.MessageRef {
	ref := storage.MessageRef{ChatID: m.Chat.ID, MessageID: m.ID}
	// message_thread_id is a forum topic only when is_topic_message is set;
	// in other chats it names a reply thread and must not be sent back.
	if m.TopicMessage {
		ref.ThreadID = m.ThreadID
	}
	return ref
}

func originOf(ref storage.MessageRef) string {
	return strconv.FormatInt(ref.ChatID, 10) + "/" + strconv.Itoa(ref.MessageID)
}

func messageText(m *tele.Message) string {
	if m.Text != "" {
		return m.Text
	}
	return m.Caption
}

func messageEntities(m *tele.Message) []tele.MessageEntity {
	if m.Text != "" {
		return m.Entities
	}
	return m.CaptionEntities
}
