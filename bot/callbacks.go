package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// callbackBudget bounds the Jira work behind a button press: the press
// must be answered before Telegram's callback timeout (some 15 s), and the
// item may have waited in the queue first.
const callbackBudget = 6 * time.Second

// pressResult is how a press is answered: a toast, or an alert for what
// the user must read (refusals, stale buttons, failures).
type pressResult struct {
	text  string
	alert bool
}

func toast(text string) pressResult { return pressResult{text: text} }
func alert(text string) pressResult { return pressResult{text: text, alert: true} }

// onCallback handles a press on an inline button. It never asks for a
// retry: by then the press would be too old to answer, and the user can
// simply press again.
func (b *Bot) onCallback(ctx context.Context, c *tele.Callback) error {
	res := b.press(ctx, c)
	if err := b.tg.Answer(ctx, c.ID, res.text, res.alert); err != nil {
		b.log.WithError(err).Debug("cannot answer a button press")
	}
	return nil
}

func (b *Bot) press(ctx context.Context, c *tele.Callback) pressResult {
	act, err := b.actorFor(c.Sender)
	if err != nil {
		return b.pressFailed(ctx, err, "")
	}
	ctx = withActor(ctx, act)
	if kind, arg, _ := strings.Cut(c.Data, "|"); kind == cbNotify {
		return b.pressNotify(ctx, c, arg)
	}
	if act.expired {
		return alert(telegram.StripTags(expiredText))
	}
	if !act.personal() && !b.allowed(c.Sender) {
		return alert(telegram.StripTags(refusal(c.Sender)))
	}
	if c.Message == nil {
		return alert("This button no longer works.")
	}
	ctx, cancel := context.WithTimeout(ctx, callbackBudget)
	defer cancel()
	sc, err := b.scopeOf(ctx, c.Message.Chat, c.Sender)
	if err != nil {
		return b.pressFailed(ctx, err, "")
	}
	kind, rest, _ := strings.Cut(c.Data, "|")
	switch kind {
	case cbSearchPage:
		return b.pressSearch(ctx, c, sc, rest)
	case cbUnsubscribe:
		_, id, _ := strings.Cut(rest, "|")
		return b.pressUnsubscribe(ctx, c, id)
	}
	key, arg, _ := strings.Cut(rest, "|")
	key, ok := issueKey(key)
	if !ok {
		return alert("This button no longer works.")
	}
	if !sc.allows(key) {
		return alert(sc.refusal(key))
	}
	is, err := b.jc(ctx).GetIssue(ctx, key)
	if err != nil {
		return b.pressFailed(ctx, err, key)
	}
	if text, refused := sc.refuseCard(key, is); refused {
		return alert(text)
	}
	switch kind {
	case cbCard:
		return b.showCard(ctx, c, is, "")
	case cbTransitMenu:
		if len(is.Transitions) == 0 {
			return alert(key + " has no transitions jtbot may make from " + is.Status + ".")
		}
		b.edit(ctx, c.Message, b.cardText(is), transitionKeyboard(is))
		return toast("")
	case cbMove:
		return b.pressMove(ctx, c, is, arg, "")
	case cbResolve:
		id, index, _ := strings.Cut(arg, "|")
		return b.pressMove(ctx, c, is, id, index)
	case cbAssignMe:
		return b.pressAssignMe(ctx, c, is)
	case cbWatch:
		return b.pressWatch(ctx, c, is)
	}
	return alert("This button no longer works.")
}

func (b *Bot) pressFailed(ctx context.Context, err error, key string) pressResult {
	if b.refusedGrant(ctx, err) {
		return alert(telegram.StripTags(expiredText))
	}
	text, ok := humanError(err, key)
	if !ok {
		b.log.WithError(err).Warn("button press failed")
		text = "Something went wrong, try again in a minute"
	}
	return alert(text)
}

