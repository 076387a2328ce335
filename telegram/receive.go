package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// longPollTimeout is how long one getUpdates call waits for updates.
const longPollTimeout = 30 * time.Second

// Receiver brings updates in: in webhook mode it registers the webhook
// (updates then arrive through Inbound.Handler on jtbot's own listener; we
// don't use telebot's Webhook poller, which runs its own server, panics on
// Stop and compares the secret in variable time); in poll mode it deletes
// any webhook and long-polls.
type Receiver struct {
	c       *Client
	in      *Inbound
	hook    *Webhook // nil: long polling
	running atomic.Bool
	ready   chan struct{} // closed once updates flow
	once    sync.Once
}

// NewReceiver receives through a webhook when hook is not nil, else by
// long polling.
func NewReceiver(c *Client, in *Inbound, hook *Webhook) *Receiver {
	return &Receiver{c: c, in: in, hook: hook, ready: make(chan struct{})}
}

// Healthy reports why updates are not flowing, or nil.
func (r *Receiver) Healthy() error {
	if !r.running.Load() {
		return errors.New("telegram side not running")
	}
	return nil
}

// Ready is closed once updates flow (the webhook is set, or any webhook is
// deleted and polling starts).
func (r *Receiver) Ready() <-chan struct{} { return r.ready }

func (r *Receiver) started(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	r.running.Store(true)
	r.once.Do(func() { close(r.ready) })
}

// Run receives until ctx ends.
func (r *Receiver) Run(ctx context.Context) {
	defer r.running.Store(false)
	if r.hook != nil {
		r.runWebhook(ctx)
		return
	}
	r.runLongPoll(ctx)
}

func (r *Receiver) runWebhook(ctx context.Context) {
	log := r.c.log
	retry(ctx, func() error {
		err := r.c.SetWebhook(ctx, *r.hook)
		if err != nil {
			log.WithError(err).Warn("telegram setWebhook failed, retrying")
		} else {
			log.Info("telegram webhook registered")
		}
		return err
	})
	r.started(ctx)
	<-ctx.Done()
}

func (r *Receiver) runLongPoll(ctx context.Context) {
	log := r.c.log.WithField("mode", "poll")
	retry(ctx, func() error {
		// Pending updates are kept: they are ours to handle.
		err := r.c.DeleteWebhook(ctx, false)
		if err != nil {
			log.WithError(err).Warn("telegram deleteWebhook failed, retrying")
		}
		return err
	})
	r.started(ctx)
	offset := 0
	retry(ctx, func() error {
		next, err := r.poll(ctx, offset)
		if err != nil {
			if ctx.Err() != nil { // the request was cut by the stop: not a failure
				return nil
			}
			log.WithError(err).Warn("telegram getUpdates failed, backing off")
			return err
		}
		offset = next
		return errAgain
	})
}

// poll is one getUpdates; every update is queued before the next call
// confirms its offset.
func (r *Receiver) poll(ctx context.Context, offset int) (int, error) {
	updates, err := r.c.getUpdates(ctx, offset, longPollTimeout)
	if err != nil {
		return offset, err
	}
	for _, raw := range updates {
		id, err := r.in.Store(raw)
		if err != nil {
			return offset, err
		}
		offset = id + 1
	}
	return offset, nil
}

// getUpdates is one long poll with our own request, cancelled with ctx
// (telebot's Raw can miss a stop that lands as a request starts, leaving a
// 30 s poll, and shutdown, hanging). Updates come back raw so that they are
// queued byte for byte.
func (c *Client) getUpdates(ctx context.Context, offset int, timeout time.Duration) ([]json.RawMessage, error) {
	const method = "getUpdates"
	body, _ := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(timeout / time.Second),
		"allowed_updates": AllowedUpdates(),
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api+"/bot"+c.token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Method: method, err: RedactToken(err, c.token)}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &Error{Method: method, err: RedactToken(err, c.token)}
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
		return nil, &Error{Method: method, err: fmt.Errorf("%s, unreadable answer", resp.Status)}
	}
	if !out.OK {
		return nil, &Error{Method: method, Code: out.Code, Description: out.Description,
			RetryAfter: time.Duration(out.Parameters.RetryAfter) * time.Second}
	}
	return out.Result, nil
}

// errAgain makes retry loop without backing off.
var errAgain = errors.New("again")

// retry calls f until it returns nil or ctx ends, backing off from 1 s to
// 30 s after failures. errAgain repeats at once.
func retry(ctx context.Context, f func() error) {
	delay := time.Second
	for ctx.Err() == nil {
		err := f()
		switch {
		case err == nil:
			return
		case errors.Is(err, errAgain):
			delay = time.Second
			continue
		}
		if sleep(ctx, delay) != nil {
			return
		}
		delay = min(delay*2, 30*time.Second)
	}
}
