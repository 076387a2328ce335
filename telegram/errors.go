package telegram

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"
)

// Error is a failed Bot API call. Code is Telegram's error_code (an HTTP
// status); 0 means Telegram was not reached or its answer was unreadable.
type Error struct {
	Method      string
	Code        int
	Description string
	// RetryAfter is Telegram's parameters.retry_after, or how long jtbot's
	// own limiter wants the send to wait (Limited).
	RetryAfter time.Duration
	// Limited marks a send that jtbot held back itself to stay inside
	// Telegram's limits: nothing was sent, nothing failed.
	Limited bool
	err     error
}

func (e *Error) Error() string {
	switch {
	case e.Limited:
		return fmt.Sprintf("telegram: %s: rate limit, waiting %s", e.Method, e.RetryAfter.Round(time.Millisecond))
	case e.Code == 0:
		return fmt.Sprintf("telegram: %s: %v", e.Method, e.err)
	}
	return fmt.Sprintf("telegram: %s: %s (%d)", e.Method, e.Description, e.Code)
}

func (e *Error) Unwrap() error { return e.err }

// Temporary says whether the same call may work later: Telegram was out of
// reach, failed (5xx) or asked to slow down (429, or our own limiter).
func (e *Error) Temporary() bool {
	return e.Limited || e.Code == 0 || e.Code == http.StatusTooManyRequests || e.Code >= 500
}

// Forbidden says the bot may not write there (kicked, blocked by the user,
// not an admin of the channel).
func (e *Error) Forbidden() bool { return e.Code == http.StatusForbidden }

// ChatGone says the chat no longer exists for the bot: deleted, upgraded to
// a supergroup, the bot removed or blocked, the user deactivated. Whatever
// was meant for it can be dropped.
func (e *Error) ChatGone() bool {
	if e.Forbidden() {
		return true
	}
	d := strings.ToLower(e.Description)
	return e.Code == http.StatusBadRequest && (strings.Contains(d, "chat not found") ||
		strings.Contains(d, "group chat was upgraded") || strings.Contains(d, "chat was deactivated") ||
		strings.Contains(d, "peer_id_invalid"))
}

// TopicClosed says a forum topic refuses messages (closed or deleted).
func (e *Error) TopicClosed() bool {
	d := strings.ToUpper(e.Description)
	return e.Code == http.StatusBadRequest && (strings.Contains(d, "TOPIC_CLOSED") ||
		strings.Contains(d, "TOPIC_DELETED") || strings.Contains(d, "MESSAGE THREAD NOT FOUND"))
}

// NotModified is Telegram refusing an edit that changes nothing.
func (e *Error) NotModified() bool {
	return e.Code == http.StatusBadRequest && strings.Contains(e.Description, "message is not modified")
}

// MessageGone is an edit or delete of a message that no longer exists.
func (e *Error) MessageGone() bool {
	d := e.Description
	return e.Code == http.StatusBadRequest && (strings.Contains(d, "message to edit not found") ||
		strings.Contains(d, "message to delete not found") || strings.Contains(d, "MESSAGE_ID_INVALID"))
}

// BadHTML is Telegram refusing our HTML; the text can go out plain.
func (e *Error) BadHTML() bool {
	return e.Code == http.StatusBadRequest && strings.Contains(e.Description, "can't parse entities")
}

// AsError finds the *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// telebotCode reads the code of an error telebot only has as text:
// "telegram: <description> (<code>)".
var telebotCode = regexp.MustCompile(`^telegram: (.*) \((\d{3})\)$`)

// wrap turns what telebot returned into an *Error, with the token removed
// from every text (it is part of each Bot API URL, and net/http quotes URLs).
func (c *Client) wrap(method string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := AsError(err); ok {
		return e
	}
	e := &Error{Method: method}
	var flood tele.FloodError
	var te *tele.Error
	var ge tele.GroupError
	switch {
	case errors.As(err, &flood):
		e.Code = http.StatusTooManyRequests
		e.Description = "Too Many Requests"
		e.RetryAfter = time.Duration(max(flood.RetryAfter, 1)) * time.Second
	case errors.As(err, &ge):
		e.Code = http.StatusBadRequest
		e.Description = "Bad Request: group chat was upgraded to a supergroup chat"
	case errors.As(err, &te):
		e.Code, e.Description = te.Code, te.Description
	default:
		if m := telebotCode.FindStringSubmatch(err.Error()); m != nil {
			e.Code, _ = strconv.Atoi(m[2])
			e.Description = m[1]
		} else {
			e.err = RedactToken(err, c.token)
		}
	}
	if e.Description == "" && e.err == nil {
		e.Description = RedactToken(err, c.token).Error()
	}
	e.Description = redactString(e.Description, c.token)
	return e
}

// RedactToken removes the bot token from an error: it is part of every Bot
// API URL, and net/http puts URLs in its errors.
func RedactToken(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(redactString(err.Error(), token))
}

func redactString(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<token>")
}