// pressMove makes a transition; index picks a value of its resolution
// field ("" when none was chosen yet).
func (b *Bot) pressMove(ctx context.Context, c *tele.Callback, is jira.Card, id, index string) pressResult {
	var t jira.Transition
	for _, x := range is.Transitions {
		if x.ID == id {
			t = x
		}
	}
	if t.ID == "" {
		b.showCard(ctx, c, is, "")
		return alert("That transition is no longer available for " + is.Key + " (now " + is.Status + ").")
	}
	res, hasRes := t.Resolution()
	resolution := ""
	if i, err := strconv.Atoi(index); err == nil && hasRes && i >= 0 && i < len(res.Allowed) {
		resolution = res.Allowed[i]
	}
	if hasRes && res.Required && resolution == "" && len(t.OtherRequired()) == 0 {
		b.edit(ctx, c.Message, b.cardText(is), resolutionKeyboard(is.Key, t, res))
		return toast("Choose a resolution")
	}
	err := b.transition(ctx, c.Sender, refOf(c.Message), is, t, resolution)
	var needs needsJiraError
	if errors.As(err, &needs) {
		return alert(telegram.StripTags(b.needsJiraText(needs)))
	}
	if err != nil {
		return b.pressFailed(ctx, err, is.Key)
	}
	return b.showCard(ctx, c, b.reread(ctx, is), is.Key+" → "+target(t))
}

func (b *Bot) pressAssignMe(ctx context.Context, c *tele.Callback, is jira.Card) pressResult {
	id, ok := connectedID(ctx)
	if !ok {
		return alert(connectHint + ".")
	}
	if err := b.assign(ctx, c.Sender, refOf(c.Message), is.Key, id, actorOf(ctx).account.JiraName); err != nil {
		return b.pressFailed(ctx, err, is.Key)
	}
	return b.showCard(ctx, c, b.reread(ctx, is), is.Key+" is assigned to you")
}

func (b *Bot) pressWatch(ctx context.Context, c *tele.Callback, is jira.Card) pressResult {
	had, err := b.store.Unwatch(is.Key, c.Sender.ID)
	if err != nil {
		return b.pressFailed(ctx, err, is.Key)
	}
	if had {
		return b.showCardFor(ctx, c, is, false, "Stopped watching "+is.Key)
	}
	if err := b.store.Watch(is.Key, c.Sender.ID); err != nil {
		return b.pressFailed(ctx, err, is.Key)
	}
	return b.showCardFor(ctx, c, is, true, "Watching "+is.Key+": I'll send you a private message about each change")
}

func (b *Bot) pressSearch(ctx context.Context, c *tele.Callback, sc scope, arg string) pressResult {
	page, err := strconv.Atoi(arg)
	jql, ok := searchOf(c.Message)
	if err != nil || page < 0 || page >= maxSearchPage || !ok {
		return alert("This button no longer works.")
	}
	text, kb, err := b.searchPage(ctx, sc, jql, page)
	if err != nil {
		return b.pressFailed(ctx, err, "")
	}
	b.edit(ctx, c.Message, text, kb)
	return toast("")
}

// reread fetches an issue again after a change, keeping the old card when
// Jira cannot say.
func (b *Bot) reread(ctx context.Context, is jira.Card) jira.Card {
	if fresh, err := b.jc(ctx).GetIssue(ctx, is.Key); err == nil {
		return fresh
	}
	return is
}

func (b *Bot) showCard(ctx context.Context, c *tele.Callback, is jira.Card, note string) pressResult {
	watching, err := b.watching(is.Key, c.Sender.ID)
	if err != nil {
		b.log.WithError(err).Warn("cannot read watches")
	}
	return b.showCardFor(ctx, c, is, watching, note)
}

// showCardFor turns the pressed message into the issue's card.
func (b *Bot) showCardFor(ctx context.Context, c *tele.Callback, is jira.Card, watching bool, note string) pressResult {
	if b.edit(ctx, c.Message, b.cardText(is), b.cardKeyboard(is, watching)) {
		if err := b.store.LinkMessage(c.Message.Chat.ID, c.Message.ID, storage.Link{Issue: is.Key}); err != nil {
			b.log.WithError(err).Warn("cannot link a card")
		}
	}
	return toast(note)
}

// edit replaces a message's text and buttons; an unchanged message is fine.
func (b *Bot) edit(ctx context.Context, m *tele.Message, html string, kb *tele.ReplyMarkup) bool {
	if kb == nil {
		kb = &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{}}
	}
	if err := b.rewrite(ctx, storage.MessageRef{ChatID: m.Chat.ID, MessageID: m.ID}, html, kb, mayWait); err != nil {
		b.log.WithError(err).Warn("cannot update a message after a button press")
		return false
	}
	return true
}
