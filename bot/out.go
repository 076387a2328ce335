package bot

import (
	"context"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// Every message the behaviour sends, edits or deletes leaves through post,
// rewrite or remove, and from there through the Telegram adapter.
// What differs between callers is only how a message may wait for
// Telegram's limits.

// urgency says how a message may wait for Telegram's limits.
type urgency int

const (
	// ifFree goes only when the limits allow it now (refusals, hints,
	// watcher DMs, digests): past them the *telegram.Error is Limited.
	ifFree urgency = iota
	// mayWait may wait answerPatience in-process (answers to someone's
	// command or button), then is Limited.
	mayWait
	// admitted had its slot taken with admit (a note's messages go out
	// all together or not at all).
	admitted
)

// answerPatience is how long an answer to someone's command or button may
// wait for Telegram's limits before the update is put back in the queue.
const answerPatience = 3 * time.Second

func (u urgency) out(o telegram.Out) telegram.Out {
	switch u {
	case mayWait:
		o.Patience = answerPatience
	case admitted:
		o.Reserved = true
	}
	return o
}

// post sends HTML as a reply to ref (in its topic), or to the chat when ref
// names no message.
func (b *Bot) post(ctx context.Context, ref storage.MessageRef, html string, kb *tele.ReplyMarkup, u urgency) (*tele.Message, error) {
	return b.tg.Send(ctx, u.out(telegram.Out{Chat: ref.ChatID, Thread: ref.ThreadID, ReplyTo: ref.MessageID, HTML: html, Keyboard: kb}))
}

// rewrite replaces the text (and keyboard) of the message at ref. An edit
// that changes nothing is not an error.
func (b *Bot) rewrite(ctx context.Context, ref storage.MessageRef, html string, kb *tele.ReplyMarkup, u urgency) error {
	err := b.tg.Edit(ctx, ref.MessageID, u.out(telegram.Out{Chat: ref.ChatID, HTML: html, Keyboard: kb}))
	if e, ok := telegram.AsError(err); ok && e.NotModified() {
		return nil
	}
	return err
}

// remove deletes a message. It does not wait for the limits, which count
// messages sent, not taken away, and a message holding a token must go at
// once.
func (b *Bot) remove(ctx context.Context, ref storage.MessageRef) error {
	return b.tg.Delete(ctx, ref.ChatID, ref.MessageID)
}

// limited is the error that keeps work queued until Telegram's limits
// allow it: the same Limited error the adapter returns itself.
func limited(wait time.Duration) error {
	return &telegram.Error{Method: "sendMessage", Code: 429, Limited: true, RetryAfter: wait}
}
