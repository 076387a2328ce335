package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Subscription sends a project's events, narrowed by filters, to a chat or
// to one forum topic of it (DESIGN §9). Empty filters match everything; the
// filters are combined with AND.
type Subscription struct {
	ID      uint64 `json:"-"` // the bucket's sequence, assigned by AddSubscription
	Chat    int64  `json:"chat"`
	Thread  int    `json:"thread,omitempty"` // forum topic; 0: none
	Project string `json:"project"`

	Events     []string `json:"events,omitempty"`
	Types      []string `json:"types,omitempty"`
	Priorities []string `json:"priorities,omitempty"`
	Labels     []string `json:"labels,omitempty"`
	Components []string `json:"components,omitempty"`
	Statuses   []string `json:"statuses,omitempty"`
	JQL        string   `json:"jql,omitempty"`

	By      int64     `json:"by"` // the admin's Telegram ID
	Created time.Time `json:"created"`
}

// ErrBadSubscription means a subscription without a chat or a project.
var ErrBadSubscription = errors.New("storage: a subscription needs a chat and a project")

// AddSubscription stores s under a new ID and returns it with that ID (and
// Created set to now when it was zero).
func (s *Store) AddSubscription(sub Subscription) (Subscription, error) {
	if sub.Chat == 0 || sub.Project == "" {
		return Subscription{}, ErrBadSubscription
	}
	if sub.Created.IsZero() {
		sub.Created = s.now()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSubscriptions)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		v, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		sub.ID = id
		return b.Put(u64(id), v)
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("storage: add subscription: %w", err)
	}
	return sub, nil
}

// Subscriptions returns every subscription, by ID.
func (s *Store) Subscriptions() ([]Subscription, error) {
	return s.subscriptionsWhere(func(Subscription) bool { return true })
}

// ChatSubscriptions returns a chat's subscriptions (all its topics), by ID.
func (s *Store) ChatSubscriptions(chat int64) ([]Subscription, error) {
	return s.subscriptionsWhere(func(sub Subscription) bool { return sub.Chat == chat })
}

func (s *Store) subscriptionsWhere(keep func(Subscription) bool) ([]Subscription, error) {
	var out []Subscription
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscriptions).ForEach(func(k, v []byte) error {
			sub, err := decodeSubscription(k, v)
			if err != nil {
				return err
			}
			if keep(sub) {
				out = append(out, sub)
			}
			return nil
		})
	})
	return out, err
}

// RemoveSubscription deletes a subscription and returns what it was;
// removed is false when there was none with that ID.
func (s *Store) RemoveSubscription(id uint64) (sub Subscription, removed bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSubscriptions)
		v := b.Get(u64(id))
		if v == nil {
			return nil
		}
		if sub, err = decodeSubscription(u64(id), v); err != nil {
			return err
		}
		removed = true
		return b.Delete(u64(id))
	})
	if err != nil {
		return Subscription{}, false, err
	}
	return sub, removed, nil
}

// RemoveChatSubscriptions deletes every subscription of a chat and says
// how many there were.
func (s *Store) RemoveChatSubscriptions(chat int64) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = removeChatSubscriptions(tx, chat)
		return err
	})
	return n, err
}

func removeChatSubscriptions(tx *bolt.Tx, chat int64) (int, error) {
	b := tx.Bucket(bucketSubscriptions)
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		sub, err := decodeSubscription(k, v)
		if err == nil && sub.Chat == chat {
			// k is only valid during the transaction's iteration: copy it.
			keys = append(keys, append([]byte(nil), k...))
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	// Deleting while a cursor walks the bucket skips keys; delete after.
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

func decodeSubscription(k, v []byte) (Subscription, error) {
	var sub Subscription
	if len(k) != 8 {
		return sub, fmt.Errorf("storage: bad subscription key of %d bytes", len(k))
	}
	if err := json.Unmarshal(v, &sub); err != nil {
		return sub, fmt.Errorf("storage: subscription %d: %w", binary.BigEndian.Uint64(k), err)
	}
	sub.ID = binary.BigEndian.Uint64(k)
	return sub, nil
}
