package oauth

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/jira"
)

// ErrBadState: the state is unknown, expired or already used. A
// StateTaker's error wraps it for those; any other error is its own
// failure.
var ErrBadState = errors.New("unknown, expired or used state")

// StateTaker hands out, once, what /connect stored with a state.
type StateTaker interface {
	TakeState(state string, now time.Time) (telegramID int64, verifier string, err error)
}

// Saver keeps a new connection (and tells the person).
type Saver interface {
	Connected(ctx context.Context, telegramID int64, g Grant, me jira.User) error
}

// Callback serves GET /oauth/jira/callback: it checks the state, trades
// the code for a grant, asks Jira who the grant acts as and hands both to
// saver. Anything wrong ends on a short page and nothing is saved. Codes,
// states and tokens never reach the log: it records outcomes only.
func Callback(p *Provider, states StateTaker, saver Saver, log logrus.FieldLogger, now func() time.Time) http.Handler {
	return &callback{p: p, states: states, saver: saver, log: log.WithField("component", "oauth"), now: now}
}

type callback struct {
	p      *Provider
	states StateTaker
	saver  Saver
	log    logrus.FieldLogger
	now    func() time.Time
}

// outcome is a finished callback: what the person reads, and what the log
// says.
type outcome struct {
	status int
	page   string
	log    string
	err    error
}

// Pages.
const (
	pageBadState   = "This sign-in link is unknown, expired or already used. Send /connect to the bot again."
	pageDenied     = "Jira did not grant access, so nothing was connected. Send /connect to the bot to try again."
	pageNoCode     = "Jira sent no sign-in code back, so nothing was connected. Send /connect to the bot to try again."
	pageRefused    = "Jira refused this sign-in (it may have expired), so nothing was connected. Send /connect to the bot again."
	pageWrongSite  = "This Jira account has no access to the Jira site this bot works with. Sign in with an account of that site, then send /connect again."
	pageUnreachble = "Jira could not be reached to finish the sign-in. Send /connect to the bot again in a moment."
	pageOwnFault   = "Something went wrong on the bot's side, so nothing was connected. Send /connect to the bot again."
)

func (h *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	o := h.handle(r)
	entry := h.log.WithField("outcome", o.log).WithField("status", o.status)
	if o.err != nil {
		entry = entry.WithError(o.err)
	}
	if o.status == http.StatusOK {
		entry.Info("jira account connected")
	} else {
		entry.Warn("jira connection failed")
	}
	writePage(w, o.status, o.page)
}

func (h *callback) handle(r *http.Request) outcome {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		return outcome{status: 400, page: pageBadState, log: "no state"}
	}
	tgID, verifier, err := h.states.TakeState(state, h.now())
	switch {
	case errors.Is(err, ErrBadState):
		return outcome{status: 400, page: pageBadState, log: "bad state"}
	case err != nil:
		return outcome{status: 500, page: pageOwnFault, log: "state store failed", err: err}
	}
	// The provider's error code is a fixed word (RFC 6749 §4.1.2.1), but
	// the description is free text: neither is shown, the code is logged.
	if code := q.Get("error"); code != "" {
		return outcome{status: 400, page: pageDenied, log: "provider error " + oauthWord(code)}
	}
	code := q.Get("code")
	if code == "" {
		return outcome{status: 400, page: pageNoCode, log: "no code"}
	}
	return h.connect(r.Context(), tgID, code, verifier)
}

// connect exchanges the code, reads the account and saves both.
func (h *callback) connect(ctx context.Context, tgID int64, code, verifier string) outcome {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	g, err := h.p.Exchange(ctx, code, verifier)
	switch {
	case errors.Is(err, ErrWrongSite):
		return outcome{status: 400, page: pageWrongSite, log: "wrong site"}
	case errors.Is(err, ErrRefused):
		return outcome{status: 400, page: pageRefused, log: "code refused", err: err}
	case err != nil:
		return outcome{status: 502, page: pageUnreachble, log: "exchange failed", err: err}
	}
	jc, err := h.p.Client(g, nil)
	if err != nil {
		return outcome{status: 500, page: pageOwnFault, log: "client failed", err: err}
	}
	me, err := jc.Myself(ctx)
	switch {
	case err != nil && isTemporary(err):
		return outcome{status: 502, page: pageUnreachble, log: "myself failed", err: err}
	case err != nil:
		return outcome{status: 400, page: pageRefused, log: "myself refused", err: err}
	}
	if err := h.saver.Connected(ctx, tgID, g, me); err != nil {
		return outcome{status: 500, page: pageOwnFault, log: "save failed", err: err}
	}
	return outcome{status: 200, page: fmt.Sprintf("Connected as %s. You can go back to Telegram.", me.Display()), log: "connected"}
}

func isTemporary(err error) bool {
	var je *jira.Error
	return !errors.As(err, &je) || je.Temporary()
}

// oauthWord keeps of a provider's error code only what an RFC 6749 code
// is made of, so that the query string cannot write into the log.
func oauthWord(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() < 40 && (r == '_' || r >= 'a' && r <= 'z') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// writePage answers with a tiny HTML page. The callback URL carries the
// code: no-referrer keeps it from leaking to any link, no-store from
// caches.
func writePage(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>jtbot</title>"+
		"<meta name=\"viewport\" content=\"width=device-width\"></head>\n"+
		"<body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\"><p>%s</p></body></html>\n",
		html.EscapeString(msg))
}
