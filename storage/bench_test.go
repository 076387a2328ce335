package storage

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// payload is the size of a typical Jira webhook body.
var payload = make([]byte, 2048)

// BenchmarkEnqueueParallel is the durable ingest path: many senders, one
// fsync per group commit.
func BenchmarkEnqueueParallel(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "jtbot.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(16) // 16 × GOMAXPROCS senders
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("jira:", n.Add(1))
			if _, _, err := s.Enqueue(Item{Source: "jira", Key: "issue:1", Payload: payload}, key, time.Hour); err != nil {
				b.Error(err)
			}
		}
	})
}

// BenchmarkRawBoltBatch is the limit for BenchmarkEnqueueParallel: bare
// bbolt Batch puts of the same size from as many senders.
func BenchmarkRawBoltBatch(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("q")); return err })
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := db.Batch(func(tx *bolt.Tx) error {
				q := tx.Bucket([]byte("q"))
				seq, _ := q.NextSequence()
				return q.Put(u64(seq), payload)
			})
			if err != nil {
				b.Error(err)
			}
		}
	})
}

// BenchmarkMessageLink looks up links among many stored ones.
func BenchmarkMessageLink(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n, "links"), func(b *testing.B) {
			s := filledStore(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.MessageLink(-1001234567890, i%n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLinkMessage inserts links one transaction each, as the worker does.
func BenchmarkLinkMessage(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "jtbot.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.LinkMessage(-1001234567890, i, Link{Issue: "OPS-12345"}); err != nil {
			b.Fatal(err)
		}
	}
}

func filledStore(b *testing.B, n int) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "jtbot.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	const chunk = 10_000
	for start := 0; start < n; start += chunk {
		err := s.db.Update(func(tx *bolt.Tx) error {
			m := tx.Bucket(bucketMessages)
			for i := start; i < min(start+chunk, n); i++ {
				if err := m.Put(msgKey(-1001234567890, i), []byte(fmt.Sprintf("OPS-%d", i))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkRawBoltGroup is the other limit: one writer committing the same
// puts in transactions of 32, no coordination cost at all.
func BenchmarkRawBoltGroup(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("q")); return err })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 32 {
		err := db.Update(func(tx *bolt.Tx) error {
			q := tx.Bucket([]byte("q"))
			for j := 0; j < 32 && i+j < b.N; j++ {
				seq, _ := q.NextSequence()
				if err := q.Put(u64(seq), payload); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
