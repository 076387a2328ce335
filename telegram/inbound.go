package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/storage"
)

// Source is the queue source of Telegram updates.
const Source = "telegram"

// MaxBody caps a webhook body (DESIGN §2).
const MaxBody = 1 << 20

// AlbumPrefix starts the queue group of an album's updates. Telegram sends
// each photo of an album as its own update; the worker holds them until the
// album has been quiet for a moment and hands them over as one batch.
const AlbumPrefix = "album:"

// Queue is the durable queue that inbound updates go to.
type Queue interface {
	Enqueue(it storage.Item, dedupKey string, ttl time.Duration) (id uint64, duplicate bool, err error)
}

// Counter counts received updates by kind (metrics).
type Counter interface {
	Received(source, kind string)
}

// Inbound stores updates in the queue, from the webhook or the long poller.
type Inbound struct {
	queue   Queue
	stats   Counter
	secret  string
	log     logrus.FieldLogger
	rewrite func(update []byte) ([]byte, error)
}

// InboundOption tunes NewInbound.
type InboundOption func(*Inbound)

// WithRewrite passes every update through f before it is queued: the one
// moment an update can still be changed before it reaches the database
// file (SealConnect keeps /connect tokens out of it). An error from f
// leaves the update unacknowledged, so Telegram delivers it again.
func WithRewrite(f func(update []byte) ([]byte, error)) InboundOption {
	return func(in *Inbound) { in.rewrite = f }
}

// NewInbound builds the inbound side; secret is the webhook's secret_token.
func NewInbound(q Queue, secret string, stats Counter, log logrus.FieldLogger, opts ...InboundOption) *Inbound {
	in := &Inbound{queue: q, stats: stats, secret: secret, log: log.WithField("component", "telegram")}
	for _, opt := range opts {
		opt(in)
	}
	return in
}

// errNoUpdateID refuses an update that cannot be deduplicated.
var errNoUpdateID = errors.New("update without update_id")

// Handler serves POST /webhook/telegram/: method, size, the secret token
// header (constant time), JSON, then a durable enqueue before the 200.
func (in *Inbound) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, msg := in.serve(w, r)
		if status >= 400 {
			in.log.WithField("status", status).Debugf("telegram webhook refused: %s", msg)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintln(w, msg)
	})
}

func (in *Inbound) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "use POST"
	}
	if r.ContentLength > MaxBody {
		return http.StatusRequestEntityTooLarge, "body larger than 1 MiB"
	}
	// The secret is a header: check it before reading a byte of the body.
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(in.secret)) != 1 {
		return http.StatusUnauthorized, "missing or wrong secret token"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, "body larger than 1 MiB"
	case err != nil:
		return http.StatusBadRequest, "cannot read the body"
	}
	if _, err := in.Store(body); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax), errors.As(err, &typ), err.Error() == "unexpected end of JSON input":
			return http.StatusBadRequest, "malformed update: " + err.Error()
		case errors.Is(err, errNoUpdateID):
			return http.StatusBadRequest, err.Error()
		}
		in.log.WithError(err).Error("telegram webhook: cannot queue")
		// Telegram retries failed deliveries: exactly what a full disk needs.
		return http.StatusServiceUnavailable, "cannot store the update, retry later"
	}
	return http.StatusOK, "ok"
}

// Store queues a raw update durably and returns its update_id; a
// redelivered update_id is acknowledged without being queued twice.
func (in *Inbound) Store(raw []byte) (int, error) {
	var head updateHead
	if err := json.Unmarshal(raw, &head); err != nil {
		return 0, err
	}
	if head.UpdateID <= 0 {
		return 0, errNoUpdateID
	}
	if in.rewrite != nil {
		var err error
		if raw, err = in.rewrite(raw); err != nil {
			return 0, fmt.Errorf("telegram: rewriting update %d: %w", head.UpdateID, err)
		}
	}
	it := storage.Item{Source: Source, Key: head.orderKey(), Group: head.album(), Payload: raw}
	_, dup, err := in.queue.Enqueue(it, "tg:"+strconv.Itoa(head.UpdateID), storage.DedupTTL)
	if err == nil && !dup && in.stats != nil {
		in.stats.Received(Source, head.kind())
	}
	return head.UpdateID, err
}

// updateHead is the part of an update needed to queue it.
type updateHead struct {
	UpdateID          int       `json:"update_id"`
	Message           *chatOnly `json:"message"`
	EditedMessage     *chatOnly `json:"edited_message"`
	ChannelPost       *chatOnly `json:"channel_post"`
	EditedChannelPost *chatOnly `json:"edited_channel_post"`
	CallbackQuery     *struct {
		From struct {
			ID int64 `json:"id"`
		} `json:"from"`
	} `json:"callback_query"`
}

type chatOnly struct {
	Chat struct {
		ID int64 `json:"id"`
	} `json:"chat"`
	MediaGroupID string `json:"media_group_id"`
	Text         string `json:"text"`
}

// kind names the update's type for metrics.
func (h *updateHead) kind() string {
	switch {
	case h.Message != nil:
		return "message"
	case h.EditedMessage != nil:
		return "edited_message"
	case h.ChannelPost != nil:
		return "channel_post"
	case h.EditedChannelPost != nil:
		return "edited_channel_post"
	case h.CallbackQuery != nil:
		return "callback_query"
	}
	return "other"
}

// orderKey keeps one chat's updates in order: a reply must not overtake
// the post it answers, nor an edit its message. Commands keep their own
// order beside it: nothing waits for them, and they must be answered even
// while a post of the same chat waits for Jira.
func (h *updateHead) orderKey() string {
	if m := h.Message; m != nil && strings.HasPrefix(m.Text, "/") {
		return "cmd:" + strconv.FormatInt(m.Chat.ID, 10)
	}
	for _, m := range []*chatOnly{h.Message, h.EditedMessage, h.ChannelPost, h.EditedChannelPost} {
		if m != nil {
			return "chat:" + strconv.FormatInt(m.Chat.ID, 10)
		}
	}
	if h.CallbackQuery != nil {
		return "user:" + strconv.FormatInt(h.CallbackQuery.From.ID, 10)
	}
	return ""
}

// album names the queue group of a new message that belongs to an album.
// Edits are not grouped: each edit stands alone.
func (h *updateHead) album() string {
	for _, m := range []*chatOnly{h.Message, h.ChannelPost} {
		if m != nil && m.MediaGroupID != "" {
			return AlbumPrefix + strconv.FormatInt(m.Chat.ID, 10) + ":" + m.MediaGroupID
		}
	}
	return ""
}
