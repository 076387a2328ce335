package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/route"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// Subscriptions (DESIGN §9): admins route a project's events, filtered,
// into a chat or a forum topic. /subscriptions lists a chat's, with a
// Remove button each; a chat's own admins may read the list.

const cbUnsubscribe = "u" // remove subscription arg (the key part is empty)

// deliveryTarget is where a subscription delivers.
type deliveryTarget struct {
	chat   int64
	thread int
	name   string // in words: "this chat", "this topic", "@channel"
}

func (b *Bot) cmdSubscribe(ctx context.Context, m *tele.Message, args string) error {
	if !b.isAdmin(m.Sender) {
		return b.reply(ctx, m, "⛔ Only admins (ADMIN_USERS) may subscribe chats.")
	}
	to, args, problem, err := b.subscribeTarget(ctx, m, args)
	if err != nil {
		return err
	}
	if problem != "" {
		return b.reply(ctx, m, problem)
	}
	sub, err := route.Parse(args)
	var pe *route.ParseError
	if errors.As(err, &pe) {
		return b.reply(ctx, m, markup.EscapeHTML(pe.Msg)+"\n"+usage("subscribe"))
	}
	if err != nil {
		return err
	}
	if _, err := b.jira.GetProject(ctx, sub.Project); err != nil {
		return b.failed(ctx, m, err, "Project "+sub.Project)
	}
	if sub.JQL != "" {
		if err := b.jira.CheckJQL(ctx, sub.JQL); err != nil {
			return b.jqlRefused(ctx, m, err)
		}
	}
	sub.Chat, sub.Thread, sub.By, sub.Created = to.chat, to.thread, m.Sender.ID, b.now()
	if sub, err = b.store.AddSubscription(sub); err != nil {
		return err
	}
	b.subscriptionsChanged()
	b.log.WithFields(map[string]any{"chat": sub.Chat, "project": sub.Project, "subscription": sub.ID}).Info("subscription added")
	b.widenJiraWebhook(ctx, sub.Project)
	return b.reply(ctx, m, fmt.Sprintf("🔔 #%d %s", sub.ID, markup.EscapeHTML(route.Describe(sub, to.name))))
}

// subscribeTarget is where /subscribe delivers: the chat (and topic) it is
// sent in, or in a DM the chat its first argument names.
func (b *Bot) subscribeTarget(ctx context.Context, m *tele.Message, args string) (to deliveryTarget, rest, problem string, err error) {
	if m.Chat.Type != tele.ChatPrivate {
		to = deliveryTarget{chat: m.Chat.ID, name: "this chat"}
		if m.TopicMessage {
			to.thread, to.name = m.ThreadID, "this topic"
		}
		return to, args, "", nil
	}
	ref, rest := splitWord(args)
	if ref == "" || (!strings.HasPrefix(ref, "@") && !isChatID(ref)) {
		return to, "", "In a private chat, name the chat first: /subscribe @channel PROJECT [filters] (or its numeric ID).", nil
	}
	chat, err := b.tg.ResolveChat(ctx, ref)
	if te, ok := telegram.AsError(err); ok && !te.Temporary() {
		return to, "", "I cannot see " + markup.EscapeHTML(ref) + ": add me to that chat first.", nil
	}
	if err != nil {
		return to, "", "", err
	}
	name := chat.Title
	if chat.Username != "" {
		name = "@" + chat.Username
	}
	return deliveryTarget{chat: chat.ID, name: name}, rest, "", nil
}

