package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/storage"
)

// A batch of queued Jira events (one event, or the burst of one project the
// worker collected over COALESCE_WINDOW) becomes one note per issue: the
// lines of a single message, plus edits of messages posted earlier. Real
// Jira reports a comment twice (comment_created and an issue_updated of
// type issue_commented) and a Cloud attachment twice (attachment_created
// and an "Attachment" changelog item): each is shown once, by its id, both
// within a batch and, through the store, across batches.

// jiraEvent is one queued event, parsed, with its issue key resolved.
type jiraEvent struct {
	id    uint64
	ev    *jira.Event
	key   string
	extra eventExtras
}

// eventExtras are payload fields jira.Event does not carry.
type eventExtras struct {
	Issue struct {
		Fields struct {
			Description jira.Text `json:"description"`
		} `json:"fields"`
	} `json:"issue"`
}

// note is what one issue's events of a batch say.
type note struct {
	key, project, issueType, summary string
	items                            []uint64
	entries                          []*entry
	edits                            []commentEdit
	actors                           []string // who changed fields
	// secured: an event showed a security level; securityKnown: an event
	// said whether there is one (DESIGN §4: such issues never reach chats).
	secured, securityKnown bool
	events                 []jiraEvent // what subscriptions are matched against
}

// entry is one part of a note's message.
type entry struct {
	html  string
	brief string // the entry in a digest
	// shown names what the entry shows (a comment id, "attachment:<id>"),
	// recorded once the message is sent so that Jira's second report of
	// the same thing is not shown again.
	shown   []string
	comment string // the comment id when the entry is a comment
	dropped bool
	item    uint64 // the queued event the entry comes from
}

// commentEdit changes the message of a comment posted earlier.
type commentEdit struct {
	id, text string
	item     uint64 // the queued event that made the edit
}

func (n *note) lines() []string { return n.linesOf(nil) }

// linesOf are the lines of the events in items (nil: all events).
func (n *note) linesOf(items map[uint64]bool) []string {
	var out []string
	for _, e := range n.entries {
		if !e.dropped && (items == nil || items[e.item]) {
			out = append(out, e.html)
		}
	}
	if len(out) > 0 && len(n.actors) == 1 {
		out = append(out, byLine(n.actors[0]))
	}
	return out
}

func (n *note) briefs() []string { return n.briefsOf(nil) }

// briefsOf are the digest notes of the events in items (nil: all).
func (n *note) briefsOf(items map[uint64]bool) []string {
	var out []string
	for _, e := range n.entries {
		if !e.dropped && e.brief != "" && (items == nil || items[e.item]) {
			out = append(out, e.brief)
		}
	}
	return out
}

func (n *note) shows(id string) bool { return n.entryShowing(id) != nil }

func (n *note) entryShowing(id string) *entry {
	for _, e := range n.entries {
		if !e.dropped && contains(e.shown, id) {
			return e
		}
	}
	return nil
}

func (n *note) commentEntry(id string) *entry {
	for _, e := range n.entries {
		if !e.dropped && e.comment == id {
			return e
		}
	}
	return nil
}

