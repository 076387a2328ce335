package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// handleUpdates handles a batch of updates: one update, or the updates of
// one album.
func (b *Bot) handleUpdates(ctx context.Context, batch []storage.Item) error {
	if len(batch) > 1 || strings.HasPrefix(batch[0].Group, telegram.AlbumPrefix) {
		return b.onAlbum(ctx, batch)
	}
	return b.handleUpdate(ctx, batch[0].Payload)
}

// handleUpdate turns one queued Telegram update into Jira actions.
func (b *Bot) handleUpdate(ctx context.Context, payload []byte) error {
	var u tele.Update
	if err := json.Unmarshal(payload, &u); err != nil {
		return permanent(fmt.Errorf("bot: malformed update: %w", err))
	}
	switch {
	case u.ChannelPost != nil:
		return b.onPost(ctx, u.ChannelPost, nil)
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

// onPost makes a channel post (with the rest of its album, if any) an issue.
func (b *Bot) onPost(ctx context.Context, m *tele.Message, album []*tele.Message) error {
	project, ok, err := b.project(m.Chat.ID)
	if err != nil {
		return err
	}
	if !ok {
		b.log.WithField("chat", m.Chat.ID).Debug("post in an unmapped chat ignored")
		return nil
	}
	if album == nil {
		album = []*tele.Message{m}
	}
	d := draftOf(m, album)
	if d.text == "" && len(d.files) == 0 {
		return nil
	}
	return b.publish(ctx, d, project, m, b.createFailed)
}

func (b *Bot) onMessage(ctx context.Context, m *tele.Message) error {
	if m.AutomaticForward {
		return b.onAutomaticForward(m)
	}
	if cmd, args, ok := parseCommand(m, b.Username()); ok {
		return b.onCommand(ctx, m, cmd, args)
	}
	linked, err := b.repliesToLinked(m)
	if err != nil {
		return err
	}
	if linked {
		return b.onReply(ctx, m, []*tele.Message{m})
	}
	if m.Chat.Type == tele.ChatPrivate || strings.HasPrefix(m.Text, "/") {
		return nil // a command for another bot is not a mention
	}
	return b.onMentions(ctx, m)
}

// repliedTo is the message m answers. In a forum topic every message
// replies to the topic's creation unless the user picked another one;
// that is not a reply.
func repliedTo(m *tele.Message) *tele.Message {
	r := m.ReplyTo
	if r == nil || r.TopicCreated != nil || (m.TopicMessage && r.ID == m.ThreadID) {
		return nil
	}
	return r
}

// repliesToLinked says whether m replies to a message linked to an issue.
func (b *Bot) repliesToLinked(m *tele.Message) (bool, error) {
	r := repliedTo(m)
	if r == nil {
		return false, nil
	}
	_, err := b.store.MessageLink(m.Chat.ID, r.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// draft is what an issue is made of.
type draft struct {
	// source is the message the issue stands for: its text, author and
	// t.me link, and the key that keeps it from becoming two issues.
	source   *tele.Message
	text     string
	entities []tele.MessageEntity
	summary  string // the first line of text when empty
	hashtags []string
	files    []media
	// linked are more messages that lead to the issue: the rest of an
	// album, the /new command that filed someone's message.
	linked  []*tele.Message
	filedBy *tele.User
}

// draftOf drafts an issue from a message and the album it leads.
func draftOf(m *tele.Message, album []*tele.Message) draft {
	d := draft{source: m, text: messageText(m), entities: messageEntities(m), files: mediaOfAll(album)}
	d.hashtags = hashtags(d.text, d.entities)
	for _, o := range album {
		if o != m {
			d.linked = append(d.linked, o)
		}
	}
	return d
}

// publish makes the draft an issue once, answers under answerTo with its
// key, and attaches the files. A retry finds the issue already there and
// goes on with what is still missing.
func (b *Bot) publish(ctx context.Context, d draft, project string, answerTo *tele.Message, failed func(context.Context, *tele.Message, string, error) error) error {
	key, _, err := b.createIssue(ctx, &d, project)
	if err != nil {
		return failed(ctx, answerTo, project, err)
	}
	for _, o := range d.linked {
		if err := b.store.LinkMessage(o.Chat.ID, o.ID, storage.Link{Issue: key}); err != nil {
			return err
		}
	}
	if err := b.answerIssue(ctx, answerTo, key); err != nil {
		return err
	}
	left, err := b.attachFiles(ctx, key, d.files, d.source)
	if err != nil {
		return err
	}
	return b.noteSkipped(ctx, key, d.source, left)
}

// createIssue makes the draft an issue exactly once: the intent is recorded
// before Jira is asked, so a retry after a crash between Jira's answer and
// the saved link finds the issue instead of creating a second one. fresh
// says the link is new (no answer was sent for it yet).
func (b *Bot) createIssue(ctx context.Context, d *draft, project string) (key string, fresh bool, err error) {
	post := refOf(d.source)
	// Built even when the issue exists: a text too long for Jira adds its
	// file to the draft, and a retry must still attach it.
	issue := b.newIssue(d, project, originOf(post))
	if link, err := b.store.MessageLink(post.ChatID, post.MessageID); err == nil {
		b.log.WithField("issue", link.Issue).Debug("message already has an issue")
		return link.Issue, false, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return "", false, err
	}
	created, found, err := b.findEarlier(ctx, post, project, issue.Origin)
	if err != nil {
		return "", false, err
	}
	if !found {
		if err := b.store.RecordIntent(post, b.now()); err != nil {
			return "", false, err
		}
		if created, err = b.jc(ctx).CreateIssue(ctx, issue); err != nil {
			if !maybeCreated(err) {
				if cerr := b.store.ClearIntent(post); cerr != nil {
					b.log.WithError(cerr).Warn("cannot clear a creation intent")
				}
			}
			return "", false, err
		}
	}
	if err := b.store.RecordIssue(post, created.Key, created.ID, true); err != nil {
		return "", false, err
	}
	b.log.WithFields(map[string]any{"issue": created.Key, "chat": post.ChatID}).Info("issue created from Telegram")
	return created.Key, true, nil
}

// findEarlier finds the issue an earlier attempt for post may have created
// (it crashed, or Jira's answer was lost). Jira Cloud's search is
// eventually consistent: while it may not yet see an issue created at the
// intent's time, the answer is a temporary error (jira.ErrSearchUnsettled)
// that keeps the post queued, never "not created".
func (b *Bot) findEarlier(ctx context.Context, post storage.MessageRef, project, origin string) (jira.Created, bool, error) {
	at, pending, err := b.store.Intent(post)
	if err != nil || !pending {
		return jira.Created{}, false, err
	}
	return b.jc(ctx).FindByOriginSince(ctx, project, origin, at, nil)
}

// maybeCreated says whether a failed create may still have made the issue:
// no answer, or a server error. A refusal (4xx) made nothing.
func maybeCreated(err error) bool {
	var je *jira.Error
	return !errors.As(err, &je) || je.Status == 0 || je.Status >= 500
}

// createFailed decides what a refused creation means: a missing project or
// refused account is a setting to fix (retry, loudly); a refused field is
// told to the chat and the post dead-lettered.
func (b *Bot) createFailed(ctx context.Context, m *tele.Message, project string, err error) error {
	var je *jira.Error
	if !errors.As(err, &je) || je.Temporary() {
		return err
	}
	if projectRefused(je) {
		b.log.WithError(err).WithFields(map[string]any{"project": project, "chat": m.Chat.ID}).
			Error("Jira refuses the project this chat is mapped to: check CHAT_PROJECTS (or /link) and jtbot's Jira permissions; the post will be retried")
		return transientError{fmt.Errorf("project %s: %w", project, err)}
	}
	reason := je.Message
	if reason == "" {
		reason = fmt.Sprintf("status %d", je.Status)
	}
	text := "⚠️ Jira refused to create an issue: " + markup.EscapeHTML(reason)
	if _, serr := b.replyWith(ctx, m, text, nil); serr != nil {
		b.log.WithError(serr).Warn("cannot tell the chat about a refused issue")
	}
	return permanent(err)
}

// projectRefused tells a setting to fix from a refused field: a missing
// project or account, which Jira reports as 401/403/404, or as a 400 about
// the project ("project: valid project is required" when creating, "The
// value 'X' does not exist for the field 'project'." when searching).
func projectRefused(je *jira.Error) bool {
	switch je.Status {
	case 401, 403, 404:
		return true
	case 400:
		return strings.HasPrefix(je.Message, "project: ") || strings.Contains(je.Message, "; project: ") ||
			strings.Contains(je.Message, "field 'project'")
	}
	return false
}

// answerIssue replies under m with the new key, once, and links the answer
// so that replies to it become comments too. A Telegram outage (429, 5xx,
// no answer) is returned so the item is retried and the answer still comes;
// a chat that refuses the bot for good is only logged: the issue exists.
func (b *Bot) answerIssue(ctx context.Context, m *tele.Message, key string) error {
	answered := "answered:" + originOf(refOf(m))
	if b.store.Seen(answered) {
		return nil
	}
	sent, err := b.replyWith(ctx, m, "📝 "+b.keyLink(key), nil)
	if err != nil {
		if e, ok := telegram.AsError(err); !ok || e.Temporary() {
			return err
		}
		b.log.WithError(err).WithField("issue", key).Warn("cannot answer with the new issue's key")
		return nil
	}
	if _, err := b.store.Remember(answered, answeredTTL); err != nil {
		return err
	}
	return b.store.LinkMessage(sent.Chat.ID, sent.ID, storage.Link{Issue: key})
}

// answeredTTL is how long a post's answer is remembered: far longer than
// any retry of the post.
const answeredTTL = 30 * 24 * time.Hour

// newIssue builds the issue. A description beyond Jira's limit is cut, and
// the whole text joins the draft's files.
func (b *Bot) newIssue(d *draft, project, origin string) jira.NewIssue {
	typ := b.cfg.JiraIssueType
	var labels []string
	for _, tag := range d.hashtags {
		labels = append(labels, tag)
		if t, ok := b.cfg.HashtagTypes[strings.ToLower(tag)]; ok {
			typ = t
		}
	}
	description, whole := b.describe(d.text, d.entities, footer(d.source, d.filedBy))
	if whole != nil {
		d.files = append(d.files, *whole)
	}
	return jira.NewIssue{
		Project:     project,
		Type:        typ,
		Summary:     d.summaryOrTitle(),
		Description: description,
		Labels:      labels,
		Origin:      origin,
	}
}

// summaryOrTitle is the draft's summary, or else the first line of its
// text, or else the name of its first file.
func (d *draft) summaryOrTitle() string {
	switch {
	case d.summary != "":
		return Summary(d.summary)
	case strings.TrimSpace(d.text) == "" && len(d.files) > 0:
		return Summary(d.files[0].title)
	}
	return Summary(d.text)
}

// describe converts text to wiki markup and adds the tail, within Jira's
// limit; when the text had to be cut, whole is the full text as a file.
func (b *Bot) describe(text string, entities []tele.MessageEntity, tail string) (string, *media) {
	const name = "message.txt"
	out, cut := fitField(markup.FromTelegram(text, entities), tail, name)
	if !cut {
		return out, nil
	}
	return out, &media{name: name, title: name, text: []byte(text)}
}

// footer names who posted where, with a link back to the message.
func footer(m *tele.Message, filedBy *tele.User) string {
	who := m.Signature
	if who == "" && m.Sender != nil {
		who = strings.TrimSuffix(Attribution(m.Sender), " via Telegram")
	}
	// A channel post without a signature is by the channel itself: saying
	// "by Ops news in Ops news" would only repeat it.
	if who == "" && m.SenderChat != nil && m.SenderChat.ID != m.Chat.ID {
		who = m.SenderChat.Title
	}
	parts := []string{"\n\n----\n_Posted"}
	if who != "" {
		parts = append(parts, " by "+markup.Escape(who))
	}
	if m.Chat.Title != "" {
		parts = append(parts, " in "+markup.Escape(m.Chat.Title))
	}
	parts = append(parts, " via Telegram")
	if filedBy != nil && (m.Sender == nil || filedBy.ID != m.Sender.ID) {
		parts = append(parts, ", filed by "+markup.Escape(strings.TrimSuffix(Attribution(filedBy), " via Telegram")))
	}
	parts = append(parts, "_")
	if link := MessageURL(m.Chat, m.ID); link != "" {
		parts = append(parts, " — ["+link+"]")
	}
	return strings.Join(parts, "")
}

// onAutomaticForward links the copy of a channel post that Telegram puts in
// the channel's discussion group. The copy of the issue's own post becomes
// the issue's root, so that notifications land in the comments thread.
func (b *Bot) onAutomaticForward(m *tele.Message) error {
	chatID, msgID := forwardOrigin(m)
	if chatID == 0 {
		return nil
	}
	link, err := b.store.MessageLink(chatID, msgID)
	if errors.Is(err, storage.ErrNotFound) {
		_, isFile := mediaOf(m)
		if _, mapped, _ := b.project(chatID); mapped && (messageText(m) != "" || isFile) {
			// The post's issue is still being created: wait for it.
			return transientError{errors.New("automatic forward arrived before its post's issue")}
		}
		return nil
	}
	if err != nil {
		return err
	}
	root, err := b.store.Root(link.Issue)
	if err == nil && root.ChatID == chatID && root.MessageID == msgID {
		return b.store.SetRoot(link.Issue, refOf(m), true)
	}
	// Another photo of the post's album: replies to it still reach the issue.
	return b.store.LinkMessage(m.Chat.ID, m.ID, storage.Link{Issue: link.Issue})
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

// onReply makes a reply to any linked message a Jira comment, with the
// reply's files (all of its album) attached to the issue.
func (b *Bot) onReply(ctx context.Context, m *tele.Message, album []*tele.Message) error {
	link, act, linked, err := b.linkAndActor(m, repliedTo(m).ID)
	if !linked || err != nil {
		return err
	}
	if !act.connected() && !b.allowed(m.Sender) {
		b.log.WithField("chat", m.Chat.ID).Debug("reply from a user outside ALLOWED_USERS: no comment")
		return nil
	}
	if ok, err := b.linkInScope(ctx, m, link.Issue); !ok {
		return err
	}
	files := mediaOfAll(album)
	if messageText(m) == "" && len(files) == 0 {
		return nil
	}
	id, err := b.comment(withActor(ctx, act), m, album, link.Issue)
	if jira.IsUnauthorized(err) && act.personal() {
		// Their grant is gone: no comment is lost, the bot's account
		// writes it with attribution (DESIGN §8).
		b.expire(ctx, act.account.TelegramID)
		id, err = b.comment(ctx, m, album, link.Issue)
	}
	if err != nil {
		return b.issueGone(link.Issue, err)
	}
	b.log.WithField("issue", link.Issue).Info("comment added from a reply")
	for _, o := range album {
		if o != m {
			if err := b.store.LinkMessage(o.Chat.ID, o.ID, storage.Link{Issue: link.Issue}); err != nil {
				return err
			}
		}
	}
	return b.store.LinkComment(link.Issue, id, refOf(m), true)
}

// comment writes a reply and its files to the issue, as the context's
// actor.
func (b *Bot) comment(ctx context.Context, m *tele.Message, album []*tele.Message, key string) (string, error) {
	files := mediaOfAll(album)
	body, whole := b.commentBody(ctx, m, files, nil)
	if whole != nil {
		files = append(files, *whole)
	}
	left, err := b.attachFiles(ctx, key, files, m)
	if err != nil {
		return "", err
	}
	if len(left) > 0 {
		body, _ = b.commentBody(ctx, m, mediaOfAll(album), left)
	}
	return b.jc(ctx).AddComment(ctx, key, body)
}

// issueGone turns a 404 for a linked issue into a dead letter: the issue
// was deleted in Jira and no retry brings it back.
func (b *Bot) issueGone(key string, err error) error {
	if jira.IsNotFound(err) {
		return permanent(fmt.Errorf("issue %s is gone: %w", key, err))
	}
	return err
}

// commentBody is a reply as a Jira comment: who wrote it, the text, and its
// files, each as a link to its attachment or with why it is missing. Too
// long a text is cut; whole is then the full text as a file.
func (b *Bot) commentBody(ctx context.Context, m *tele.Message, files []media, left []skipped) (body string, whole *media) {
	var tail strings.Builder
	for _, f := range files {
		if i := slices.IndexFunc(left, func(s skipped) bool { return s.name == f.name }); i >= 0 {
			tail.WriteString("\n" + left[i].line())
		} else if tooBig(f) {
			tail.WriteString("\n" + skipped{f, tooBigReason}.line())
		} else {
			tail.WriteString("\n[^" + f.name + "]")
		}
	}
	head := attributionLine(ctx, m.Sender)
	name := "reply-" + strconv.Itoa(m.ID) + ".txt"
	text, cut := fitField(head+markup.FromTelegram(messageText(m), messageEntities(m)), tail.String(), name)
	if cut {
		whole = &media{name: name, title: name, text: []byte(messageText(m))}
	}
	return text, whole
}

// linkAndActor reads what message id of m's chat is linked to, and whom
// m's sender acts as in Jira; linked is false for a message of no issue.
func (b *Bot) linkAndActor(m *tele.Message, id int) (link storage.Link, act actor, linked bool, err error) {
	link, err = b.store.MessageLink(m.Chat.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return link, act, false, nil
	}
	if err != nil {
		return link, act, false, err
	}
	act, err = b.actorFor(m.Sender)
	return link, act, err == nil, err
}

// onEdit follows edits: a post that became an issue updates it, a reply
// that became a comment updates the comment.
func (b *Bot) onEdit(ctx context.Context, m *tele.Message) error {
	link, act, linked, err := b.linkAndActor(m, m.ID)
	if !linked || err != nil {
		return err
	}
	ctx = withActor(ctx, act)
	if !act.personal() && !b.mayEdit(m) {
		b.log.WithField("chat", m.Chat.ID).Debug("edit by a user who may not act now: Jira unchanged")
		return nil
	}
	if ok, err := b.linkInScope(ctx, m, link.Issue); !ok {
		return err
	}
	files := mediaOfAll([]*tele.Message{m})
	if link.Comment != "" {
		body, whole := b.commentBody(ctx, m, files, nil)
		if whole != nil {
			files = append(files, *whole)
		}
		if _, err := b.attachFiles(ctx, link.Issue, files, m); err != nil {
			return b.issueGone(link.Issue, err)
		}
		return b.issueGone(link.Issue, b.jc(ctx).UpdateComment(ctx, link.Issue, link.Comment, body))
	}
	root, err := b.store.Root(link.Issue)
	if err != nil || !root.FromTelegram || root.ChatID != m.Chat.ID || root.MessageID != m.ID {
		return nil // an answer, a forward or another photo of an album was edited, not the post
	}
	d := draftOf(m, []*tele.Message{m})
	if cmd, args, ok := parseCommand(m, b.Username()); ok && cmd == "new" {
		d = commandDraft(m, withoutProject(args, keyProject(link.Issue)))
	}
	description, whole := b.describe(d.text, d.entities, footer(m, nil))
	if whole != nil {
		d.files = append(d.files, *whole)
	}
	summary := d.summaryOrTitle()
	for field, value := range map[string]string{"summary": summary, "description": description} {
		if err := b.rememberOwnEdit(link.Issue, field, value); err != nil {
			return err
		}
	}
	if err := b.jc(ctx).UpdateIssue(ctx, link.Issue, summary, description); err != nil {
		return b.issueGone(link.Issue, err)
	}
	// A replaced photo or file (editMessageMedia) is attached as well.
	left, err := b.attachFiles(ctx, link.Issue, d.files, m)
	if err != nil {
		return b.issueGone(link.Issue, err)
	}
	return b.noteSkipped(ctx, link.Issue, m, left)
}

// mayEdit reports whether an edit may change Jira: a channel's own post,
// or a message of someone who may act with the bot's account now (DESIGN
// §4) — not merely whoever wrote the message that became an issue.
func (b *Bot) mayEdit(m *tele.Message) bool {
	if m.Chat.Type == tele.ChatChannel {
		return true // only the channel's admins can post or edit there
	}
	return b.allowed(m.Sender)
}

// linkInScope checks that a linked issue is still one of the chat's
// projects (a chat unlinked or moved to another project keeps its links).
func (b *Bot) linkInScope(ctx context.Context, m *tele.Message, key string) (bool, error) {
	sc, err := b.scopeOf(ctx, m.Chat, m.Sender)
	if err != nil {
		return false, err
	}
	if !sc.allows(key) {
		b.log.WithFields(map[string]any{"chat": m.Chat.ID, "issue": key}).Debug("linked issue outside the chat's projects: ignored")
		return false, nil
	}
	return true, nil
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
