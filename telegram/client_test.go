package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jtbot/jtbot/telegram"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

const token = "4242:client-test-token"

func newClient(t *testing.T, fake *telegramtest.Server) *telegram.Client {
	t.Helper()
	c, err := telegram.New(telegram.Options{APIURL: fake.URL, Token: token, HTTP: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A flood of courtesy lines (refusals, hints) to many strangers, mixed with
// answers that may wait a little, never takes the bot past Telegram's
// limits as the fake counts them: what does not fit is dropped (courtesy)
// or handed back as Limited (answers), never sent.
func TestFloodStaysInsideTelegramLimits(t *testing.T) {
	fake := telegramtest.NewServer(token)
	t.Cleanup(fake.Close)
	group := telegramtest.Chat{ID: -1001000000077, Type: "supergroup", Title: "busy"}
	fake.AddChat(group)
	for i := range 40 {
		fake.AddChat(telegramtest.Chat{ID: int64(9000 + i), Type: "private"})
	}
	c := newClient(t, fake)
	ctx := context.Background()
	var sent, dropped, limited int
	deadline := time.Now().Add(1500 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		stranger := int64(9000 + i%40)
		_, err := c.Send(ctx, telegram.Out{Chat: stranger, HTML: "⛔ You may not use this bot."})
		count(t, err, &sent, &dropped)
		if i%3 == 0 {
			_, err := c.Send(ctx, telegram.Out{Chat: group.ID, HTML: fmt.Sprintf("answer %d", i), Patience: 50 * time.Millisecond})
			count(t, err, &sent, &limited)
		}
	}
	if v := fake.LimitViolations(); len(v) > 0 {
		t.Fatalf("%d violations, first: %s", len(v), v[0])
	}
	if sent == 0 || dropped == 0 || limited == 0 {
		t.Fatalf("sent %d, dropped %d, limited %d: the flood did not reach the limits", sent, dropped, limited)
	}
	if sent != len(fake.Sent()) {
		t.Errorf("client counted %d sends, fake saw %d", sent, len(fake.Sent()))
	}
}

func count(t *testing.T, err error, sent, refused *int) {
	t.Helper()
	e, ok := telegram.AsError(err)
	switch {
	case err == nil:
		*sent++
	case ok && e.Limited && e.Temporary() && e.RetryAfter > 0:
		*refused++
	default:
		t.Fatalf("unexpected error %v", err)
	}
}

// After Telegram's 429 the chat is held for retry_after: the next send
// does not even reach Telegram.
func TestRetryAfterHoldsTheChat(t *testing.T) {
	fake := telegramtest.NewServer(token)
	t.Cleanup(fake.Close)
	fake.AddChat(telegramtest.Chat{ID: 77, Type: "private"})
	c := newClient(t, fake)
	fake.FailNext("sendMessage", 1, 429, "", 7)
	_, err := c.Send(context.Background(), telegram.Out{Chat: 77, HTML: "x"})
	e, ok := telegram.AsError(err)
	if !ok || e.Code != 429 || e.RetryAfter != 7*time.Second || e.Limited || !e.Temporary() {
		t.Fatalf("err = %#v", err)
	}
	calls := fake.CallCount("sendMessage")
	_, err = c.Send(context.Background(), telegram.Out{Chat: 77, HTML: "y"})
	if e, ok := telegram.AsError(err); !ok || !e.Limited || e.RetryAfter < 6*time.Second {
		t.Fatalf("second send: %v", err)
	}
	if fake.CallCount("sendMessage") != calls {
		t.Error("the held chat was sent to")
	}
}

// Telegram refusing our HTML gets the text plain, not lost.
func TestBadHTMLFallsBackToPlainText(t *testing.T) {
	fake := telegramtest.NewServer(token)
	t.Cleanup(fake.Close)
	fake.AddChat(telegramtest.Chat{ID: 78, Type: "private"})
	c := newClient(t, fake)
	m, err := c.Send(context.Background(), telegram.Out{Chat: 78, HTML: "<b>open <i>bad</b> &amp; done"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fake.Sent()[0]; got.ParseMode != "" || got.Text != "open bad & done" || m.ID != got.MessageID {
		t.Errorf("sent %+v", got)
	}
}

// The token never appears in an error, whatever the failure.
func TestErrorsNeverCarryTheToken(t *testing.T) {
	c, err := telegram.New(telegram.Options{APIURL: "http://127.0.0.1:1", Token: token, HTTP: &http.Client{Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), telegram.Out{Chat: 1, HTML: "x"})
	if err == nil || contains(err.Error(), token) {
		t.Fatalf("err = %v", err)
	}
	if e, ok := telegram.AsError(err); !ok || e.Code != 0 || !e.Temporary() {
		t.Errorf("unreachable Telegram: %#v", err)
	}
	if errors.Unwrap(err) != nil && contains(errors.Unwrap(err).Error(), token) {
		t.Error("wrapped error carries the token")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
