package bot

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/jtbot/jtbot/jira"
)

// WebhookHandler serves POST /webhook/telegram/: method, size, the secret
// token header (constant time), JSON, then a durable enqueue before the 200.
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, msg := b.serveWebhook(r)
		if status >= 400 {
			b.log.WithField("status", status).Debugf("telegram webhook refused: %s", msg)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintln(w, msg)
	})
}

func (b *Bot) serveWebhook(r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "use POST"
	}
	if r.ContentLength > jira.MaxBody {
		return http.StatusRequestEntityTooLarge, "body larger than 1 MiB"
	}
	// The secret is a header: check it before reading a byte of the body.
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(b.cfg.TelegramWebhookSecret)) != 1 {
		return http.StatusUnauthorized, "missing or wrong secret token"
	}
	body, status, msg := jira.ReadBody(r)
	if status != 0 {
		return status, msg
	}
	if _, err := b.queueUpdate(body); err != nil {
		if isJSONError(err) {
			return http.StatusBadRequest, "malformed update: " + err.Error()
		}
		if errors.Is(err, errNoUpdateID) {
			return http.StatusBadRequest, err.Error()
		}
		b.log.WithError(err).Error("telegram webhook: cannot queue")
		// Telegram retries failed deliveries: exactly what a full disk needs.
		return http.StatusServiceUnavailable, "cannot store the update, retry later"
	}
	return http.StatusOK, "ok"
}
