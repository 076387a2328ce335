package bot

import (
	"encoding/json"
	"errors"
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
			p.b.log.WithError(redactErr(err, p.b.cfg.TelegramToken)).Warn("telegram setWebhook failed, retrying")
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
			log.WithError(redactErr(err, p.b.cfg.TelegramToken)).Warn("telegram deleteWebhook failed, retrying")
		}
		return err
	})
	offset := 0
	retry(stop, func() error {
		next, err := p.poll(tg, offset)
		if err != nil {
			select {
			case <-stop: // the request was cut by Stop: not a failure
				return nil
			default:
			}
			log.WithError(redactErr(err, p.b.cfg.TelegramToken)).Warn("telegram getUpdates failed, backing off")
			return err
		}
		offset = next
		return errAgain
	})
}

var errNoUpdateID = errors.New("update without update_id")

// errAgain makes retry loop without backing off.
var errAgain = errors.New("again")

func (p *longPoller) poll(tg *tele.Bot, offset int) (int, error) {
	allowed, _ := json.Marshal(AllowedUpdates)
	data, err := tg.Raw("getUpdates", map[string]string{
		"offset":          strconv.Itoa(offset),
		"timeout":         strconv.Itoa(int(longPollTimeout / time.Second)),
		"allowed_updates": string(allowed),
	})
	if err != nil {
		return offset, err
	}
	var resp struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return offset, err
	}
	for _, raw := range resp.Result {
		id, err := p.b.queueUpdate(raw)
		if err != nil {
			return offset, err
		}
		offset = id + 1
	}
	return offset, nil
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
