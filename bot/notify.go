package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// digestMin is how many issues of one batch going to one chat turn into a
// digest: a bulk edit in Jira becomes one message, not hundreds.
const digestMin = 5

// names caches display names of Jira users. Its zero value is ready.
type names struct {
	mu    sync.Mutex
	known map[string]string // Jira accountId, name or key → display name ("" = unknown)
}

// maxNames bounds the name cache; it starts over when full.
const maxNames = 1000

func (o *names) name(id string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, ok := o.known[id]
	return n, ok
}

func (o *names) learn(id, name string) {
	if id == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.known == nil || len(o.known) >= maxNames {
		o.known = make(map[string]string)
	}
	o.known[id] = name
}

// handleJiraEvents turns a batch of Jira events into Telegram messages: one
// message per issue under its root (or a digest when many issues go to one
// chat), edits of comment messages, and a DM to each watcher. When a send
// must wait for Telegram's limits, the issues already delivered are
// reported done and the rest wait in the queue, in order.
func (b *Bot) handleJiraEvents(ctx context.Context, batch []storage.Item) error {
	notes, err := b.notes(ctx, batch)
	if err != nil {
		return err
	}
	places := make(map[*note]placement, len(notes))
	for _, n := range notes {
		if places[n], err = b.placementOf(n); err != nil {
			return err
		}
	}
	personal := b.personalNotes(ctx, batch)
	if wait := max(b.watcherWait(notes), personal.wait(b.tg)); wait > 0 {
		return limited(wait)
	}
	dms := make(map[int64][]string)
	defer b.sendDMs(ctx, dms)
	var done []uint64
	fail := func(err error) error {
		if len(done) == 0 {
			return err
		}
		return partialError{done: done, err: err}
	}
	finished := func(n *note, text string) {
		done = append(done, n.items...)
		for user, lines := range personal[n.key] {
			dms[user] = append(dms[user], lines...)
		}
		if text == "" {
			return
		}
		if err := b.queueDMs(ctx, dms, n, text); err != nil {
			b.log.WithError(err).WithField("issue", n.key).Warn("cannot read the issue's watchers")
		}
	}
	rooms, err := b.roomsOfAll(ctx, notes, places)
	if err != nil {
		return err
	}
	if err := b.sendRoomDigests(ctx, roomDigests(notes, rooms), rooms); err != nil {
		return err
	}
	digested := make(map[*note]bool)
	for _, d := range digestGroups(notes, places) {
		// Edits first: they are safe to repeat, the digest is not.
		texts := make([]string, len(d.notes))
		for i, n := range d.notes {
			if err := b.deliverRooms(ctx, n, rooms[n]); err != nil {
				return fail(err)
			}
			if texts[i], err = b.deliver(ctx, n, places[n], false); err != nil {
				return fail(err)
			}
		}
		if err := b.sendDigest(ctx, d); err != nil {
			return fail(err)
		}
		for i, n := range d.notes {
			digested[n] = true
			finished(n, texts[i])
		}
	}
	for _, n := range notes {
		if digested[n] {
			continue
		}
		if err := b.deliverRooms(ctx, n, rooms[n]); err != nil {
			return fail(err)
		}
		text, err := b.deliver(ctx, n, places[n], true)
		if err != nil {
			return fail(err)
		}
		finished(n, text)
	}
	return nil
}

// placement is where an issue's messages go.
type placement struct {
	ref     storage.MessageRef
	newRoot bool // no root yet: the message becomes it
	ok      bool
}

// placementOf places an issue: under its root, or, for a mapped project, in
// the project's chat as a new root. Other issues only reach watchers.
func (b *Bot) placementOf(n *note) (placement, error) {
	root, err := b.store.Root(n.key)
	if err == nil {
		return placement{ref: root.MessageRef, ok: true}, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return placement{}, err
	}
	chat, ok, err := b.chatFor(n.project)
	if err != nil || !ok {
		return placement{}, err
	}
	return placement{ref: storage.MessageRef{ChatID: chat}, newRoot: true, ok: true}, nil
}

