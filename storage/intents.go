package storage

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A creation intent says "jtbot is about to ask Jira to create an issue for
// this post, at this time". It is written before the request and cleared
// with RecordIssue, so after a crash or a lost answer a retry knows a create
// may have happened, and since when. Jira Cloud's search is eventually
// consistent: a search that finds nothing soon after the intent's time
// proves nothing, one long after it does.
//
// Values: 9 bytes, intentFormat then Unix nanoseconds. Files written before
// the time mattered hold 8 bytes of Unix seconds; both are read.
const intentFormat = 1

func encodeIntent(at time.Time) []byte {
	b := make([]byte, 9)
	b[0] = intentFormat
	binary.BigEndian.PutUint64(b[1:], uint64(at.UnixNano()))
	return b
}

func decodeIntent(v []byte) (time.Time, error) {
	switch {
	case len(v) == 8:
		return time.Unix(int64(binary.BigEndian.Uint64(v)), 0), nil
	case len(v) == 9 && v[0] == intentFormat:
		return time.Unix(0, int64(binary.BigEndian.Uint64(v[1:]))), nil
	}
	return time.Time{}, fmt.Errorf("storage: bad creation intent of %d bytes", len(v))
}

// RecordIntent durably records that an issue is about to be created for
// post at time at, replacing an earlier intent: call it right before each
// create request, so the time is that of the latest request that may have
// succeeded.
func (s *Store) RecordIntent(post MessageRef, at time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIntents).Put(msgKey(post.ChatID, post.MessageID), encodeIntent(at))
	})
}

// Intent returns when the latest create for post was begun; ok is false
// when none is pending (never begun, or finished by RecordIssue or
// ClearIntent).
func (s *Store) Intent(post MessageRef) (at time.Time, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketIntents).Get(msgKey(post.ChatID, post.MessageID))
		if v == nil {
			return nil
		}
		ok = true
		at, err = decodeIntent(v)
		return err
	})
	return at, ok, err
}

// ClearIntent forgets the intent for post: the create is known not to have
// happened (Jira refused it), or the post will never become an issue.
// RecordIssue clears it too.
func (s *Store) ClearIntent(post MessageRef) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIntents).Delete(msgKey(post.ChatID, post.MessageID))
	})
}

// BeginIssue records the intent to create an issue from a post, at the
// store's clock, unless one is already recorded. It reports whether an
// earlier attempt had already begun; that attempt's time is left as it was
// (see Intent). Callers that retry a create after a search found nothing
// should use Intent and RecordIntent instead, which keep the time of the
// latest request.
func (s *Store) BeginIssue(post MessageRef) (earlier bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIntents)
		k := msgKey(post.ChatID, post.MessageID)
		if b.Get(k) != nil {
			earlier = true
			return nil
		}
		return b.Put(k, encodeIntent(s.now()))
	})
	return earlier, err
}
