package jira

import (
	"bytes"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/jtbot/jtbot/storage"
	"github.com/sirupsen/logrus"
)

func addFixtureSeeds(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"webhookEvent":5}`, `{"webhookEvent":"comment_created","comment":{"self":"/issue/1/comment/2"}}`,
		"{\"webhookEvent\":\"\xff\xfe\"}", `{"issue":{"id":{"a":[[[[[[[]]]]]]]}}}`} {
		f.Add([]byte(s))
	}
}

// FuzzParseEvent: any body parses or fails cleanly, and what parses
// answers its questions without panicking.
func FuzzParseEvent(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseEvent(body)
		if err != nil {
			return
		}
		_ = ev.IssueID()
		_ = ev.IssueKey()
		_ = Known(ev.WebhookEvent)
		_ = ev.Comment.IssueID()
		_ = ev.User.Display()
		_ = ev.User.ID()
	})
}

// FuzzWebhook: the endpoint answers every body with a 2xx or 4xx, never
// a panic or 5xx, and queues only what it acknowledged with 200.
func FuzzWebhook(f *testing.F) {
	addFixtureSeeds(f)
	store := newStoreF(f)
	log := logrus.New()
	log.SetOutput(bytes.NewBuffer(nil))
	h := WebhookHandler(testSecret, store, nil, log)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/webhook/jira/", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(Sign([]byte(testSecret), body)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 202, 400, 413:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

// FuzzVerifySignature: only the right HMAC passes.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("secret"), []byte(`{"a":1}`), "sha256=00")
	f.Add([]byte(""), []byte(""), "sha256=")
	f.Add([]byte("k"), []byte("body"), "SHA256="+hex.EncodeToString(Sign([]byte("k"), []byte("body"))))
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		right := "sha256=" + hex.EncodeToString(Sign(secret, body))
		if !VerifySignature(secret, body, right) {
			t.Fatalf("the right signature was refused")
		}
		if VerifySignature(secret, body, header) && !sameSignature(header, right) {
			t.Fatalf("a wrong signature %q passed", header)
		}
	})
}

// sameSignature compares as VerifySignature may: algorithm name in any
// case, hex in any case, spaces around the hex.
func sameSignature(header, right string) bool {
	algo, hexSig, ok := cutEqual(header)
	if !ok || len(algo) != 6 {
		return false
	}
	got, err := hex.DecodeString(string(bytes.TrimSpace([]byte(hexSig))))
	want, _ := hex.DecodeString(right[len("sha256="):])
	return err == nil && bytes.Equal(got, want)
}

func cutEqual(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

func newStoreF(f *testing.F) *storage.Store {
	f.Helper()
	s, err := storage.Open(filepath.Join(f.TempDir(), "jtbot.db"), storage.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	return s
}
