package storage

import (
	"bytes"
	"sort"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// watchKey is "ISSUE-1\x00<user id>": one issue's watchers sort together.
func watchKey(issue string, userID int64) []byte {
	return []byte(issue + "\x00" + strconv.FormatInt(userID, 10))
}

// Watch subscribes a Telegram user to DMs about an issue.
func (s *Store) Watch(issue string, userID int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWatches).Put(watchKey(issue, userID), nil)
	})
}

// Unwatch ends a subscription; it reports whether there was one.
func (s *Store) Unwatch(issue string, userID int64) (bool, error) {
	var had bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWatches)
		k := watchKey(issue, userID)
		had = b.Get(k) != nil
		return b.Delete(k)
	})
	return had, err
}

// Watchers lists the Telegram users watching an issue.
func (s *Store) Watchers(issue string) ([]int64, error) {
	var ids []int64
	prefix := []byte(issue + "\x00")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketWatches).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id, err := strconv.ParseInt(string(k[len(prefix):]), 10, 64)
			if err == nil {
				ids = append(ids, id)
			}
		}
		return nil
	})
	return ids, err
}

// Watching lists the issues a Telegram user watches, sorted.
func (s *Store) Watching(userID int64) ([]string, error) {
	var issues []string
	suffix := []byte("\x00" + strconv.FormatInt(userID, 10))
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWatches).ForEach(func(k, _ []byte) error {
			if bytes.HasSuffix(k, suffix) {
				issues = append(issues, string(k[:len(k)-len(suffix)]))
			}
			return nil
		})
	})
	sort.Strings(issues)
	return issues, err
}
