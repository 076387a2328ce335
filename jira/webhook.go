package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/metrics"
	"github.com/jtbot/jtbot/storage"
)

// MaxBody caps a webhook body (DESIGN §2).
const MaxBody = 1 << 20

// Queue is where accepted webhooks go; storage.Store is one.
type Queue interface {
	Enqueue(it storage.Item, dedupKey string, ttl time.Duration) (uint64, bool, error)
}

var _ Queue = (*storage.Store)(nil)

// WebhookHandler serves POST /webhook/jira/: method, size, authentication,
// JSON, then a durable enqueue before the 200. It never answers 5xx for a
// bad request, because Jira retries 5xx.
func WebhookHandler(secret string, q Queue, m *metrics.Metrics, log logrus.FieldLogger) http.Handler {
	return &webhook{secret: []byte(secret), queue: q, metrics: m, log: log}
}

type webhook struct {
	secret  []byte
	queue   Queue
	metrics *metrics.Metrics
	log     logrus.FieldLogger
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, msg := h.serve(r)
	if status >= 400 {
		h.log.WithField("status", status).Debugf("jira webhook refused: %s", msg)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

func (h *webhook) serve(r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "use POST"
	}
	body, status, msg := ReadBody(r)
	if status != 0 {
		return status, msg
	}
	if !h.authentic(r, body) {
		return http.StatusUnauthorized, "missing or wrong signature"
	}
	ev, err := ParseEvent(body)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	if ev.WebhookEvent == "" {
		return http.StatusBadRequest, "jira: webhook JSON has no webhookEvent"
	}
	if !Known(ev.WebhookEvent) {
		h.log.WithField("event", ev.WebhookEvent).Debug("jira webhook: event ignored")
		return http.StatusAccepted, "event ignored"
	}
	if ev.WebhookEvent == EventAttachmentCreated && ev.IssueID() == "" && ev.IssueKey() == "" {
		// Jira Cloud may send attachment_created with only the attachment
		// (DESIGN §4): nothing names the issue, and the issue's own
		// jira:issue_updated ("Attachment" changelog item) shows the file.
		// A 4xx would only make Jira count a failure.
		h.log.WithField("event", ev.WebhookEvent).Debug("jira webhook: attachment event without an issue ignored")
		return http.StatusAccepted, "attachment event without an issue: nothing to do"
	}
	if ev.IssueID() == "" && ev.IssueKey() == "" {
		return http.StatusBadRequest, "jira: webhook JSON names no issue"
	}
	return h.enqueue(r, ev, body)
}

func (h *webhook) enqueue(r *http.Request, ev *Event, body []byte) (int, string) {
	it := storage.Item{Source: "jira", Key: "issue:" + ev.IssueID(), Group: burstGroup(ev), Payload: body}
	_, dup, err := h.queue.Enqueue(it, DeliveryID(r.Header, body), storage.DedupTTL)
	if err != nil {
		// Jira retries on 5xx, which is what we want when the disk fails.
		h.log.WithError(err).Error("jira webhook: cannot queue")
		return http.StatusServiceUnavailable, "cannot store the event, retry later"
	}
	if dup {
		return http.StatusOK, "duplicate delivery ignored"
	}
	h.metrics.Received("jira", ev.WebhookEvent)
	h.log.WithField("event", ev.WebhookEvent).Debug("jira webhook queued")
	return http.StatusOK, "ok"
}

// burstGroup joins the events of one project, so that the worker handles a
// burst (one issue edited several times, or a bulk edit of many issues) as
// one batch after COALESCE_WINDOW of quiet. Data Center comment events name
// no project: they group by issue.
func burstGroup(ev *Event) string {
	if ev.Issue != nil && ev.Issue.Fields.Project != nil && ev.Issue.Fields.Project.Key != "" {
		return "jira:" + string(ev.Issue.Fields.Project.Key)
	}
	if project, _, ok := strings.Cut(ev.IssueKey(), "-"); ok {
		return "jira:" + project
	}
	return "issue:" + ev.IssueID()
}

// DeliveryID names one delivery for dedup: Jira's identifier header, or a
// hash of the body when there is none.
func DeliveryID(h http.Header, body []byte) string {
	if id := h.Get("X-Atlassian-Webhook-Identifier"); id != "" {
		return "jira:" + id
	}
	sum := sha256.Sum256(body)
	return "jira-body:" + hex.EncodeToString(sum[:16])
}

// ReadBody reads a request body of at most MaxBody bytes. A non-zero status
// is the answer to give when it cannot.
func ReadBody(r *http.Request) (body []byte, status int, msg string) {
	if r.ContentLength > MaxBody {
		return nil, http.StatusRequestEntityTooLarge, "body larger than 1 MiB"
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, "body larger than 1 MiB"
	case err != nil:
		return nil, http.StatusBadRequest, "cannot read body"
	}
	return body, 0, ""
}

// authentic accepts an X-Hub-Signature HMAC of the body, or the secret as a
// query parameter for Jira versions and Automation rules that cannot sign.
// An empty secret authenticates nothing.
func (h *webhook) authentic(r *http.Request, body []byte) bool {
	if len(h.secret) == 0 {
		return false
	}
	for _, name := range []string{"X-Hub-Signature", "X-Hub-Signature-256"} {
		if sig := r.Header.Get(name); sig != "" {
			return VerifySignature(h.secret, body, sig)
		}
	}
	if q := r.URL.Query().Get("secret"); q != "" {
		return subtle.ConstantTimeCompare([]byte(q), h.secret) == 1
	}
	return false
}

// VerifySignature checks "sha256=<hex HMAC-SHA256(secret, body)>" in
// constant time.
func VerifySignature(secret, body []byte, header string) bool {
	algo, hexSig, ok := strings.Cut(header, "=")
	if !ok || !strings.EqualFold(algo, "sha256") {
		return false
	}
	got, err := hex.DecodeString(strings.TrimSpace(hexSig))
	if err != nil {
		return false
	}
	return hmac.Equal(got, Sign(secret, body))
}

// Sign computes the HMAC-SHA256 of body, as Jira does for X-Hub-Signature.
func Sign(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}
