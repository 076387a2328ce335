package jira

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/jtbot/jtbot/storage"
	"github.com/sirupsen/logrus"
)

// BenchmarkWebhookIngest is the hot path of /webhook/jira/: read, verify
// the HMAC, parse, and enqueue durably, from 32 senders (-cpu 2 × 16).
func BenchmarkWebhookIngest(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "fixtures", "cloud-comment-created.json"))
	if err != nil {
		b.Fatal(err)
	}
	store, err := storage.Open(filepath.Join(b.TempDir(), "jtbot.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	log := logrus.New()
	log.SetOutput(io.Discard)
	h := WebhookHandler(testSecret, store, nil, log)
	sig := "sha256=" + hex.EncodeToString(Sign([]byte(testSecret), body))
	var n atomic.Int64
	b.SetParallelism(16)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/webhook/jira/", bytes.NewReader(body))
			req.Header.Set("X-Hub-Signature", sig)
			req.Header.Set("X-Atlassian-Webhook-Identifier", fmt.Sprint(n.Add(1)))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
			}
		}
	})
}

// BenchmarkVerifyParse is the CPU part alone: HMAC check and JSON decoding.
func BenchmarkVerifyParse(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "fixtures", "cloud-issue-updated-status-in-progress.json"))
	if err != nil {
		b.Fatal(err)
	}
	sig := "sha256=" + hex.EncodeToString(Sign([]byte(testSecret), body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !VerifySignature([]byte(testSecret), body, sig) {
			b.Fatal("bad signature")
		}
		if _, err := ParseEvent(body); err != nil {
			b.Fatal(err)
		}
	}
}
