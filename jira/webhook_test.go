package jira

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/storage"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

const testSecret = "jira-webhook-secret"

func newStore(t *testing.T) *storage.Store {
	t.Helper()
	s, err := storage.Open(filepath.Join(t.TempDir(), "jtbot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func signature(body []byte) string {
	return "sha256=" + hex.EncodeToString(Sign([]byte(testSecret), body))
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type request struct {
	method string
	target string
	body   []byte
	header map[string]string
}

func TestWebhookStatusCodes(t *testing.T) {
	created := fixture(t, "cloud-comment-created.json")
	unknown := []byte(`{"webhookEvent":"worklog_created","worklog":{}}`)
	noIssue := []byte(`{"webhookEvent":"comment_created","comment":{"id":"1"}}`)
	// The Cloud fixture without its issue: the shape DESIGN §4 says Cloud
	// may send.
	bareAttachment := withoutIssue(t, fixture(t, "cloud-attachment-created.json"))
	withAttachment := fixture(t, "cloud-attachment-created.json")
	big := append([]byte(`{"webhookEvent":"comment_created","x":"`), bytes.Repeat([]byte("a"), MaxBody)...)
	big = append(big, `"}`...)

	tests := []struct {
		name   string
		req    request
		status int
		queued int
		reason string
	}{
		{"signed", request{"POST", "/webhook/jira/", created, map[string]string{"X-Hub-Signature": signature(created)}}, 200, 1, "ok"},
		{"query secret", request{"POST", "/webhook/jira/?secret=" + testSecret, created, nil}, 200, 1, "ok"},
		{"wrong method", request{"GET", "/webhook/jira/", nil, nil}, 405, 0, "use POST"},
		{"no auth", request{"POST", "/webhook/jira/", created, nil}, 401, 0, "signature"},
		{"wrong signature", request{"POST", "/webhook/jira/", created, map[string]string{"X-Hub-Signature": "sha256=" + strings.Repeat("0", 64)}}, 401, 0, "signature"},
		{"signature of other body", request{"POST", "/webhook/jira/", created, map[string]string{"X-Hub-Signature": signature([]byte("x"))}}, 401, 0, "signature"},
		{"not hex", request{"POST", "/webhook/jira/", created, map[string]string{"X-Hub-Signature": "sha256=zz"}}, 401, 0, "signature"},
		{"sha1 refused", request{"POST", "/webhook/jira/", created, map[string]string{"X-Hub-Signature": "sha1=abc"}}, 401, 0, "signature"},
		{"wrong query secret", request{"POST", "/webhook/jira/?secret=nope", created, nil}, 401, 0, "signature"},
		{"too large", request{"POST", "/webhook/jira/", big, map[string]string{"X-Hub-Signature": signature(big)}}, 413, 0, "1 MiB"},
		{"malformed", request{"POST", "/webhook/jira/", []byte(`{"webhookEvent":`), map[string]string{"X-Hub-Signature": signature([]byte(`{"webhookEvent":`))}}, 400, 0, "malformed"},
		{"wrong types", request{"POST", "/webhook/jira/", []byte(`{"webhookEvent":"comment_created","issue":[1]}`), map[string]string{"X-Hub-Signature": signature([]byte(`{"webhookEvent":"comment_created","issue":[1]}`))}}, 400, 0, "malformed"},
		{"no event", request{"POST", "/webhook/jira/", []byte(`{}`), map[string]string{"X-Hub-Signature": signature([]byte(`{}`))}}, 400, 0, "no webhookEvent"},
		{"no issue", request{"POST", "/webhook/jira/", noIssue, map[string]string{"X-Hub-Signature": signature(noIssue)}}, 400, 0, "names no issue"},
		{"attachment without issue", request{"POST", "/webhook/jira/", bareAttachment, map[string]string{"X-Hub-Signature": signature(bareAttachment)}}, 202, 0, "nothing to do"},
		{"attachment with issue", request{"POST", "/webhook/jira/", withAttachment, map[string]string{"X-Hub-Signature": signature(withAttachment)}}, 200, 1, "ok"},
		{"unknown event", request{"POST", "/webhook/jira/", unknown, map[string]string{"X-Hub-Signature": signature(unknown)}}, 202, 0, "ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t)
			h := WebhookHandler(testSecret, store, nil, logrus.New())
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.req.method, tt.req.target, bytes.NewReader(tt.req.body))
			for k, v := range tt.req.header {
				req.Header.Set(k, v)
			}
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status = %d (%s), want %d", rec.Code, rec.Body, tt.status)
			}
			if !strings.Contains(rec.Body.String(), tt.reason) {
				t.Errorf("body %q lacks %q", rec.Body, tt.reason)
			}
			if q, _ := store.Depth(); q != tt.queued {
				t.Errorf("queued %d, want %d", q, tt.queued)
			}
		})
	}
}

