package bot

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/route"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// An issue's news goes to its own chat (placementOf) and to its rooms:
// the other chats mapped to its project, which see everything, and the
// chats and topics whose subscriptions match an event (DESIGN §9), which
// see the events that matched. Each room threads the news under its own
// root. A room is served once per batch even when its delivery is tried
// again, so that a retry never repeats a message in a room.

// room is a chat or topic that shows some of a note's events.
type room struct {
	chat   int64
	thread int
	items  map[uint64]bool // the events shown; nil: all of them
}

// roomDone marks a note's delivery to a room, so a retry skips it.
const roomDoneTTL = 24 * time.Hour

func roomDoneKey(n *note, r room) string {
	return "room:" + strconv.FormatUint(n.items[0], 10) + ":" + n.key + ":" +
		strconv.FormatInt(r.chat, 10) + "/" + strconv.Itoa(r.thread)
}

// subscriptionSet is the subscriptions as routing and access read them,
// built once per change: every event and every scope decision asks.
type subscriptionSet struct {
	index  *route.Index
	byChat map[int64][]string // chat → its subscriptions' projects, in order
}

// subscriptions reads the subscriptions again after a change
// (subscriptionsChanged), else returns the set built last time.
func (b *Bot) subscriptions() (*subscriptionSet, error) {
	if set := b.subs.Load(); set != nil {
		return set, nil
	}
	subs, err := b.store.Subscriptions()
	if err != nil {
		return nil, err
	}
	set := &subscriptionSet{index: route.NewIndex(subs), byChat: make(map[int64][]string)}
	for _, s := range subs {
		if !slices.Contains(set.byChat[s.Chat], s.Project) {
			set.byChat[s.Chat] = append(set.byChat[s.Chat], s.Project)
		}
	}
	b.subs.Store(set)
	return set, nil
}

func (b *Bot) subscriptionsChanged() { b.subs.Store(nil) }

// roomsOf finds a note's rooms, besides its own place p.
func (b *Bot) roomsOf(ctx context.Context, n *note, p placement) ([]room, error) {
	if len(n.entries) == 0 && len(n.edits) == 0 {
		return nil, nil
	}
	var rooms []room
	add := func(chat int64, thread int, item uint64, all bool) {
		if p.ok && chat == p.ref.ChatID && thread == p.ref.ThreadID {
			return // the issue's own place: served by deliver
		}
		i := slices.IndexFunc(rooms, func(r room) bool { return r.chat == chat && r.thread == thread })
		if i < 0 {
			rooms, i = append(rooms, room{chat: chat, thread: thread, items: map[uint64]bool{}}), len(rooms)
		}
		if all {
			rooms[i].items = nil
		} else if rooms[i].items != nil {
			rooms[i].items[item] = true
		}
	}
	chats, err := b.projectChats(n.project)
	if err != nil {
		return nil, err
	}
	for _, chat := range chats {
		// A channel whose news goes to its discussion group, where the
		// post's comments are, is served there (DESIGN §4).
		if !p.ok || b.linkedChat(ctx, chat) != p.ref.ChatID {
			add(chat, 0, 0, true)
		}
	}
	return rooms, b.matchSubscriptions(ctx, n, add)
}

// matchSubscriptions adds the rooms whose subscriptions match an event of
// the note. Fields the payload lacks are read from the issue, once; JQL is
// Jira's to answer (cached for the coalescing window).
func (b *Bot) matchSubscriptions(ctx context.Context, n *note, add func(chat int64, thread int, item uint64, all bool)) error {
	set, err := b.subscriptions()
	if err != nil {
		return err
	}
	ix := set.index
	var card *jira.Card
	for _, je := range n.events {
		f := route.FactsOf(je.ev)
		f.Project, f.Key = n.project, n.key
		if card == nil && ix.NeedsIssue(f) {
			c, err := b.jira.GetIssue(ctx, n.key)
			if err != nil {
				return err
			}
			card = &c
		}
		if card != nil {
			f.Fill(*card)
		}
		for _, m := range ix.Match(f) {
			due, err := b.jql.Due(ctx, cmp.Or(f.IssueID, n.key), m)
			if err != nil {
				return err
			}
			if due {
				add(m.Chat, m.Thread, je.id, false)
			}
		}
	}
	return nil
}

// projectChats are the chats mapped to a project (a /link mapping
// overrides the chat's CHAT_PROJECTS entry).
func (b *Bot) projectChats(project string) ([]int64, error) {
	rt, err := b.store.ChatProjects()
	if err != nil {
		return nil, err
	}
	var out []int64
	for chat, p := range b.cfg.ChatProjects {
		if _, overridden := rt[chat]; !overridden && p == project {
			out = append(out, chat)
		}
	}
	for chat, p := range rt {
		if p == project {
			out = append(out, chat)
		}
	}
	slices.Sort(out)
	return out, nil
}

// roomsOfAll finds the rooms of a batch's notes that are still to be
// served (a retry skips what an earlier try delivered).
func (b *Bot) roomsOfAll(ctx context.Context, notes []*note, places map[*note]placement) (map[*note][]room, error) {
	out := make(map[*note][]room, len(notes))
	for _, n := range notes {
		rooms, err := b.roomsOf(ctx, n, places[n])
		if err != nil {
			return nil, err
		}
		for _, r := range rooms {
			if !b.store.Seen(roomDoneKey(n, r)) {
				out[n] = append(out[n], r)
			}
		}
	}
	return out, nil
}

// roomDigest is the issues of a batch shown in one room as one message.
type roomDigest struct {
	chat, thread int64
	notes        []*note
	rooms        []room // each note's room, for its items
}

