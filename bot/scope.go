package bot

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/telegram"
)

// The bot's Jira account usually sees the whole site; a chat must not
// (DESIGN §7). A scope is the set of projects a place may act on: a
// group's or channel's own projects, or, in a DM, JIRA_PROJECT and the
// projects of the mapped chats the user is a member of.

// scope is where a command, button or reply may reach.
type scope struct {
	projects []string
	dm       bool
	// jira: a connected person's DM, where their own Jira permissions
	// decide (DESIGN §7); projects is then empty.
	jira bool
}

func (s scope) has(project string) bool { return s.jira || slices.Contains(s.projects, project) }

// allows reports whether an issue key belongs to the scope by its project
// part; a card read from Jira must be checked again (showable), because
// Jira follows a moved issue's old key to its new project.
func (s scope) allows(key string) bool { return s.has(keyProject(key)) }

// showable reports whether an issue read from Jira may be shown here: in
// the scope, and without a security level (those never reach Telegram).
func (s scope) showable(is jira.Card) bool {
	return s.has(is.Project) && (is.Security == "" || s.jira)
}

// refusal is the one line for a key outside the scope; it says nothing of
// the issue, not even whether it exists.
func (s scope) refusal(key string) string {
	if s.dm {
		return key + " is not in your projects (JIRA_PROJECT and those of the chats you are in)."
	}
	return key + " is not in this chat's projects."
}

// securedText answers for an issue under a Jira security level.
func securedText(key string) string {
	return key + " has a security level in Jira: open it there."
}

// scopeOf is the scope of a message or button press in chat by user.
func (b *Bot) scopeOf(ctx context.Context, chat *tele.Chat, user *tele.User) (scope, error) {
	if chat.Type == tele.ChatPrivate && actorOf(ctx).personal() {
		return scope{dm: true, jira: true}, nil
	}
	if chat.Type == tele.ChatPrivate {
		return b.dmScope(ctx, user)
	}
	projects, err := b.chatProjects(ctx, chat.ID)
	return scope{projects: projects}, err
}

// chatProjects are a chat's projects: its /link mapping or CHAT_PROJECTS,
// and those of its linked chat, so that a channel's discussion group,
// where the post's comments are, acts on the channel's projects.
func (b *Bot) chatProjects(ctx context.Context, chatID int64) ([]string, error) {
	own, err := b.ownProjects(chatID)
	if err != nil {
		return nil, err
	}
	linked := b.linkedChat(ctx, chatID)
	if linked == 0 {
		return own, nil
	}
	theirs, err := b.ownProjects(linked)
	return append(own, without(theirs, own)...), err
}

// ownProjects are the projects a chat is mapped to itself, then those of
// its subscriptions (DESIGN §7).
func (b *Bot) ownProjects(chatID int64) ([]string, error) {
	var out []string
	p, ok, err := b.project(chatID)
	if err != nil {
		return nil, err
	}
	if ok {
		out = append(out, p)
	}
	set, err := b.subscriptions()
	if err != nil {
		return nil, err
	}
	return append(out, without(set.byChat[chatID], out)...), nil
}

// dmScope is what a user reaches in a private chat with the bot's account.
func (b *Bot) dmScope(ctx context.Context, user *tele.User) (scope, error) {
	s := scope{dm: true}
	if b.cfg.JiraProject != "" {
		s.projects = append(s.projects, b.cfg.JiraProject)
	}
	if user == nil {
		return s, nil
	}
	chats, err := b.mappedChats()
	if err != nil {
		return s, err
	}
	for _, chat := range chats {
		projects, err := b.ownProjects(chat)
		if err != nil {
			return s, err
		}
		if missing := without(projects, s.projects); len(missing) > 0 && b.member(ctx, chat, user.ID) {
			s.projects = append(s.projects, missing...)
		}
	}
	return s, nil
}

// mappedChats are the chats with projects (mapped or subscribed), in a
// stable order.
func (b *Bot) mappedChats() ([]int64, error) {
	rt, err := b.store.ChatProjects()
	if err != nil {
		return nil, err
	}
	var chats []int64
	for _, m := range []map[int64]string{rt, b.cfg.ChatProjects} {
		for chat := range m {
			if !slices.Contains(chats, chat) {
				chats = append(chats, chat)
			}
		}
	}
	set, err := b.subscriptions()
	if err != nil {
		return nil, err
	}
	for chat := range set.byChat {
		if !slices.Contains(chats, chat) {
			chats = append(chats, chat)
		}
	}
	slices.Sort(chats)
	return chats, nil
}

func without(list, drop []string) []string {
	var out []string
	for _, p := range list {
		if !slices.Contains(drop, p) {
			out = append(out, p)
		}
	}
	return out
}

