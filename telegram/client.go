package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	tele "gopkg.in/telebot.v3"
)

// Options are the parts a Client is built from.
type Options struct {
	// APIURL is the Bot API base URL (TELEGRAM_API_URL).
	APIURL string
	Token  string
	// HTTP talks to the Bot API; its timeout must exceed the 30 s long poll.
	HTTP *http.Client
	Log  logrus.FieldLogger
	// Now replaces the clock of the rate limiter in tests.
	Now func() time.Time
	// Sleep replaces the wait of a send that has patience (tests).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client is the one way out to Telegram.
type Client struct {
	tg    *tele.Bot
	token string
	api   string
	http  *http.Client
	log   logrus.FieldLogger
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	limit limiter
	me    atomic.Pointer[tele.User]
}

// New builds a client without contacting Telegram; Connect does that.
func New(o Options) (*Client, error) {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		o.Log = l
	}
	c := &Client{token: o.Token, api: o.APIURL, http: o.HTTP, log: o.Log.WithField("component", "telegram"), now: o.Now, sleep: o.Sleep}
	tg, err := tele.NewBot(tele.Settings{
		URL:     o.APIURL,
		Token:   o.Token,
		Client:  o.HTTP,
		Offline: true, // getMe happens in Connect, with retries
		OnError: func(err error, _ tele.Context) {
			c.log.WithError(RedactToken(err, o.Token)).Warn("telebot")
		},
	})
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", RedactToken(err, o.Token))
	}
	c.tg = tg
	return c, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Connect calls getMe until it works: a Telegram outage at start delays