// roomDigests picks, per room, the issues to show in one digest, as
// digestGroups does for the issues' own chats.
func roomDigests(notes []*note, rooms map[*note][]room) []roomDigest {
	var out []roomDigest
	at := make(map[[2]int64]int)
	for _, n := range notes {
		for _, r := range rooms[n] {
			if len(n.linesOf(r.items)) == 0 {
				continue
			}
			k := [2]int64{r.chat, int64(r.thread)}
			i, ok := at[k]
			if !ok {
				i, at[k] = len(out), len(out)
				out = append(out, roomDigest{chat: r.chat, thread: int64(r.thread)})
			}
			out[i].notes, out[i].rooms = append(out[i].notes, n), append(out[i].rooms, r)
		}
	}
	return slices.DeleteFunc(out, func(d roomDigest) bool { return len(d.notes) < digestMin })
}

// sendRoomDigests sends each room digest, marks its notes served in that
// room, and takes those rooms off the notes' lists for deliverRooms.
func (b *Bot) sendRoomDigests(ctx context.Context, digests []roomDigest, rooms map[*note][]room) error {
	for _, d := range digests {
		r := room{chat: d.chat, thread: int(d.thread)}
		entries := make([]digestEntry, 0, len(d.notes))
		for i, n := range d.notes {
			entries = append(entries, digestEntry{browseURL: b.jira.BrowseURL(n.key), key: n.key, summary: n.summary, what: n.briefsOf(d.rooms[i].items)})
		}
		err := b.admit([]int64{r.chat})
		if err == nil {
			_, err = b.send(ctx, storage.MessageRef{ChatID: r.chat, ThreadID: r.thread}, digestMessage(d.notes[0].project, entries, b.jira.BrowseURL(d.notes[0].project)), admitted)
		}
		if err != nil && !b.roomGone(r, err) {
			return err
		}
		for i, n := range d.notes {
			if _, err := b.store.Remember(roomDoneKey(n, d.rooms[i]), roomDoneTTL); err != nil {
				return err
			}
			rooms[n] = slices.DeleteFunc(rooms[n], func(x room) bool { return x.chat == r.chat && x.thread == r.thread })
		}
	}
	return nil
}

// deliverRooms shows a note in each of its rooms still to be served. A
// room Telegram refuses for good (the bot was removed, the topic closed)
// is skipped and logged; a room that must wait for the limits holds the
// batch, and the rooms already served stay served.
func (b *Bot) deliverRooms(ctx context.Context, n *note, rooms []room) error {
	for _, r := range rooms {
		err := b.deliverRoom(ctx, n, r)
		if err != nil && !b.roomGone(r, err) {
			return err
		}
		if _, err := b.store.Remember(roomDoneKey(n, r), roomDoneTTL); err != nil {
			return err
		}
	}
	return nil
}

// deliverRoom edits the room's messages of edited comments and posts the
// room's lines under its root (the first message becomes the root).
func (b *Bot) deliverRoom(ctx context.Context, n *note, r room) error {
	browse := b.jira.BrowseURL(n.key)
	header := issueHeader(browse, n.key, n.issueType, n.summary)
	for _, e := range n.edits {
		if r.items != nil && !r.items[e.item] {
			continue
		}
		ref, err := b.store.RoomComment(n.key, r.chat, r.thread, e.id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := b.admit([]int64{r.chat}); err != nil {
			return err
		}
		if err := b.editMessage(ctx, n.key, ref, composeMessage(header, []string{e.text}, browse)); err != nil {
			return err
		}
	}
	lines := n.linesOf(r.items)
	if len(lines) == 0 {
		return nil
	}
	return b.postInRoom(ctx, n, r, composeMessage(header, lines, browse))
}

func (b *Bot) postInRoom(ctx context.Context, n *note, r room, text string) error {
	at := storage.MessageRef{ChatID: r.chat, ThreadID: r.thread}
	root, err := b.store.RoomRoot(n.key, r.chat, r.thread)
	switch {
	case err == nil:
		at = root
	case !errors.Is(err, storage.ErrNotFound):
		return err
	}
	if err := b.admit([]int64{r.chat}); err != nil {
		return err
	}
	sent, err := b.send(ctx, at, text, admitted)
	if err != nil {
		return err
	}
	if at.MessageID == 0 {
		if err := b.store.SetRoomRoot(n.key, *sent); err != nil {
			return err
		}
	}
	for _, e := range n.entries {
		if e.comment != "" && !e.dropped && (r.items == nil || r.items[e.item]) {
			if err := b.store.LinkRoomComment(n.key, e.comment, *sent); err != nil {
				return err
			}
		}
	}
	return nil
}

// roomGone handles a room Telegram refuses for good: a chat that removed
// the bot or no longer exists loses its subscriptions (said in the log);
// a closed topic is skipped. It reports whether err was such a refusal.
func (b *Bot) roomGone(r room, err error) bool {
	te, ok := telegram.AsError(err)
	if !ok || te.Temporary() {
		return false
	}
	log := b.log.WithError(err).WithField("chat", r.chat)
	switch {
	case te.ChatGone() || te.Forbidden():
		removed, ferr := b.store.ForgetChat(r.chat)
		if ferr != nil {
			log.WithError(ferr).Warn("cannot forget a chat that is gone")
			return false
		}
		b.subscriptionsChanged()
		log.WithField("subscriptions_removed", removed).Warn("chat gone or bot removed: its mapping and subscriptions are removed")
	case te.TopicClosed():
		log.WithField("topic", r.thread).Warn("forum topic closed or deleted: news for it skipped")
	default:
		log.Warn("Telegram refused a subscription's message: skipped")
	}
	return true
}