// askTTL bounds how long Telegram's answers about chats are believed:
// someone who left a chat loses its projects in DMs within this time.
const askTTL = 10 * time.Minute

// answers keeps answers from Telegram or Jira (memberships, linked chats,
// project types, what a person may read) for ttl; a zero ttl keeps none.
type answers[K comparable, V any] struct {
	ttl     time.Duration
	mu      sync.Mutex
	seen    map[K]answer[V]
	sweepAt int // len(seen) at which stale answers are dropped
}

type answer[V any] struct {
	v  V
	at time.Time
}

func newAnswers[K comparable, V any](ttl time.Duration) *answers[K, V] {
	return &answers[K, V]{ttl: ttl, seen: make(map[K]answer[V]), sweepAt: 1024}
}

func (a *answers[K, V]) get(k K, now time.Time) (V, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	x, ok := a.seen[k]
	return x.v, ok && now.Sub(x.at) < a.ttl
}

func (a *answers[K, V]) put(k K, v V, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen[k] = answer[V]{v: v, at: now}
	if len(a.seen) < a.sweepAt {
		return
	}
	for old, x := range a.seen {
		if now.Sub(x.at) >= a.ttl {
			delete(a.seen, old)
		}
	}
	a.sweepAt = max(1024, 2*len(a.seen))
}

// told reports whether err is Telegram's own answer ("user not found"),
// to be kept like any answer, rather than an outage.
func told(err error) bool {
	te, ok := telegram.AsError(err)
	return ok && !te.Temporary()
}

// member asks Telegram whether user is in chat. An answer Telegram could
// not give (an outage) counts as "no" and is not kept: access fails
// closed and recovers on the next try.
func (b *Bot) member(ctx context.Context, chat, user int64) bool {
	k := [2]int64{chat, user}
	if v, ok := b.members.get(k, b.now()); ok {
		return v
	}
	member, err := b.tg.IsMember(ctx, chat, user)
	if err != nil && !told(err) {
		b.log.WithError(err).WithField("chat", chat).Debug("cannot ask Telegram about a membership")
		return false
	}
	b.members.put(k, member && err == nil, b.now())
	return member && err == nil
}

// linkedChat is a chat's channel or discussion group (0: none, or unknown
// during an outage).
func (b *Bot) linkedChat(ctx context.Context, chat int64) int64 {
	if v, ok := b.linked.get(chat, b.now()); ok {
		return v
	}
	other, err := b.tg.LinkedChat(ctx, chat)
	if err != nil && !told(err) {
		b.log.WithError(err).WithField("chat", chat).Debug("cannot ask Telegram for a linked chat")
		return 0
	}
	b.linked.put(chat, other, b.now())
	return other
}

// reach checks a key typed in a command before anything is read from
// Jira, then the issue itself. ok false means the user was told why.
func (b *Bot) reach(ctx context.Context, m *tele.Message, key string) (is jira.Card, ok bool, err error) {
	s, err := b.scopeOf(ctx, m.Chat, m.Sender)
	if err != nil {
		return is, false, err
	}
	if !s.allows(key) {
		return is, false, b.reply(ctx, m, s.refusal(key))
	}
	is, err = b.jc(ctx).GetIssue(ctx, key)
	if err != nil {
		return is, false, b.failed(ctx, m, err, key)
	}
	if text, refused := s.refuseCard(key, is); refused {
		return is, false, b.reply(ctx, m, text)
	}
	return is, true, nil
}

// refuseCard is the answer for an issue that may not be shown here.
func (s scope) refuseCard(key string, is jira.Card) (string, bool) {
	switch {
	case !s.has(is.Project):
		return s.refusal(key), true
	case is.Security != "" && !s.jira:
		return securedText(key), true
	}
	return "", false
}

// unmappedHint is the line for a command in a group without projects.
const unmappedHint = "This chat is not linked to a Jira project: an admin can link it with /link PROJECT."

// worksUnmapped are the commands that answer in a group without projects.
var worksUnmapped = []string{"start", "help", "connect", "disconnect", "link", "unlink", "subscribe", "subscriptions", "unsubscribe"}

// unmapped reports whether cmd must not run in this chat because the chat
// has no projects; the chat then gets one hint at most hourly.
func (b *Bot) unmapped(ctx context.Context, m *tele.Message, cmd string) (bool, error) {
	if m.Chat.Type == tele.ChatPrivate || slices.Contains(worksUnmapped, cmd) {
		return false, nil
	}
	projects, err := b.chatProjects(ctx, m.Chat.ID)
	if err != nil || len(projects) > 0 {
		return false, err
	}
	first, err := b.store.Remember("hint:"+strconv.FormatInt(m.Chat.ID, 10), time.Hour)
	if err != nil {
		return true, err
	}
	if first {
		b.courtesy(ctx, m, unmappedHint)
	}
	return true, nil
}
