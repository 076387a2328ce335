package storage

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// queued describes one item for a Ready test: its key, group and how long
// after the test's now it becomes due (≤ 0: due).
type queued struct {
	key, group string
	in         time.Duration
}

func TestReady(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var thousandWaiting []queued
	for i := range 1000 {
		// 10 chats, each held back by its head; the items behind wait too.
		q := queued{key: fmt.Sprint("chat:", i%10)}
		if i < 10 {
			q.in = time.Duration(10+i) * time.Minute
		}
		thousandWaiting = append(thousandWaiting, q)
	}
	thousandWaiting[3].in = 3 * time.Minute // the earliest head
	for i := range 5 {
		thousandWaiting = append(thousandWaiting, queued{key: fmt.Sprint("chat:ready", i)})
	}

	tests := []struct {
		name  string
		queue []queued
		limit int
		want  []int         // indices into queue, in the order expected
		next  time.Duration // from now; -1: zero time (nothing waits)
	}{
		{name: "empty queue", limit: 10, next: -1},
		{name: "all due", limit: 10, queue: []queued{{key: "a"}, {key: "b", in: -time.Hour}, {}}, want: []int{0, 1, 2}, next: -1},
		{
			name:  "1000 waiting, 5 ready of other keys behind them",
			queue: thousandWaiting, limit: 1000,
			want: []int{1000, 1001, 1002, 1003, 1004}, next: 3 * time.Minute,
		},
		{
			name: "a key stops at its first item not due",
			queue: []queued{
				{key: "a"}, {key: "b", in: time.Minute}, {key: "a"}, {key: "b"},
				{key: "a", in: 2 * time.Minute}, {key: "a"}, {key: "c"},
			},
			limit: 10, want: []int{0, 2, 6}, next: time.Minute,
		},
		{
			name:  "a later item of a held-back key does not count for next",
			queue: []queued{{key: "a", in: time.Hour}, {key: "a", in: time.Minute}},
			limit: 10, next: time.Hour,
		},
		{
			name:  "items without a key wait for nobody",
			queue: []queued{{in: time.Minute}, {}, {in: 30 * time.Second}, {}},
			limit: 10, want: []int{1, 3}, next: 30 * time.Second,
		},
		{
			name: "a group is due when all its members are, in line at its first",
			queue: []queued{
				{key: "a", group: "g"}, {key: "a"}, {key: "a", group: "g", in: time.Minute},
				{key: "b", group: "h"}, {key: "b"}, {key: "b", group: "h"},
			},
			limit: 10, want: []int{3, 4, 5}, next: time.Minute,
		},
		{
			name:  "a group is returned whole past the limit",
			queue: []queued{{key: "a", group: "g"}, {key: "b"}, {key: "a", group: "g"}, {key: "a", group: "g"}},
			limit: 1, want: []int{0, 2, 3}, next: 0, // more is ready: next is now
		},
		{
			name:  "the limit leaves ready items out: next is now",
			queue: []queued{{key: "a"}, {key: "b", in: time.Minute}, {key: "c"}, {key: "d"}},
			limit: 2, want: []int{0, 2}, next: 0,
		},
		{
			name:  "the limit reached exactly: next is the earliest wait",
			queue: []queued{{key: "a"}, {key: "b", in: time.Minute}, {key: "c"}, {key: "b"}},
			limit: 2, want: []int{0, 2}, next: time.Minute,
		},
		{
			name:  "no limit",
			queue: []queued{{key: "a"}, {key: "a"}, {key: "a"}},
			limit: 0, want: []int{0, 1, 2}, next: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			ids := putQueued(t, s, now, tt.queue)
			items, next, err := s.Ready(now, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, it := range items {
				got = append(got, slices.Index(ids, it.ID))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Ready returned %v, want %v", got, tt.want)
			}
			wantNext := time.Time{}
			if tt.next >= 0 {
				wantNext = now.Add(tt.next)
			}
			if !next.Equal(wantNext) {
				t.Errorf("next = %v, want %v", next, wantNext)
			}
		})
	}
}

func TestReadyReturnsWholeItems(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, _ := openTemp(t)
	want := Item{Source: "telegram", Key: "chat:1", Group: "album:9", Payload: []byte(`{"update_id":1}`),
		Received: now.Add(-time.Hour), Attempts: 2, NotBefore: now.Add(-time.Second), LastError: "503"}
	id, _, err := s.Enqueue(want, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want.ID = id
	items, _, err := s.Ready(now, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("Ready = %v, %v", items, err)
	}
	if got := items[0]; !itemsEqual(got, want) {
		t.Errorf("Ready item = %+v\nwant %+v", got, want)
	}
}

// A queue written before the binary item format still drains in order.
func TestReadyReadsJSONItems(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, _ := openTemp(t)
	old := []Item{
		{Source: "jira", Key: "issue:1", Payload: []byte(`{}`), NotBefore: now.Add(time.Minute)},
		{Source: "jira", Key: "issue:1", Payload: []byte(`{}`)},
		{Source: "jira", Key: "issue:2", Payload: []byte(`{}`)},
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		for _, it := range old {
			v, err := json.Marshal(it)
			if err != nil {
				return err
			}
			seq, _ := q.NextSequence()
			if err := q.Put(u64(seq), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	items, next, err := s.Ready(now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ID != 3 || !next.Equal(now.Add(time.Minute)) {
		t.Errorf("Ready = %+v, next %v; want item 3, next in a minute", items, next)
	}
}

// Retries keep what the retry budget is computed from.
func TestRetryKeepsReceivedAndCountsAttempts(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, _ := openTemp(t)
	received := now.Add(-3 * time.Hour)
	id, _, err := s.Enqueue(Item{Source: "telegram", Key: "chat:1", Received: received, Payload: []byte("x")}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.RetryAll([]uint64{id}, now.Add(time.Duration(i)*time.Minute), fmt.Sprint("try ", i)); err != nil {
			t.Fatal(err)
		}
	}
	items, next, err := s.Ready(now, 10)
	if err != nil || len(items) != 0 || !next.Equal(now.Add(2*time.Minute)) {
		t.Fatalf("Ready = %v, next %v, %v; want nothing until 2 minutes", items, next, err)
	}
	items, _, err = s.Ready(now.Add(2*time.Minute), 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("Ready later = %v, %v", items, err)
	}
	it := items[0]
	if !it.Received.Equal(received) || it.Attempts != 3 || it.LastError != "try 2" {
		t.Errorf("after 3 retries: received %v attempts %d last error %q; want %v, 3, %q",
			it.Received, it.Attempts, it.LastError, received, "try 2")
	}
}

// putQueued stores the items of a Ready test and returns their IDs.
func putQueued(t testing.TB, s *Store, now time.Time, queue []queued) []uint64 {
	t.Helper()
	var ids []uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		for _, e := range queue {
			it := Item{Source: "telegram", Key: e.key, Group: e.group, Payload: payload, Received: now.Add(-time.Hour)}
			if e.in != 0 {
				it.NotBefore = now.Add(e.in)
			}
			seq, err := q.NextSequence()
			if err != nil {
				return err
			}
			if err := q.Put(u64(seq), encodeItem(it)); err != nil {
				return err
			}
			ids = append(ids, seq)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func itemsEqual(a, b Item) bool {
	return a.ID == b.ID && a.Source == b.Source && a.Key == b.Key && a.Group == b.Group &&
		string(a.Payload) == string(b.Payload) && a.Received.Equal(b.Received) && a.Attempts == b.Attempts &&
		a.NotBefore.Equal(b.NotBefore) && a.LastError == b.LastError
}