func isChatID(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// jqlRefused tells Jira's own words about a JQL it refused.
func (b *Bot) jqlRefused(ctx context.Context, m *tele.Message, err error) error {
	var je *jira.Error
	if errors.As(err, &je) && je.Status == 400 && je.Message != "" {
		return b.reply(ctx, m, "Jira refuses that JQL: "+markup.EscapeHTML(je.Message))
	}
	return b.failed(ctx, m, err, "")
}

func (b *Bot) cmdSubscriptions(ctx context.Context, m *tele.Message, _ string) error {
	if m.Chat.Type == tele.ChatPrivate {
		return b.reply(ctx, m, "Send /subscriptions in the chat whose subscriptions you want to see.")
	}
	if !b.isAdmin(m.Sender) && !b.chatAdmin(ctx, m.Chat.ID, m.Sender) {
		b.courtesy(ctx, m, "⛔ Only admins of this chat, or of jtbot, may see its subscriptions.")
		return nil
	}
	text, kb, err := b.subscriptionList(m.Chat.ID)
	if err != nil {
		return err
	}
	_, err = b.replyWith(ctx, m, text, kb)
	return err
}

// chatAdmin reports whether u administers chat in Telegram.
func (b *Bot) chatAdmin(ctx context.Context, chat int64, u *tele.User) bool {
	if u == nil {
		return false
	}
	status, err := b.tg.MemberStatus(ctx, chat, u.ID)
	return err == nil && (status == "creator" || status == "administrator")
}

// subscriptionList is a chat's subscriptions, one per line, with a Remove
// button each.
func (b *Bot) subscriptionList(chat int64) (string, *tele.ReplyMarkup, error) {
	subs, err := b.store.ChatSubscriptions(chat)
	if err != nil {
		return "", nil, err
	}
	if len(subs) == 0 {
		return "No subscriptions here. Admins: /subscribe PROJECT [filters]", nil, nil
	}
	lines := []string{"🔔 Subscriptions of this chat:"}
	var rows [][]tele.InlineButton
	for _, s := range subs {
		lines = append(lines, fmt.Sprintf("#%d %s", s.ID, markup.EscapeHTML(route.Describe(s, placeName(s)))))
		rows = append(rows, []tele.InlineButton{{Text: fmt.Sprintf("Remove #%d", s.ID), Data: cb(cbUnsubscribe, "", strconv.FormatUint(s.ID, 10))}})
	}
	return strings.Join(lines, "\n"), &tele.ReplyMarkup{InlineKeyboard: rows}, nil
}

func placeName(s storage.Subscription) string {
	if s.Thread != 0 {
		return "topic " + strconv.Itoa(s.Thread)
	}
	return "this chat"
}

func (b *Bot) cmdUnsubscribe(ctx context.Context, m *tele.Message, args string) error {
	if !b.isAdmin(m.Sender) {
		return b.reply(ctx, m, "⛔ Only admins (ADMIN_USERS) may change subscriptions.")
	}
	id, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(args), "#"), 10, 64)
	if err != nil {
		return b.reply(ctx, m, usage("unsubscribe"))
	}
	s, text, err := b.unsubscribe(id, m.Chat)
	if err != nil {
		return err
	}
	if text == "" {
		text = fmt.Sprintf("🔕 Removed #%d %s", s.ID, markup.EscapeHTML(route.Describe(s, placeName(s))))
	}
	return b.reply(ctx, m, text)
}

// unsubscribe removes subscription id, when it is the chat's own (or the
// command came in a DM); text says why not.
func (b *Bot) unsubscribe(id uint64, in *tele.Chat) (storage.Subscription, string, error) {
	if in.Type != tele.ChatPrivate {
		subs, err := b.store.ChatSubscriptions(in.ID)
		if err != nil {
			return storage.Subscription{}, "", err
		}
		if !containsID(subs, id) {
			return storage.Subscription{}, fmt.Sprintf("This chat has no subscription #%d.", id), nil
		}
	}
	s, ok, err := b.store.RemoveSubscription(id)
	if err != nil || !ok {
		return s, fmt.Sprintf("There is no subscription #%d.", id), err
	}
	b.subscriptionsChanged()
	b.log.WithFields(map[string]any{"chat": s.Chat, "subscription": s.ID}).Info("subscription removed")
	return s, "", nil
}

func containsID(subs []storage.Subscription, id uint64) bool {
	for _, s := range subs {
		if s.ID == id {
			return true
		}
	}
	return false
}

// pressUnsubscribe is the Remove button of /subscriptions.
func (b *Bot) pressUnsubscribe(ctx context.Context, c *tele.Callback, arg string) pressResult {
	if !b.isAdmin(c.Sender) {
		return alert("Only jtbot's admins (ADMIN_USERS) may change subscriptions.")
	}
	id, err := strconv.ParseUint(arg, 10, 64)
	if err != nil {
		return alert("This button no longer works.")
	}
	_, text, err := b.unsubscribe(id, c.Message.Chat)
	if err != nil {
		return b.pressFailed(ctx, err, "")
	}
	if text != "" {
		return alert(text)
	}
	if list, kb, err := b.subscriptionList(c.Message.Chat.ID); err == nil {
		b.edit(ctx, c.Message, list, kb)
	}
	return toast(fmt.Sprintf("Removed #%d", id))
}
