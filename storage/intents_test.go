package storage

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestIntentLifecycle(t *testing.T) {
	s, _ := openTemp(t)
	post := MessageRef{ChatID: -1001, MessageID: 7}
	if _, ok, err := s.Intent(post); ok || err != nil {
		t.Fatalf("Intent before any = %v, %v; want none", ok, err)
	}
	first := time.Unix(1_700_000_000, 123)
	if err := s.RecordIntent(post, first); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := s.Intent(post); !ok || err != nil || !at.Equal(first) {
		t.Fatalf("Intent = %v, %v, %v; want %v", at, ok, err, first)
	}
	// A second create request moves the time on.
	second := first.Add(2 * time.Minute)
	if err := s.RecordIntent(post, second); err != nil {
		t.Fatal(err)
	}
	if at, _, _ := s.Intent(post); !at.Equal(second) {
		t.Errorf("Intent after a second RecordIntent = %v, want %v", at, second)
	}
	if err := s.RecordIssue(post, "OPS-1", "10001", true); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Intent(post); ok || err != nil {
		t.Errorf("Intent after RecordIssue = %v, %v; want none", ok, err)
	}

	other := MessageRef{ChatID: -1001, MessageID: 8}
	if err := s.RecordIntent(other, first); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearIntent(other); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Intent(other); ok {
		t.Error("Intent after ClearIntent still there")
	}
}

func TestBeginIssueKeepsTheFirstTime(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, err := Open(filepath.Join(t.TempDir(), "jtbot.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	post := MessageRef{ChatID: 5, MessageID: 1}
	if earlier, err := s.BeginIssue(post); earlier || err != nil {
		t.Fatalf("first BeginIssue = %v, %v", earlier, err)
	}
	now = now.Add(time.Hour)
	if earlier, err := s.BeginIssue(post); !earlier || err != nil {
		t.Fatalf("second BeginIssue = %v, %v; want earlier", earlier, err)
	}
	if at, ok, _ := s.Intent(post); !ok || !at.Equal(now.Add(-time.Hour)) {
		t.Errorf("Intent = %v, %v; want the first BeginIssue's time", at, ok)
	}
}

// A file written by the previous jtbot (no pins bucket, intents as Unix
// seconds, schema 1) opens and reads as before.
func TestOpensPreviousVersionFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jtbot.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Unix(1_690_000_000, 0)
	post := MessageRef{ChatID: -1002, MessageID: 42}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "queue", "dead", "dedup", "messages", "roots", "comments",
			"chats", "users", "watches", "intents", "issueids"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte("meta")).Put([]byte("schema"), u64(1)); err != nil {
			return err
		}
		seconds := make([]byte, 8)
		binary.BigEndian.PutUint64(seconds, uint64(began.Unix()))
		if err := tx.Bucket([]byte("intents")).Put(msgKey(post.ChatID, post.MessageID), seconds); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("chats")).Put(u64(uint64(post.ChatID)), []byte("OPS")); err != nil {
			return err
		}
		return tx.Bucket([]byte("queue")).Put(u64(1), encodeItem(Item{Source: "telegram", Key: "chat:-1002", Payload: []byte("{}")}))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open previous version: %v", err)
	}
	defer s.Close()
	if v, err := s.Schema(); v != 1 || err != nil {
		t.Errorf("Schema = %d, %v; want 1", v, err)
	}
	if at, ok, err := s.Intent(post); !ok || err != nil || !at.Equal(began) {
		t.Errorf("old intent = %v, %v, %v; want %v", at, ok, err, began)
	}
	if earlier, err := s.BeginIssue(post); !earlier || err != nil {
		t.Errorf("BeginIssue on an old intent = %v, %v; want earlier", earlier, err)
	}
	if id, err := s.PinUsername("@Alice", 11); id != 11 || err != nil {
		t.Errorf("PinUsername = %d, %v", id, err)
	}
	if items, _, err := s.Ready(time.Now(), 10); len(items) != 1 || err != nil {
		t.Errorf("Ready = %v, %v; want the old item", items, err)
	}
	if m, err := s.ChatProjects(); m[-1002] != "OPS" || err != nil {
		t.Errorf("ChatProjects = %v, %v", m, err)
	}
}
