package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jtbot.db")
	s, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenCreatesPrivateFileWithSchema(t *testing.T) {
	s, path := openTemp(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %o, want 600", mode)
	}
	if v, err := s.Schema(); err != nil || v != SchemaVersion {
		t.Errorf("Schema = %d, %v; want %d", v, err, SchemaVersion)
	}
}

func TestOpenTightensExistingFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jtbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %o after reopen, want 600", fi.Mode().Perm())
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	_, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if err.Error() == "" || time.Since(start) > 5*time.Second {
		t.Errorf("locked error %q took %v", err, time.Since(start))
	}
}

func TestEnqueueDedupAndExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	path := filepath.Join(t.TempDir(), "jtbot.db")
	s, err := Open(path, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	id1, dup, err := s.Enqueue(Item{Source: "jira", Key: "OPS-1", Payload: []byte(`{"a":1}`)}, "jira:abc", time.Hour)
	if err != nil || dup || id1 == 0 {
		t.Fatalf("first Enqueue = %d, %v, %v", id1, dup, err)
	}
	select {
	case <-s.Notify():
	default:
		t.Errorf("Enqueue did not signal Notify")
	}
	_, dup, err = s.Enqueue(Item{Source: "jira", Payload: []byte(`{}`)}, "jira:abc", time.Hour)
	if err != nil || !dup {
		t.Fatalf("repeated Enqueue dup = %v, %v; want true", dup, err)
	}
	if q, _ := s.Depth(); q != 1 {
		t.Errorf("depth = %d, want 1", q)
	}

	now = now.Add(2 * time.Hour)
	if n, err := s.SweepDedup(); err != nil || n != 1 {
		t.Errorf("SweepDedup = %d, %v; want 1", n, err)
	}
	_, dup, _ = s.Enqueue(Item{Source: "jira", Payload: []byte(`{}`)}, "jira:abc", time.Hour)
	if dup {
		t.Errorf("an expired key still counted as duplicate")
	}
}

