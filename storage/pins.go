package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ErrBadPin means a username pin was asked for with an empty name or an
// impossible Telegram ID.
var ErrBadPin = errors.New("storage: a pin needs a username and a positive Telegram ID")

// pinName is how a username is stored: without "@", lower-cased
// (Telegram usernames are case-insensitive).
func pinName(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "@"))
}

// PinUsername ties a username from ALLOWED_USERS to the first Telegram ID
// seen with it, so that whoever takes the name over later is not let in.
// It stores id when the name has no pin yet and returns the pinned ID either
// way, in one transaction: callers compare it with id.
func (s *Store) PinUsername(name string, id int64) (pinnedID int64, err error) {
	key := pinName(name)
	if key == "" || id <= 0 {
		return 0, fmt.Errorf("%w: %q, %d", ErrBadPin, name, id)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPins)
		if v := b.Get([]byte(key)); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("storage: bad pin of %q: %d bytes", key, len(v))
			}
			pinnedID = int64(binary.BigEndian.Uint64(v))
			return nil
		}
		pinnedID = id
		return b.Put([]byte(key), u64(uint64(id)))
	})
	if err != nil {
		return 0, err
	}
	return pinnedID, nil
}

// Unpin removes a username's pin (an admin vouches for the name's new
// owner); it reports whether there was one.
func (s *Store) Unpin(name string) (bool, error) {
	key := []byte(pinName(name))
	var had bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPins)
		had = b.Get(key) != nil
		return b.Delete(key)
	})
	return had, err
}

// Pins returns every pinned username (lower-case, without "@") and its ID.
func (s *Store) Pins() (map[string]int64, error) {
	pins := make(map[string]int64)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPins).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("storage: bad pin of %q: %d bytes", k, len(v))
			}
			pins[string(k)] = int64(binary.BigEndian.Uint64(v))
			return nil
		})
	})
	return pins, err
}