func TestWebhookWithoutSecretRefusesAll(t *testing.T) {
	store := newStore(t)
	h := WebhookHandler("", store, nil, logrus.New())
	body := fixture(t, "cloud-comment-created.json")
	for _, target := range []string{"/webhook/jira/", "/webhook/jira/?secret="} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", target, bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(Sign(nil, body)))
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", target, rec.Code)
		}
	}
}

func TestWebhookDeliveredOnce(t *testing.T) {
	store := newStore(t)
	h := WebhookHandler(testSecret, store, nil, logrus.New())
	body := fixture(t, "cloud-issue-updated-status-in-progress.json")
	send := func(id string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/webhook/jira/", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature", signature(body))
		if id != "" {
			req.Header.Set("X-Atlassian-Webhook-Identifier", id)
		}
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, id := range []string{"delivery-1", "delivery-1", "", ""} {
		if code := send(id); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	// One per identifier, and one for the unsigned-identifier body hash.
	if q, _ := store.Depth(); q != 2 {
		t.Errorf("queued %d, want 2", q)
	}
	items, _ := store.Pending(0)
	if items[0].Key != "issue:10040" || !bytes.Equal(items[0].Payload, body) {
		t.Errorf("item = key %q, payload %d bytes", items[0].Key, len(items[0].Payload))
	}
}

func TestEveryFixtureIsAccepted(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	if len(names) < 15 {
		t.Fatalf("found %d fixtures", len(names))
	}
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			store := newStore(t)
			h := WebhookHandler(testSecret, store, nil, logrus.New())
			body := fixture(t, name)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/webhook/jira/", bytes.NewReader(body))
			req.Header.Set("X-Hub-Signature", signature(body))
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			ev, err := ParseEvent(body)
			if err != nil {
				t.Fatal(err)
			}
			if ev.IssueID() == "" {
				t.Errorf("no issue id found")
			}
		})
	}
}

func TestServerCommentEventNamesIssueByURL(t *testing.T) {
	ev, err := ParseEvent(fixture(t, "server-comment-updated.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Issue != nil {
		t.Fatalf("fixture unexpectedly has an issue object")
	}
	if got := ev.IssueID(); got != "10013" {
		t.Errorf("IssueID = %q, want 10013", got)
	}
	if ev.Comment.Author.ID() != "levbrouk" || ev.Comment.Author.Display() != "Lev Brouk" {
		t.Errorf("author = %q / %q", ev.Comment.Author.ID(), ev.Comment.Author.Display())
	}
}

func TestWebhookLogsNoSecret(t *testing.T) {
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.TraceLevel)
	store := newStore(t)
	h := WebhookHandler(testSecret, store, nil, log)
	body := fixture(t, "cloud-comment-created.json")
	for _, target := range []string{"/webhook/jira/?secret=" + testSecret, "/webhook/jira/?secret=wrong"} {
		req := httptest.NewRequest("POST", target, bytes.NewReader(body))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	for _, e := range hook.AllEntries() {
		line, _ := e.String()
		if strings.Contains(line, testSecret) {
			t.Errorf("log line contains the secret: %s", line)
		}
	}
}

// withoutIssue drops the "issue" member of a payload.
func withoutIssue(t *testing.T, body []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "issue")
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
