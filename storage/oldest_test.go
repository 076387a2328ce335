package storage

import (
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOldestQueuedIsTheEarliestReceiptPerSource(t *testing.T) {
	s, _ := openTemp(t)
	if got, err := s.OldestQueued(); err != nil || len(got) != 0 {
		t.Fatalf("empty queue: OldestQueued = %v, %v; want nothing", got, err)
	}

	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	enqueue := func(source string, received time.Time) uint64 {
		t.Helper()
		id, _, err := s.Enqueue(Item{Source: source, Received: received, Payload: []byte("{}")}, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Queue order is not receipt order: a later ID may carry an earlier
	// receipt (a Telegram update's own date, a revived dead letter).
	enqueue("jira", base.Add(5*time.Minute))
	enqueue("jira", base.Add(2*time.Minute))
	done := enqueue("telegram", base.Add(-time.Hour))
	retried := enqueue("telegram", base.Add(time.Minute))
	enqueue("telegram", base.Add(3*time.Minute))
	buried := enqueue("jira", base.Add(-2*time.Hour))

	if err := s.Done(done); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(retried, base.Add(time.Hour), "jira 503"); err != nil {
		t.Fatal(err)
	}
	if err := s.Bury(buried, "jira 400"); err != nil {
		t.Fatal(err)
	}

	got, err := s.OldestQueued()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"jira": base.Add(2 * time.Minute), "telegram": base.Add(time.Minute)}
	if len(got) != len(want) {
		t.Fatalf("OldestQueued = %v, want %v", got, want)
	}
	for source, w := range want {
		if !got[source].Equal(w) {
			t.Errorf("OldestQueued[%s] = %v, want %v (done, dead and later items do not count; retried ones do)", source, got[source], w)
		}
	}
}

func TestOldestQueuedReadsItemsWrittenAsJSON(t *testing.T) {
	s, _ := openTemp(t)
	received := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketQueue).Put(u64(7), []byte(`{"src":"jira","payload":"e30=","received":"2023-01-02T03:04:05Z"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.OldestQueued()
	if err != nil || !got["jira"].Equal(received) {
		t.Fatalf("OldestQueued = %v, %v; want jira at %v", got, err, received)
	}
}

func TestOldestQueuedReportsADamagedItem(t *testing.T) {
	s, _ := openTemp(t)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketQueue).Put(u64(1), []byte{itemFormat, 0, 0})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OldestQueued(); err == nil {
		t.Fatal("OldestQueued of a truncated item: no error")
	}
}
