package storage

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Item is one inbound unit of work: a Telegram update or a Jira webhook.
// It is written before the sender is acknowledged and removed only once it
// was handled or moved to the dead letters.
type Item struct {
	ID     uint64 `json:"-"`
	Source string `json:"src"` // "telegram" or "jira"
	// Key orders work: items with the same key are handled one after another,
	// in the order they arrived (a chat, or an issue).
	Key string `json:"key,omitempty"`
	// Group joins items handled together once the group has been quiet for
	// a while: the photos of one album, or a burst of events for one issue.
	Group     string    `json:"group,omitempty"`
	Payload   []byte    `json:"payload"`
	Received  time.Time `json:"received"`
	Attempts  int       `json:"attempts,omitempty"`
	NotBefore time.Time `json:"not_before,omitempty"`
	LastError string    `json:"last_error,omitempty"`
}

// DedupTTL is how long a delivery's identifier (a Telegram update_id, a
// Jira webhook identifier) is remembered: both senders give up
// redelivering well within a day.
const DedupTTL = 24 * time.Hour

// Changed is closed at the next change of the queue or the dead letters
// (an item stored, finished, delayed, retried, buried, revived or
// dropped): whoever waits for a state of the queue (tests, an operator's
// tool) checks it, then waits on a fresh Changed. Unlike Notify, every
// waiter sees every change.
func (s *Store) Changed() <-chan struct{} {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	return s.changed
}

func (s *Store) signalChanged() {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}

// change runs a write transaction on the queue or the dead letters and
// tells the waiters of Changed.
func (s *Store) change(f func(*bolt.Tx) error) error {
	defer s.signalChanged()
	return s.db.Update(f)
}

// Notify is signalled (without blocking, coalesced) whenever work is queued.
func (s *Store) Notify() <-chan struct{} { return s.notify }

func (s *Store) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Enqueue stores it durably. When dedupKey is not empty and was seen within
// ttl, nothing is stored and duplicate is true. Concurrent calls are
// committed together (one fsync for the group), and each call returns only
// after its item is on disk.
func (s *Store) Enqueue(it Item, dedupKey string, ttl time.Duration) (id uint64, duplicate bool, err error) {
	now := s.now()
	if it.Received.IsZero() {
		it.Received = now
	}
	req := &enqueueRequest{value: encodeItem(it), dedupKey: dedupKey, until: now.Add(ttl), now: now, done: make(chan struct{})}
	select {
	case s.enqueue <- req:
	case <-s.closed:
		return 0, false, fmt.Errorf("storage: enqueue: %w", bolt.ErrDatabaseNotOpen)
	}
	<-req.done
	if req.err != nil {
		return 0, false, fmt.Errorf("storage: enqueue: %w", req.err)
	}
	if !req.duplicate {
		s.wake()
		s.signalChanged()
	}
	return req.id, req.duplicate, nil
}

// enqueueRequest is one Enqueue waiting for the committer.
type enqueueRequest struct {
	value      []byte
	dedupKey   string
	until, now time.Time
	done       chan struct{}

	id        uint64
	duplicate bool
	err       error
}

// maxGroup bounds one group commit.
const maxGroup = 1000

// commitEnqueues is the group committer: it takes every request that
// arrived while the previous commit was being written, and commits them
// in one transaction. Unlike bbolt's Batch it never waits on a timer, so
// a lone request is written at once and a crowd shares each fsync.
func (s *Store) commitEnqueues() {
	defer close(s.committerDone)
	for {
		var group []*enqueueRequest
		select {
		case req := <-s.enqueue:
			group = append(group, req)
		case <-s.closed:
			return
		}
	collect:
		for len(group) < maxGroup {
			select {
			case req := <-s.enqueue:
				group = append(group, req)
			default:
				break collect
			}
		}
		s.commitGroup(group)
	}
}

func (s *Store) commitGroup(group []*enqueueRequest) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		for _, req := range group {
			req.id, req.duplicate = 0, false
			if req.dedupKey != "" {
				if seen(tx, req.dedupKey, req.now) {
					req.duplicate = true
					continue
				}
				if err := remember(tx, req.dedupKey, req.until); err != nil {
					return err
				}
			}
			seq, err := q.NextSequence()
			if err != nil {
				return err
			}
			req.id = seq
			if err := q.Put(u64(seq), req.value); err != nil {
				return err
			}
		}
		return nil
	})
	for _, req := range group {
		if err != nil {
			req.id, req.duplicate, req.err = 0, false, err
		}
		close(req.done)
	}
}

func seen(tx *bolt.Tx, key string, now time.Time) bool {
	v := tx.Bucket(bucketDedup).Get([]byte(key))
	return v != nil && int64(binary.BigEndian.Uint64(v)) > now.UnixNano()
}

func remember(tx *bolt.Tx, key string, until time.Time) error {
	return tx.Bucket(bucketDedup).Put([]byte(key), u64(uint64(until.UnixNano())))
}