// notes parses a batch and builds its notes, in the order the issues first
// appear. Events that cannot be placed (no issue, unknown id) are skipped.
func (b *Bot) notes(ctx context.Context, batch []storage.Item) ([]*note, error) {
	var events []jiraEvent
	for _, it := range batch {
		ev, err := jira.ParseEvent(it.Payload)
		if err != nil {
			b.log.WithError(err).WithField("item", it.ID).Warn("jira event unreadable, skipped")
			continue
		}
		key, err := b.issueKey(ctx, ev)
		if err != nil {
			return nil, err
		}
		je := jiraEvent{id: it.ID, ev: ev, key: key}
		_ = json.Unmarshal(it.Payload, &je.extra) // extras are optional
		events = append(events, je)
	}
	names := newNameBook(ctx, b, events)
	var notes []*note
	byKey := make(map[string]*note)
	for _, je := range events {
		if je.key == "" {
			continue
		}
		n := byKey[je.key]
		if n == nil {
			n = &note{key: je.key, project: projectOf(je.ev, je.key)}
			byKey[je.key] = n
			notes = append(notes, n)
		}
		n.items, n.events = append(n.items, je.id), append(n.events, je)
		entries, edits := len(n.entries), len(n.edits)
		if err := b.addEvent(ctx, n, je, names); err != nil {
			return nil, err
		}
		for _, e := range n.entries[entries:] {
			e.item = je.id
		}
		for i := edits; i < len(n.edits); i++ {
			n.edits[i].item = je.id
		}
	}
	for _, n := range notes {
		if err := b.screen(ctx, n); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

// addEvent adds what one event says to its issue's note.
func (b *Bot) addEvent(ctx context.Context, n *note, je jiraEvent, names *nameBook) error {
	ev := je.ev
	if ev.Comment.Restricted() {
		return nil // limited to a role or group, or an internal note: never shown, nor its edits
	}
	if internal, err := b.unmarkedInternalNote(ctx, n, ev); internal || err != nil {
		return err
	}
	n.secured = n.secured || ev.Restricted()
	n.securityKnown = n.securityKnown || !ev.SecurityUnknown()
	if ev.Issue != nil {
		if ev.Issue.Fields.Summary != "" {
			n.summary = string(ev.Issue.Fields.Summary)
		}
		if t := ev.Issue.Fields.IssueType; t != nil && t.Name != "" {
			n.issueType = string(t.Name)
		}
	}
	actor := ev.User.Display()
	switch ev.WebhookEvent {
	case jira.EventIssueCreated:
		root, err := b.store.Root(n.key)
		if err == nil && root.FromTelegram {
			return nil // jtbot created it from a post: no echo
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if ev.Issue == nil {
			return nil
		}
		lines := createdLines(ev.Issue.Fields, actor, string(je.extra.Issue.Fields.Description), names.mention)
		n.entries = append(n.entries, &entry{html: strings.Join(lines, "\n"), brief: "🆕 created"})
	case jira.EventIssueUpdated:
		if kind, ok := commentKinds[ev.IssueEventType]; ok {
			if ev.Comment == nil {
				return nil // the comment event itself carries it
			}
			return b.addComment(ctx, n, ev, kind, names)
		}
		return b.addChanges(ctx, n, ev, actor)
	case jira.EventCommentCreated, jira.EventCommentUpdated, jira.EventCommentDeleted:
		return b.addComment(ctx, n, ev, ev.WebhookEvent, names)
	case jira.EventIssueDeleted:
		n.entries = append(n.entries, &entry{html: deletedLine(actor), brief: "🗑 deleted"})
	case jira.EventAttachmentCreated:
		return b.addAttachment(n, ev.Attachment)
	}
	return nil
}

// commentKinds maps the issue_updated twins of comment events to them.
var commentKinds = map[string]string{
	"issue_commented":       jira.EventCommentCreated,
	"issue_comment_edited":  jira.EventCommentUpdated,
	"issue_comment_deleted": jira.EventCommentDeleted,
}

func (b *Bot) addChanges(ctx context.Context, n *note, ev *jira.Event, actor string) error {
	if ev.Changelog == nil {
		return nil
	}
	var items []jira.ChangeItem
	for _, it := range ev.Changelog.Items {
		field := strings.ToLower(string(it.Field))
		if (field == "summary" || field == "description") && b.ownEdit(n.key, field, string(it.ToString)) {
			continue // jtbot's own edit, following a Telegram edit
		}
		if field == "attachment" {
			shown, err := b.attachmentShown(n, it)
			if err != nil {
				return err
			}
			if shown {
				continue
			}
			n.entries = append(n.entries, &entry{
				html:  changeLine(it, b.attachmentURL),
				brief: "📎 " + strings.Join(attachmentNames(it), ", "),
				shown: attachmentIDs(it),
			})
			continue
		}
		items = append(items, it)
	}
	lines := changeLines(items, b.attachmentURL)
	if len(lines) == 0 {
		return nil
	}
	for _, l := range lines {
		n.entries = append(n.entries, &entry{html: l, brief: l})
	}
	if actor != "" && !contains(n.actors, actor) {
		n.actors = append(n.actors, actor)
	}
	return nil
}

func (b *Bot) addAttachment(n *note, a *jira.Attachment) error {
	if a == nil {
		return nil
	}
	// Shown under both names: a changelog item may name the file either way.
	ids := []string{"attachment:" + string(a.ID), "attachment-name:" + string(a.Filename)}
	if e := n.entryShowing(ids[0]); e != nil {
		// The changelog item came first: this event knows the size.
		e.html, e.shown = attachmentLine(a), ids
		return nil
	}
	if _, err := b.store.Comment(n.key, ids[0]); err == nil {
		return nil // the changelog item showed it
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	n.entries = append(n.entries, &entry{html: attachmentLine(a), brief: "📎 " + fileLink("", string(a.Filename), -1), shown: ids})
	return nil
}

// attachmentShown reports whether an "Attachment" changelog item only
// repeats attachment_created (in this batch or an earlier one). Items that
// only remove files are never repeats.
func (b *Bot) attachmentShown(n *note, it jira.ChangeItem) (bool, error) {
	ids := attachmentIDs(it)
	if len(ids) == 0 {
		return false, nil
	}
	for _, id := range ids {
		if n.shows(id) {
			continue
		}
		if _, err := b.store.Comment(n.key, id); errors.Is(err, storage.ErrNotFound) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	return true, nil
}

// attachmentIDs names the files an "Attachment" item adds: by id when
// Jira gives one, else by name.
func attachmentIDs(it jira.ChangeItem) []string {
	added, _ := attachmentDiff(it)
	if len(added) == 1 && it.To != "" {
		return []string{"attachment:" + string(it.To)}
	}
	ids := make([]string, 0, len(added))
	for _, name := range added {
		ids = append(ids, "attachment-name:"+name)
	}
	return ids
}

func attachmentNames(it jira.ChangeItem) []string {
	added, removed := attachmentDiff(it)
	names := append([]string(nil), added...)
	for _, r := range removed {
		names = append(names, "removed "+r)
	}
	for i, name := range names {
		names[i] = fileLink("", name, -1)
	}
	return names
}

// attachmentURL is where Jira serves an attachment.
func (b *Bot) attachmentURL(id, name string) string {
	if id == "" {
		return "" // without its id, the file has no address
	}
	return strings.TrimRight(b.jira.Server(), "/") + "/secure/attachment/" + url.PathEscape(id) + "/" + url.PathEscape(name)
}

// addComment shows a new comment, or changes one: within the batch its
// entry, otherwise the message posted for it earlier.
func (b *Bot) addComment(ctx context.Context, n *note, ev *jira.Event, kind string, names *nameBook) error {
	c := ev.Comment
	if c == nil || c.ID == "" {
		return nil
	}
	id := string(c.ID)
	author := c.Author.Display()
	if kind == jira.EventCommentCreated {
		if n.commentEntry(id) != nil {
			return nil // Jira's second report of it
		}
		if _, err := b.store.Comment(n.key, id); err == nil {
			return nil // written by jtbot from a reply, or already posted
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		n.entries = append(n.entries, &entry{
			html:    commentText(author, string(c.Body), false, names.mention),
			brief:   "💬 comment by " + markup.EscapeHTML(author),
			shown:   []string{id},
			comment: id,
		})
		return nil
	}
	if e := n.commentEntry(id); e != nil {
		// Created in this same batch: show its last state only.
		if kind == jira.EventCommentDeleted {
			e.dropped = true
		} else {
			e.html = commentText(author, string(c.Body), false, names.mention)
		}
		return nil
	}
	text := commentText(author, string(c.Body), true, names.mention)
	if kind == jira.EventCommentDeleted {
		text = commentDeletedText(author)
	}
	for i := range n.edits {
		if n.edits[i].id == id {
			n.edits[i].text = text
			return nil
		}
	}
	n.edits = append(n.edits, commentEdit{id: id, text: text})
	return nil
}

// screen empties the note of an issue under a security level, asking
// Jira when no event could say (Data Center comment events carry no
// issue, Cloud's carry a brief one), and reads the summary that no event
// gave. Until Jira answers, nothing of the issue is shown: the batch is
// retried.
func (b *Bot) screen(ctx context.Context, n *note) error {
	if len(n.entries) == 0 && len(n.edits) == 0 {
		return nil
	}
	if !n.secured && n.securityKnown && n.summary != "" {
		return nil
	}
	if !n.secured {
		card, err := b.jira.GetIssue(ctx, n.key)
		switch {
		case jira.IsNotFound(err):
			n.secured = true // gone, or hidden from jtbot's own account: say nothing
		case err != nil:
			return err
		default:
			n.secured = card.Security != ""
			n.summary, n.issueType = cmp.Or(n.summary, card.Summary), cmp.Or(n.issueType, card.Type)
		}
	}
	if n.secured {
		b.log.WithField("issue", n.key).Debug("issue with a security level: nothing posted")
		n.entries, n.edits = nil, nil
	}
	return nil
}

// unmarkedInternalNote reports whether a comment that carries no
// "jsdPublic" mark is a Service Management internal note all the same:
// Data Center keeps the mark in the comment's sd.public.comment property,
// which webhooks leave out. Only comments of Service Management projects
// are asked about (one request each); until Jira answers, the batch waits.
func (b *Bot) unmarkedInternalNote(ctx context.Context, n *note, ev *jira.Event) (bool, error) {
	c := ev.Comment
	if c == nil || c.JSDPublic != nil || c.ID == "" || deletion(ev) {
		return false, nil // a deletion changes only a message shown before, of a public comment
	}
	desk, err := b.serviceDesk(ctx, n.project)
	if err != nil || !desk {
		return false, err
	}
	return b.jira.InternalNote(ctx, n.key, string(c.ID))
}

// serviceDesk reports whether a project is a Service Management project,
// asked of Jira once per askTTL.
func (b *Bot) serviceDesk(ctx context.Context, project string) (bool, error) {
	if project == "" {
		return false, nil
	}
	if v, ok := b.desks.get(project, b.now()); ok {
		return v, nil
	}
	p, err := b.jira.GetProject(ctx, project)
	if jira.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	desk := p.Type == "service_desk"
	b.desks.put(project, desk, b.now())
	return desk, nil
}

func deletion(ev *jira.Event) bool {
	return ev.WebhookEvent == jira.EventCommentDeleted || ev.IssueEventType == "issue_comment_deleted"
}
