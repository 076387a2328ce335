package storage

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// waitingQueue is the queue of the worker-spin report (issue 14): 10,000
// items held back by retries — 100 chats whose heads wait for Jira, 100
// items each — and 5 ready items of other chats behind them. Payloads are
// the size of a typical webhook body.
func waitingQueue(b *testing.B) (*Store, time.Time) {
	b.Helper()
	now := time.Unix(1_700_000_000, 0)
	s, err := Open(filepath.Join(b.TempDir(), "jtbot.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var queue []queued
	for i := range 10_000 {
		q := queued{key: fmt.Sprint("chat:", i%100)}
		if i < 100 {
			q.in = time.Duration(1+i) * time.Minute
		}
		queue = append(queue, q)
	}
	for i := range 5 {
		queue = append(queue, queued{key: fmt.Sprint("chat:ready", i)})
	}
	putQueued(b, s, now, queue)
	return s, now
}

// BenchmarkPending is the baseline for BenchmarkReady: the worker's read
// before Ready (the first 1000 items, none of them ready), and the read it
// would take Pending to find the 5 ready items.
func BenchmarkPending(b *testing.B) {
	for _, limit := range []int{1000, 0} {
		name := fmt.Sprint("first", limit)
		if limit == 0 {
			name = "all"
		}
		b.Run(name, func(b *testing.B) {
			s, _ := waitingQueue(b)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Pending(limit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReady scans the same queue and returns the 5 ready items.
func BenchmarkReady(b *testing.B) {
	s, now := waitingQueue(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		items, next, err := s.Ready(now, 1000)
		if err != nil || len(items) != 5 || next.IsZero() {
			b.Fatalf("Ready = %d items, next %v, %v", len(items), next, err)
		}
	}
}
