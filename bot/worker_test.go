package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// The retry policy, row by row: the verdict travels on the error, never
// in its text.
func TestDecide(t *testing.T) {
	const attempts = 3 // backoff 8 s
	backoff := 8 * time.Second
	tg := func(code int, desc string) error {
		return fmt.Errorf("notify: %w", &telegram.Error{Method: "sendMessage", Code: code, Description: desc})
	}
	tests := []struct {
		name  string
		err   error
		retry bool
		after time.Duration
	}{
		{"database or other error", errors.New("bolt: disk full"), true, backoff},
		{"context cancelled", context.Canceled, true, backoff},
		{"telegram unreachable", &telegram.Error{Method: "sendMessage", Code: 0}, true, backoff},
		{"telegram 502", tg(502, "Bad Gateway"), true, backoff},
		{"telegram 429 with retry_after", &telegram.Error{Code: 429, RetryAfter: 30 * time.Second}, true, 30 * time.Second},
		{"telegram 429 without retry_after", &telegram.Error{Code: 429}, true, time.Second},
		{"our own rate limit", &telegram.Error{Code: 429, Limited: true, RetryAfter: 400 * time.Millisecond}, true, time.Second},
		{"telegram 400 bad request", tg(400, "Bad Request: message text is empty"), false, 0},
		{"chat not found", tg(400, "Bad Request: chat not found"), false, 0},
		{"bot blocked by the user", tg(403, "Forbidden: bot was blocked by the user"), false, 0},
		{"bot kicked from the group", tg(403, "Forbidden: bot was kicked from the supergroup chat"), false, 0},
		{"topic closed", tg(400, "Bad Request: TOPIC_CLOSED"), false, 0},
		{"jira unreachable", &jira.Error{Status: 0}, true, backoff},
		{"jira 503", &jira.Error{Status: 503}, true, backoff},
		{"jira 429 with Retry-After", &jira.Error{Status: 429, RetryAfter: time.Minute}, true, time.Minute},
		{"jira 429 without Retry-After", &jira.Error{Status: 429}, true, backoff},
		{"jira 401: a setting to fix", &jira.Error{Status: 401}, true, time.Minute},
		{"jira 403: a setting to fix", &jira.Error{Status: 403}, true, time.Minute},
		{"jira 400 refused field", &jira.Error{Status: 400, Message: "summary: too long"}, false, 0},
		{"jira 404", &jira.Error{Status: 404}, false, 0},
		{"permanent", permanent(errors.New("malformed update")), false, 0},
		{"transient wrapping a 404", transientError{&jira.Error{Status: 404}}, true, backoff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			retry, after := decide(tc.err, attempts)
			if retry != tc.retry || after != tc.after {
				t.Errorf("decide = (%v, %s), want (%v, %s)", retry, after, tc.retry, tc.after)
			}
		})
	}
}

// Telegram errors say what they mean for the chat.
func TestTelegramErrorVerdicts(t *testing.T) {
	tests := []struct {
		desc                         string
		code                         int
		gone, forbidden, topic, temp bool
	}{
		{"Bad Request: chat not found", 400, true, false, false, false},
		{"Forbidden: bot was blocked by the user", 403, true, true, false, false},
		{"Forbidden: user is deactivated", 403, true, true, false, false},
		{"Bad Request: group chat was upgraded to a supergroup chat", 400, true, false, false, false},
		{"Bad Request: TOPIC_CLOSED", 400, false, false, true, false},
		{"Bad Request: message thread not found", 400, false, false, true, false},
		{"Too Many Requests: retry after 5", 429, false, false, false, true},
		{"Internal Server Error", 500, false, false, false, true},
	}
	for _, tc := range tests {
		e := &telegram.Error{Code: tc.code, Description: tc.desc}
		if e.ChatGone() != tc.gone || e.Forbidden() != tc.forbidden || e.TopicClosed() != tc.topic || e.Temporary() != tc.temp {
			t.Errorf("%q: gone %v forbidden %v topic %v temporary %v", tc.desc, e.ChatGone(), e.Forbidden(), e.TopicClosed(), e.Temporary())
		}
	}
}

// A thousand items waiting for a retry neither make the worker spin nor
// hide the ready items behind them: one pass answers the five commands of
// other chats queued after them, and asks to look again only when the
// first waiting item is due.
func TestWorkerSkipsWaitingItems(t *testing.T) {
	r := newClockRig(t)
	var waiting []uint64
	for i := range 1000 {
		id, _, err := r.store.Enqueue(storage.Item{Source: "jira", Key: fmt.Sprintf("issue:OPS-%d", i), Payload: []byte(`{}`)}, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		waiting = append(waiting, id)
	}
	if err := r.store.RetryAll(waiting, r.now().Add(time.Hour), "jira is down"); err != nil {
		t.Fatal(err)
	}
	inbound := telegram.NewInbound(r.store, r.cfg.TelegramWebhookSecret, nil, logrus.New())
	for i := range 5 {
		user := telegramtest.User{ID: int64(700 + i), FirstName: "U"}
		up := r.tg.PrivateMessage(user, "/help")
		up["update_id"] = 100 + i
		raw, _ := json.Marshal(up)
		if _, err := inbound.Store(raw); err != nil {
			t.Fatal(err)
		}
	}
	wait := r.drain()
	if n := len(r.tg.Sent()); n != 5 {
		t.Errorf("one pass answered %d of 5 commands", n)
	}
	if wait < 59*time.Minute || wait > time.Hour {
		t.Errorf("next look in %s, want when the first waiting item is due (1h)", wait)
	}
	if queued, _ := r.store.Depth(); queued != 1000 {
		t.Errorf("%d items queued, want the 1000 waiting ones", queued)
	}
}