// jtbot, while a refused token is an error naming the setting.
func (c *Client) Connect(ctx context.Context) error {
	delay := time.Second
	for {
		me, err := c.Me(ctx)
		if err == nil {
			c.me.Store(&me)
			return nil
		}
		if e, ok := AsError(err); ok && (e.Code == http.StatusUnauthorized || e.Code == http.StatusNotFound) {
			return fmt.Errorf("TELEGRAM_HOOK_TOKEN: Telegram refused the bot token (%v)", err)
		}
		c.log.WithError(err).Warnf("telegram getMe failed, retrying in %s", delay)
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// Username is the bot's @username (without @), known once connected.
func (c *Client) Username() string {
	if me := c.me.Load(); me != nil {
		return me.Username
	}
	return ""
}

// Connected says whether getMe has answered.
func (c *Client) Connected() bool { return c.me.Load() != nil }

// Me asks Telegram who the bot is (getMe).
func (c *Client) Me(ctx context.Context) (tele.User, error) {
	var u tele.User
	return u, c.call(ctx, "getMe", nil, &u)
}

// Out is one message to send, or the new content of one to edit.
type Out struct {
	Chat int64
	// Thread is the forum topic (message_thread_id), 0 for none.
	Thread int
	// ReplyTo is the message answered; the message is still sent when that
	// one is gone (allow_sending_without_reply).
	ReplyTo int
	HTML    string
	// Keyboard is the inline keyboard; for an edit, an empty one removes
	// the buttons and nil keeps them out of the request.
	Keyboard *tele.ReplyMarkup
	// Patience is how long the call may wait in-process for the rate
	// limiter. Past it (or with none) the call returns a Limited *Error
	// and sends nothing: the caller keeps its work queued, or drops a
	// courtesy message.
	Patience time.Duration
	// Reserved says the caller already took this send's slot with Admit.
	Reserved bool
}

// Send posts a message (sendMessage). It is the only way a message leaves
// jtbot: it keeps inside Telegram's limits, honours retry_after, and falls
// back to plain text when Telegram refuses the HTML.
func (c *Client) Send(ctx context.Context, o Out) (*tele.Message, error) {
	const method = "sendMessage"
	if err := c.admitOne(ctx, method, o); err != nil {
		return nil, err
	}
	opts := c.options(o)
	sent, err := c.tg.Send(tele.ChatID(o.Chat), o.HTML, opts)
	err = c.wrap(method, err)
	if e, ok := AsError(err); ok && e.BadHTML() {
		c.log.WithError(err).Warn("telegram refused our HTML; sending plain text")
		opts.ParseMode = tele.ModeDefault
		sent, err = c.tg.Send(tele.ChatID(o.Chat), StripTags(o.HTML), opts)
		err = c.wrap(method, err)
	}
	c.noteFlood(o.Chat, err)
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// Edit replaces the text (and keyboard) of a message the bot sent
// (editMessageText), with the same limits and fallback as Send.
func (c *Client) Edit(ctx context.Context, messageID int, o Out) error {
	const method = "editMessageText"
	if err := c.admitOne(ctx, method, o); err != nil {
		return err
	}
	msg := &tele.Message{ID: messageID, Chat: &tele.Chat{ID: o.Chat}}
	opts := &tele.SendOptions{ParseMode: tele.ModeHTML, DisableWebPagePreview: true, ReplyMarkup: o.Keyboard}
	_, err := c.tg.Edit(msg, o.HTML, opts)
	err = c.wrap(method, err)
	if e, ok := AsError(err); ok && e.BadHTML() {
		c.log.WithError(err).Warn("telegram refused our HTML; editing as plain text")
		opts.ParseMode = tele.ModeDefault
		_, err = c.tg.Edit(msg, StripTags(o.HTML), opts)
		err = c.wrap(method, err)
	}
	c.noteFlood(o.Chat, err)
	return err
}

// Delete removes a message (deleteMessage), e.g. one holding a secret.
func (c *Client) Delete(ctx context.Context, chat int64, messageID int) error {
	return c.call(ctx, "deleteMessage", map[string]string{
		"chat_id": strconv.FormatInt(chat, 10), "message_id": strconv.Itoa(messageID)}, nil)
}

// Answer answers a button press (answerCallbackQuery). Answers are not
// chat messages and have no per-chat limit; text is cut to Telegram's 200.
func (c *Client) Answer(ctx context.Context, callbackID, text string, alert bool) error {
	const method = "answerCallbackQuery"
	if ctx.Err() != nil {
		return ctx.Err()
	}
	cb := &tele.Callback{ID: callbackID}
	err := c.tg.Respond(cb, &tele.CallbackResponse{Text: shorten(text, 200), ShowAlert: alert})
	return c.wrap(method, err)
}

// File downloads a file by its file_id (getFile, then the file itself).
func (c *Client) File(ctx context.Context, fileID string) (io.ReadCloser, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rc, err := c.tg.File(&tele.File{FileID: fileID})
	return rc, c.wrap("getFile", err)
}

// SetCommands sets the command menu (setMyCommands).
func (c *Client) SetCommands(ctx context.Context, cmds []tele.Command) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return c.wrap("setMyCommands", c.tg.SetCommands(cmds))
}

// Admit reserves one send in each chat, or, when one of them must wait,
// reserves nothing and returns how long. Callers that send to several
// chats as one unit admit them together, then send with Reserved.
func (c *Client) Admit(chats ...int64) time.Duration {
	now := c.now()
	var wait time.Duration
	for _, ch := range chats {
		wait = max(wait, c.limit.peek(ch, now))
	}
	if wait > 0 {
		return wait
	}
	for _, ch := range chats {
		c.limit.record(ch, now)
	}
	return 0
}

// Wait says how long a send to chat would have to wait now.
func (c *Client) Wait(chat int64) time.Duration { return c.limit.peek(chat, c.now()) }

// admitOne takes a slot for one send, waiting up to the message's
// patience.
func (c *Client) admitOne(ctx context.Context, method string, o Out) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.Reserved {
		return nil
	}
	wait := c.limit.reserve(o.Chat, c.now())
	if wait > 0 && wait <= o.Patience {
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
		wait = c.limit.reserve(o.Chat, c.now())
	}
	if wait > 0 {
		return &Error{Method: method, Code: http.StatusTooManyRequests, Limited: true, RetryAfter: wait}
	}
	return nil
}

// noteFlood holds a chat for Telegram's retry_after after a 429.
func (c *Client) noteFlood(chat int64, err error) {
	if e, ok := AsError(err); ok && !e.Limited && e.Code == http.StatusTooManyRequests {
		c.limit.pause(chat, c.now().Add(max(e.RetryAfter, time.Second)))
	}
}

func (c *Client) options(o Out) *tele.SendOptions {
	opts := &tele.SendOptions{
		ParseMode:             tele.ModeHTML,
		ThreadID:              o.Thread,
		DisableWebPagePreview: true,
		ReplyMarkup:           o.Keyboard,
	}
	if o.ReplyTo != 0 {
		// telebot drops ReplyParams; reply_to_message_id still works.
		opts.ReplyTo = &tele.Message{ID: o.ReplyTo}
		opts.AllowWithoutReply = true
	}
	return opts
}

// call runs a Bot API method through telebot's Raw and decodes its result.
func (c *Client) call(ctx context.Context, method string, params map[string]string, out any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var payload any
	if params != nil {
		payload = params
	}
	data, err := c.tg.Raw(method, payload)
	if err != nil {
		return c.wrap(method, err)
	}
	var resp struct {
		OK     bool            `json:"ok"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &resp); err != nil || !resp.OK {
		return &Error{Method: method, err: errors.New("unexpected answer")}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Result, out); err != nil {
		return &Error{Method: method, err: fmt.Errorf("unexpected result: %w", err)}
	}
	return nil
}

// shorten cuts s to n characters.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