// digest is the issues of a batch shown in one chat as one message.
type digest struct {
	chat  int64
	notes []*note
}

// digestGroups picks, per chat, the issues to show in one digest: only
// when at least digestMin issues of the batch have news for that chat.
func digestGroups(notes []*note, places map[*note]placement) []digest {
	byChat := make(map[int64][]*note)
	var chats []int64
	for _, n := range notes {
		p := places[n]
		if !p.ok || len(n.lines()) == 0 {
			continue
		}
		if byChat[p.ref.ChatID] == nil {
			chats = append(chats, p.ref.ChatID)
		}
		byChat[p.ref.ChatID] = append(byChat[p.ref.ChatID], n)
	}
	var digests []digest
	for _, chat := range chats {
		if len(byChat[chat]) >= digestMin {
			digests = append(digests, digest{chat: chat, notes: byChat[chat]})
		}
	}
	return digests
}

func (b *Bot) sendDigest(ctx context.Context, d digest) error {
	entries := make([]digestEntry, 0, len(d.notes))
	project := d.notes[0].project
	for _, n := range d.notes {
		entries = append(entries, digestEntry{browseURL: b.jira.BrowseURL(n.key), key: n.key, summary: n.summary, what: n.briefs()})
		if n.project != project {
			project = ""
		}
	}
	link := b.jira.Server()
	if project != "" {
		link = b.jira.BrowseURL(project)
	}
	_, err := b.send(ctx, storage.MessageRef{ChatID: d.chat}, digestMessage(project, entries, link), ifFree)
	return err
}

// deliver applies an issue's note: edits of earlier comment messages, then
// (unless a digest showed it) one message under the issue's root. It
// returns the message text for watchers, "" when there is none. Either all
// of it goes now or, when a chat it touches is busy, none of it: a retry
// must not repeat a sent message.
func (b *Bot) deliver(ctx context.Context, n *note, p placement, post bool) (string, error) {
	browse := b.jira.BrowseURL(n.key)
	header := issueHeader(browse, n.key, n.issueType, n.summary)
	edits, err := b.editTargets(n)
	if err != nil {
		return "", err
	}
	lines := n.lines()
	post = post && p.ok && len(lines) > 0
	var chats []int64
	for _, e := range edits {
		chats = append(chats, e.link.ChatID)
	}
	if post {
		chats = append(chats, p.ref.ChatID)
	}
	if err := b.admit(chats); err != nil {
		return "", err
	}
	for _, e := range edits {
		if err := b.editMessage(ctx, n.key, e.link.MessageRef, composeMessage(header, []string{e.text}, browse)); err != nil {
			return "", err
		}
	}
	if len(lines) == 0 {
		return "", nil
	}
	text := composeMessage(header, lines, browse)
	if !post {
		return text, nil
	}
	sent, err := b.send(ctx, p.ref, text, admitted)
	if err != nil {
		return "", err
	}
	if p.newRoot {
		if err := b.store.SetRoot(n.key, *sent, false); err != nil {
			return "", err
		}
	}
	return text, b.recordShown(n, *sent)
}

// admit reserves one send in each chat, or, when one of them must wait,
// reserves nothing and says how long.
func (b *Bot) admit(chats []int64) error {
	if wait := b.tg.Admit(chats...); wait > 0 {
		return limited(wait)
	}
	return nil
}

// editTarget is a comment's earlier message and its new text.
type editTarget struct {
	link storage.CommentLink
	text string
}

// editTargets finds the messages a note's comment edits change. Comments
// jtbot wrote from Telegram, and comments we never showed, are left alone.
func (b *Bot) editTargets(n *note) ([]editTarget, error) {
	var out []editTarget
	for _, e := range n.edits {
		link, err := b.store.Comment(n.key, e.id)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && link.FromTelegram) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, editTarget{link: link, text: e.text})
	}
	return out, nil
}