func TestQueueLifecycle(t *testing.T) {
	s, _ := openTemp(t)
	var ids []uint64
	for i := 0; i < 3; i++ {
		id, _, err := s.Enqueue(Item{Source: "telegram", Key: "chat", Payload: []byte(fmt.Sprint(i))}, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	items, err := s.Pending(0)
	if err != nil || len(items) != 3 {
		t.Fatalf("Pending = %v, %v", items, err)
	}
	for i, it := range items {
		if it.ID != ids[i] || string(it.Payload) != fmt.Sprint(i) || it.Received.IsZero() {
			t.Errorf("item %d = %+v", i, it)
		}
	}
	later := time.Now().Add(time.Minute).Round(time.Second)
	if err := s.Retry(ids[0], later, "jira 503"); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := s.Bury(ids[2], "chat not found"); err != nil {
		t.Fatal(err)
	}
	items, _ = s.Pending(0)
	if len(items) != 1 || items[0].Attempts != 1 || !items[0].NotBefore.Equal(later) || items[0].LastError != "jira 503" {
		t.Fatalf("after retry: %+v", items)
	}
	dead, _ := s.Dead()
	if len(dead) != 1 || dead[0].ID != ids[2] || dead[0].LastError != "chat not found" {
		t.Fatalf("dead = %+v", dead)
	}
	if err := s.Revive(ids[2]); err != nil {
		t.Fatal(err)
	}
	if q, d := s.Depth(); q != 2 || d != 0 {
		t.Errorf("depth after revive = %d, %d", q, d)
	}
	if err := s.Bury(ids[2], "again"); err != nil {
		t.Fatal(err)
	}
	if err := s.Drop(ids[2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Drop(ids[2]); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Drop = %v, want ErrNotFound", err)
	}
	if err := s.Done(12345); err != nil {
		t.Errorf("Done of an unknown id = %v, want nil (idempotent)", err)
	}
}

func TestConcurrentEnqueueKeepsEveryItem(t *testing.T) {
	s, _ := openTemp(t)
	const n = 200
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Every second key repeats: half of the calls are duplicates.
			if _, _, err := s.Enqueue(Item{Source: "jira", Payload: []byte("x")}, fmt.Sprint("k", i/2), time.Hour); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if q, _ := s.Depth(); q != n/2 {
		t.Errorf("depth = %d, want %d", q, n/2)
	}
}

func TestLinksSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jtbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	post := MessageRef{ChatID: -1001234567890, MessageID: 42, ThreadID: 7}
	if earlier, err := s.BeginIssue(post); err != nil || earlier {
		t.Fatalf("BeginIssue = %v, %v", earlier, err)
	}
	if earlier, _ := s.BeginIssue(post); !earlier {
		t.Errorf("second BeginIssue should report the earlier attempt")
	}
	if err := s.RecordIssue(post, "OPS-1", "10001", true); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkMessage(post.ChatID, 43, Link{Issue: "OPS-1"}); err != nil {
		t.Fatal(err)
	}
	reply := MessageRef{ChatID: -100555, MessageID: 9}
	if err := s.LinkComment("OPS-1", "10100", reply, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChatProject(-100777, "WEB"); err != nil {
		t.Fatal(err)
	}
	id, _, _ := s.Enqueue(Item{Source: "telegram", Payload: []byte("{}")}, "", 0)
	s.Close()

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, err := s.MessageLink(post.ChatID, 42); err != nil || l.Issue != "OPS-1" || l.Comment != "" {
		t.Errorf("post link = %+v, %v", l, err)
	}
	if l, _ := s.MessageLink(post.ChatID, 43); l.Issue != "OPS-1" {
		t.Errorf("answer link = %+v", l)
	}
	if l, _ := s.MessageLink(reply.ChatID, reply.MessageID); l != (Link{Issue: "OPS-1", Comment: "10100"}) {
		t.Errorf("comment message link = %+v", l)
	}
	if r, err := s.Root("OPS-1"); err != nil || r.MessageRef != post || !r.FromTelegram {
		t.Errorf("root = %+v, %v", r, err)
	}
	if c, err := s.Comment("OPS-1", "10100"); err != nil || c.MessageRef != reply || !c.FromTelegram {
		t.Errorf("comment = %+v, %v", c, err)
	}
	if k, err := s.IssueKeyByID("10001"); err != nil || k != "OPS-1" {
		t.Errorf("IssueKeyByID = %q, %v", k, err)
	}
	if earlier, _ := s.BeginIssue(post); earlier {
		t.Errorf("RecordIssue should have ended the intent")
	}
	if m, _ := s.ChatProjects(); m[-100777] != "WEB" {
		t.Errorf("chat projects = %v", m)
	}
	if items, _ := s.Pending(0); len(items) != 1 || items[0].ID != id {
		t.Errorf("queue after restart = %+v", items)
	}
	if _, err := s.MessageLink(1, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown link err = %v", err)
	}
	if _, err := s.Root("NOPE-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown root err = %v", err)
	}
}

func TestBackupWhileWriting(t *testing.T) {
	s, _ := openTemp(t)
	for i := 0; i < 100; i++ {
		if err := s.LinkMessage(-100, i, Link{Issue: fmt.Sprintf("OPS-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 100; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.LinkMessage(-100, i, Link{Issue: fmt.Sprintf("OPS-%d", i)}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	close(stop)
	wg.Wait()

	copy, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("backup does not open: %v", err)
	}
	defer copy.Close()
	for i := 0; i < 100; i++ {
		if l, err := copy.MessageLink(-100, i); err != nil || l.Issue != fmt.Sprintf("OPS-%d", i) {
			t.Fatalf("backup lacks committed link %d: %+v %v", i, l, err)
		}
	}
}

func TestItemEncodingRoundTrip(t *testing.T) {
	now := time.Unix(1_700_000_000, 123456789)
	items := []Item{
		{},
		{Source: "jira", Key: "issue:1", Group: "jira:OPS", Payload: []byte(`{"a":"\u00ff"}`), Received: now, Attempts: 3, NotBefore: now.Add(time.Minute), LastError: "jira: 503"},
		{Source: "telegram", Payload: []byte{0, 1, 2, 0xff}},
	}
	for i, it := range items {
		it.ID = uint64(i + 1)
		got, err := decodeItem(u64(it.ID), encodeItem(it))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != it.ID || got.Source != it.Source || got.Key != it.Key || got.Group != it.Group || got.LastError != it.LastError ||
			got.Attempts != it.Attempts || !got.Received.Equal(it.Received) || !got.NotBefore.Equal(it.NotBefore) || string(got.Payload) != string(it.Payload) {
			t.Errorf("item %d: got %+v, want %+v", i, got, it)
		}
	}
	// Items written as JSON by the first version still read.
	old := []byte(`{"src":"jira","key":"issue:9","payload":"e30=","received":"2026-11-29T05:00:00Z","attempts":2}`)
	got, err := decodeItem(u64(9), old)
	if err != nil || got.Source != "jira" || string(got.Payload) != "{}" || got.Attempts != 2 {
		t.Errorf("old item = %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {itemFormat}, append([]byte{itemFormat}, make([]byte, 20)...), {9, 9, 9}} {
		if _, err := decodeItem(u64(1), bad); err == nil {
			t.Errorf("decodeItem(%v) accepted a broken value", bad)
		}
	}
}