// Remember records key as seen until now+ttl; it reports false when the key
// was already there (and not expired), so callers can act at most once.
func (s *Store) Remember(key string, ttl time.Duration) (first bool, err error) {
	now := s.now()
	err = s.db.Update(func(tx *bolt.Tx) error {
		if seen(tx, key, now) {
			return nil
		}
		first = true
		return remember(tx, key, now.Add(ttl))
	})
	return first, err
}

// Seen reports whether key is remembered and not expired.
func (s *Store) Seen(key string) bool {
	found := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		found = seen(tx, key, s.now())
		return nil
	})
	return found
}

// SweepDedup deletes expired dedup keys, and expired OAuth states with
// them, and reports how many.
func (s *Store) SweepDedup() (int, error) {
	at := s.now()
	now := uint64(at.UnixNano())
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if n, err = sweepStates(tx, at); err != nil {
			return err
		}
		c := tx.Bucket(bucketDedup).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if binary.BigEndian.Uint64(v) <= now {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}

// Pending returns up to limit queued items, oldest first.
func (s *Store) Pending(limit int) ([]Item, error) {
	return s.list(bucketQueue, limit)
}

// Dead returns the dead letters, oldest first.
func (s *Store) Dead() ([]Item, error) { return s.list(bucketDead, 0) }

func (s *Store) list(bucket []byte, limit int) ([]Item, error) {
	var items []Item
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(items) < limit); k, v = c.Next() {
			it, err := decodeItem(k, v)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return nil
	})
	return items, err
}

// Depth counts the queued items.
func (s *Store) Depth() (queued, dead int) {
	_ = s.db.View(func(tx *bolt.Tx) error {
		queued = tx.Bucket(bucketQueue).Stats().KeyN
		dead = tx.Bucket(bucketDead).Stats().KeyN
		return nil
	})
	return queued, dead
}

// Done removes a handled item.
func (s *Store) Done(id uint64) error { return s.DoneAll([]uint64{id}) }

// DoneAll removes handled items in one transaction: a batch handled
// together is finished with one fsync, not one per item.
func (s *Store) DoneAll(ids []uint64) error {
	return s.change(func(tx *bolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		for _, id := range ids {
			if err := q.Delete(u64(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Retry keeps the item queued, counts the attempt and holds it until notBefore.
func (s *Store) Retry(id uint64, notBefore time.Time, reason string) error {
	return s.RetryAll([]uint64{id}, notBefore, reason)
}

// RetryAll is Retry for a batch, in one transaction.
func (s *Store) RetryAll(ids []uint64, notBefore time.Time, reason string) error {
	return s.updateAll(bucketQueue, ids, func(it *Item) {
		it.Attempts++
		it.NotBefore = notBefore
		it.LastError = reason
	})
}

// DelayAll holds items until notBefore without counting an attempt: they
// wait for a limit (Telegram's rate), they did not fail.
func (s *Store) DelayAll(ids []uint64, notBefore time.Time) error {
	return s.updateAll(bucketQueue, ids, func(it *Item) {
		it.NotBefore = notBefore
	})
}

func (s *Store) updateAll(bucket []byte, ids []uint64, change func(*Item)) error {
	return s.change(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for _, id := range ids {
			v := b.Get(u64(id))
			if v == nil {
				return fmt.Errorf("storage: item %d: %w", id, ErrNotFound)
			}
			it, err := decodeItem(u64(id), v)
			if err != nil {
				return err
			}
			change(&it)
			if err := b.Put(u64(id), encodeItem(it)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Bury moves an item that cannot succeed to the dead letters.
func (s *Store) Bury(id uint64, reason string) error { return s.BuryAll([]uint64{id}, reason) }

// BuryAll is Bury for a batch, in one transaction.
func (s *Store) BuryAll(ids []uint64, reason string) error {
	return s.moveAll(bucketQueue, bucketDead, ids, func(it *Item) {
		it.Attempts++
		it.LastError = reason
	})
}

// Revive moves a dead letter back to the queue for another try.
func (s *Store) Revive(id uint64) error {
	err := s.moveAll(bucketDead, bucketQueue, []uint64{id}, func(it *Item) {
		it.Attempts = 0
		it.NotBefore = time.Time{}
	})
	if err == nil {
		s.wake()
	}
	return err
}

// Drop deletes a dead letter for good.
func (s *Store) Drop(id uint64) error {
	return s.change(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDead)
		if b.Get(u64(id)) == nil {
			return fmt.Errorf("storage: dead letter %d: %w", id, ErrNotFound)
		}
		return b.Delete(u64(id))
	})
}

// moveAll keeps each item's ID so that a revived item keeps its place in line.
func (s *Store) moveAll(from, to []byte, ids []uint64, change func(*Item)) error {
	return s.change(func(tx *bolt.Tx) error {
		src := tx.Bucket(from)
		for _, id := range ids {
			v := src.Get(u64(id))
			if v == nil {
				return fmt.Errorf("storage: item %d: %w", id, ErrNotFound)
			}
			it, err := decodeItem(u64(id), v)
			if err != nil {
				return err
			}
			change(&it)
			if err := src.Delete(u64(id)); err != nil {
				return err
			}
			if err := tx.Bucket(to).Put(u64(id), encodeItem(it)); err != nil {
				return err
			}
		}
		return nil
	})
}