// recordShown links the message to the comments and attachments it shows,
// comments last so that a reply to the message names its comment.
func (b *Bot) recordShown(n *note, ref storage.MessageRef) error {
	for _, comments := range []bool{false, true} {
		for _, e := range n.entries {
			if e.dropped || (e.comment != "") != comments {
				continue
			}
			for _, id := range e.shown {
				if err := b.store.LinkComment(n.key, id, ref, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// editMessage rewrites a message we posted; its slot was admitted.
func (b *Bot) editMessage(ctx context.Context, key string, ref storage.MessageRef, text string) error {
	// Jira reports each edit twice: an unchanged message is fine (rewrite).
	err := b.rewrite(ctx, ref, text, nil, admitted)
	if e, ok := telegram.AsError(err); ok && e.MessageGone() {
		b.log.WithField("issue", key).Debug("the comment's message is gone; edit skipped")
		return nil
	}
	return err
}

// dmPatience is how long a batch waits for a watcher's private chat to
// be free; a longer wait drops the DM instead of delaying the group.
const dmPatience = 5 * time.Second

// watcherWait says how long to hold the batch so that every watcher's DM
// can be sent within the limits (0 when it can go now).
func (b *Bot) watcherWait(notes []*note) time.Duration {
	var wait time.Duration
	for _, n := range notes {
		if len(n.lines()) == 0 {
			continue
		}
		watchers, err := b.store.Watchers(n.key)
		if err != nil {
			continue // queueDMs reports it
		}
		for _, w := range watchers {
			wait = max(wait, b.tg.Wait(w))
		}
	}
	if wait > dmPatience {
		return 0
	}
	return wait
}

// queueDMs adds a notification for the issue's watchers who may still
// reach it: a connected watcher whose own Jira account reads the issue; a
// watcher in ALLOWED_USERS still in a chat of its project. Someone removed
// from ALLOWED_USERS, or who left those chats, gets nothing more.
func (b *Bot) queueDMs(ctx context.Context, dms map[int64][]string, n *note, text string) error {
	watchers, err := b.store.Watchers(n.key)
	for _, w := range watchers {
		if a, ok := b.activeAccount(w); ok {
			if b.canRead(ctx, a, n.key) {
				dms[w] = append(dms[w], text)
			}
			continue
		}
		if !b.allowedID(w) {
			continue
		}
		sc, serr := b.dmScope(ctx, &tele.User{ID: w})
		if serr != nil {
			return serr
		}
		if sc.has(n.project) {
			dms[w] = append(dms[w], text)
		}
	}
	return err
}

// sendDMs sends each watcher one message with the batch's notifications.
// DMs are a courtesy: one that fails (the user blocked the bot, or the
// limits are reached) is logged and dropped, never retried.
func (b *Bot) sendDMs(ctx context.Context, dms map[int64][]string) {
	users := make([]int64, 0, len(dms))
	for u := range dms {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i] < users[j] })
	for _, u := range users {
		log := b.log.WithField("user", u)
		text := markup.Truncate(strings.Join(dms[u], "\n\n"), maxMessage)
		if _, err := b.send(ctx, storage.MessageRef{ChatID: u}, text, ifFree); err != nil {
			log.WithError(err).Warn("watcher DM dropped")
		}
	}
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

// nameBook resolves Jira mentions ([~accountid:…], [~name]) to display
// names: from the users the batch's events name, from the cache, or, a few
// times per batch, from Jira's user API.
type nameBook struct {
	ctx     context.Context
	b       *Bot
	lookups int
}

// maxLookups bounds the user API calls one batch makes.
const maxLookups = 5

func newNameBook(ctx context.Context, b *Bot, events []jiraEvent) *nameBook {
	for _, je := range events {
		ev := je.ev
		users := []*jira.User{ev.User}
		if ev.Comment != nil {
			users = append(users, ev.Comment.Author, ev.Comment.UpdateAuthor)
		}
		if ev.Issue != nil {
			users = append(users, ev.Issue.Fields.Assignee, ev.Issue.Fields.Reporter)
		}
		if ev.Attachment != nil {
			users = append(users, ev.Attachment.Author)
		}
		for _, u := range users {
			b.learnUser(u)
		}
	}
	return &nameBook{ctx: ctx, b: b}
}

func (b *Bot) learnUser(u *jira.User) {
	if u == nil || u.DisplayName == "" {
		return
	}
	for _, id := range []jira.Text{u.AccountID, u.Name, u.Key} {
		b.names.learn(string(id), string(u.DisplayName))
	}
}

func (nb *nameBook) mention(id string) string {
	if name, ok := nb.b.names.name(id); ok {
		return name
	}
	if nb.lookups >= maxLookups {
		return ""
	}
	nb.lookups++
	u, err := nb.b.jira.GetUser(nb.ctx, id)
	switch {
	case err == nil:
		nb.b.learnUser(&u)
		nb.b.names.learn(id, u.Display())
		return u.Display()
	case jira.IsNotFound(err):
		nb.b.names.learn(id, "")
	default:
		nb.b.log.WithError(err).Debug("cannot read a mentioned Jira user")
	}
	return ""
}

func projectOf(ev *jira.Event, key string) string {
	if ev.Issue != nil && ev.Issue.Fields.Project != nil && ev.Issue.Fields.Project.Key != "" {
		return string(ev.Issue.Fields.Project.Key)
	}
	p, _, _ := strings.Cut(key, "-")
	return p
}

// chatFor finds the chat where a project's issue born in Jira gets its
// root: with several chats mapped, the lowest chat ID, so the choice is
// stable (the others are its rooms).
func (b *Bot) chatFor(project string) (int64, bool, error) {
	chats, err := b.projectChats(project)
	if err != nil || len(chats) == 0 {
		return 0, false, err
	}
	return chats[0], true, nil
}

// send posts HTML text as a reply to ref (or to the chat when ref has no
// message) and says where it landed.
func (b *Bot) send(ctx context.Context, ref storage.MessageRef, text string, u urgency) (*storage.MessageRef, error) {
	sent, err := b.post(ctx, ref, text, nil, u)
	if err != nil {
		return nil, err
	}
	return &storage.MessageRef{ChatID: sent.Chat.ID, MessageID: sent.ID, ThreadID: ref.ThreadID}, nil
}

// ownEditTTL is how long jtbot remembers the values it wrote to an issue:
// far longer than Jira's webhook retries.
const ownEditTTL = 24 * time.Hour

// rememberOwnEdit records a value jtbot is about to write to a field of an
// issue, so that Jira's report of the change is recognised as jtbot's own
// (by what was written, never by author: the bot's account may be a real
// person's, whose own edits must reach Telegram).
func (b *Bot) rememberOwnEdit(key, field, value string) error {
	_, err := b.store.Remember(ownEditKey(key, field, value), ownEditTTL)
	return err
}

// ownEdit says whether Jira reports a value jtbot wrote itself.
func (b *Bot) ownEdit(key, field, value string) bool {
	return b.store.Seen(ownEditKey(key, field, value))
}

func ownEditKey(key, field, value string) string {
	// Jira may store line ends and outer blanks its own way.
	value = strings.TrimSpace(strings.ReplaceAll(value, "\r\n", "\n"))
	sum := sha256.Sum256([]byte(value))
	return "own-edit:" + key + ":" + field + ":" + hex.EncodeToString(sum[:12])
}

// activeAccount is a person's personal Jira connection, when they have
// one that works.
func (b *Bot) activeAccount(telegramID int64) (storage.Account, bool) {
	if !b.cfg.PersonalAccounts() {
		return storage.Account{}, false
	}
	a, err := b.store.Account(telegramID)
	return a, err == nil && !a.NeedsReconnect
}
