package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/jtbot/jtbot/storage"
	tele "gopkg.in/telebot.v3"
)

// longPollTimeout is how long one getUpdates call waits for updates.
const longPollTimeout = 30 * time.Second

func (b *Bot) poller() tele.Poller {
	if b.cfg.Poll {
		return &longPoller{b: b}
	}
	return &webhookPoller{b: b}
}

// webhookPoller registers the webhook and waits: updates arrive through
// WebhookHandler on jtbot's own listener. (telebot's Webhook poller runs its
// own server, panics on Stop and checks the secret in variable time.)
type webhookPoller struct{ b *Bot }

func (p *webhookPoller) Poll(tg *tele.Bot, _ chan tele.Update, stop chan struct{}) {
	hook := &tele.Webhook{
		Endpoint:       &tele.WebhookEndpoint{PublicURL: p.b.cfg.TelegramWebhookURL, Cert: p.b.cert},
		SecretToken:    p.b.cfg.TelegramWebhookSecret,
		AllowedUpdates: AllowedUpdates,
	}
	retry(stop, func() error {
		err := tg.SetWebhook(hook)
		if err != nil {
			p.b.log.WithError(RedactToken(err, p.b.cfg.TelegramToken)).Warn("telegram setWebhook failed, retrying")
		} else {
			p.b.log.Info("telegram webhook registered")
		}
		return err
	})
	<-stop
}

// longPoller is for -poll: it removes any webhook, then long-polls, and
// queues every update durably before the next call confirms its offset.
type longPoller struct{ b *Bot }

func (p *longPoller) Poll(tg *tele.Bot, _ chan tele.Update, stop chan struct{}) {
	log := p.b.log.WithField("mode", "poll")
	retry(stop, func() error {
		// Pending updates are kept: they are ours to handle.
		err := tg.RemoveWebhook(false)
		if err != nil {
			log.WithError(RedactToken(err, p.b.cfg.TelegramToken)).Warn("telegram deleteWebhook failed, retrying")
		}
		return err
	})
	// Our own request, cancelled by stop: telebot's Raw can miss a Stop that
	// lands as a request starts, leaving a 30 s poll (and shutdown) hanging.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	offset := 0
	retry(stop, func() error {
		next, err := p.poll(ctx, offset)
		if err != nil {
			if ctx.Err() != nil { // the request was cut by Stop: not a failure
				return nil
			}
			log.WithError(RedactToken(err, p.b.cfg.TelegramToken)).Warn("telegram getUpdates failed, backing off")
			return err
		}
		offset = next
		return errAgain
	})
}

// errAgain makes retry loop without backing off.
var errAgain = errors.New("again")

var errNoUpdateID = errors.New("update without update_id")

func (p *longPoller) poll(ctx context.Context, offset int) (int, error) {
	updates, err := p.b.getUpdates(ctx, offset)
	if err != nil {
		return offset, err
	}
	for _, raw := range updates {
		id, err := p.b.queueUpdate(raw)
		if err != nil {
			return offset, err
		}
		offset = id + 1
	}
	return offset, nil
}

// getUpdates is one long poll, returning the raw updates so that they are
// queued byte for byte.
func (b *Bot) getUpdates(ctx context.Context, offset int) ([]json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(longPollTimeout / time.Second),
		"allowed_updates": AllowedUpdates,
	})
	url := b.cfg.TelegramAPIURL + "/bot" + b.cfg.TelegramToken + "/getUpdates"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		Code        int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %s, unreadable answer", resp.Status)
	}
	if !out.OK {
		return nil, fmt.Errorf("telegram: getUpdates: %s (%d)", out.Description, out.Code)
	}
	return out.Result, nil
}

// retry calls f until it returns nil or stop closes, backing off from 1 s to
// 30 s after failures. errAgain repeats at once.
func retry(stop chan struct{}, f func() error) {
	delay := time.Second
	for {
		select {
		case <-stop:
			return
		default:
		}
		err := f()
		switch {
		case err == nil:
			return
		case errors.Is(err, errAgain):
			delay = time.Second
			continue
		}
		select {
		case <-stop:
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// queueUpdate stores a raw update durably; a redelivered update_id is
// acknowledged without being queued twice.
func (b *Bot) queueUpdate(raw []byte) (int, error) {
	var head updateHead
	if err := json.Unmarshal(raw, &head); err != nil {
		return 0, err
	}
	if head.UpdateID <= 0 {
		return 0, errNoUpdateID
	}
	it := storage.Item{Source: "telegram", Key: head.orderKey(), Group: head.album(), Payload: raw}
	_, dup, err := b.store.Enqueue(it, "tg:"+strconv.Itoa(head.UpdateID), 24*time.Hour)
	if err == nil && !dup {
		b.stats.Received("telegram", head.kind())
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
// the post it answers.
func (h *updateHead) orderKey() string {
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
