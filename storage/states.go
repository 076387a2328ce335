package storage

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// StateTTL is how long an OAuth state stays valid (DESIGN §8).
const StateTTL = 10 * time.Minute

// OAuthState is what the start of an OAuth sign-in leaves for its callback.
type OAuthState struct {
	TelegramID int64 `json:"telegram_id"`
	// Verifier is the PKCE code verifier (Data Center): whoever holds it
	// and the code can finish the sign-in, so it is sealed.
	Verifier string    `json:"verifier,omitempty"`
	Created  time.Time `json:"created"`
}

var (
	// ErrStateUnknown is a state never issued, already used, or swept.
	ErrStateUnknown = errors.New("storage: unknown or already used OAuth state")
	// ErrStateExpired is a state older than StateTTL; it is gone now too.
	ErrStateExpired = errors.New("storage: expired OAuth state")
)

// stateKey is the SHA-256 of the state: the file holds nothing a callback
// could be forged with.
func stateKey(state string) []byte {
	sum := sha256.Sum256([]byte(state))
	return sum[:]
}

func stateAD(key []byte) []byte {
	return append([]byte("oauth-state:"), key...)
}

// PutState remembers a state issued for an OAuth sign-in. The value is the
// creation time in clear (for the sweep) and the sealed record.
func (s *Store) PutState(state string, st OAuthState) error {
	k, err := s.sealKey()
	if err != nil {
		return err
	}
	if state == "" {
		return errors.New("storage: empty OAuth state")
	}
	if st.Created.IsZero() {
		st.Created = s.now()
	}
	plain, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("storage: oauth state: %w", err)
	}
	key := stateKey(state)
	v := append(u64(uint64(st.Created.UnixNano())), k.Seal(plain, stateAD(key))...)
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStates).Put(key, v)
	})
}

// TakeState returns the record of a state and deletes it: a state works
// once, and an expired one is deleted all the same (ErrStateExpired).
func (s *Store) TakeState(state string, now time.Time) (OAuthState, error) {
	key := stateKey(state)
	var v []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStates)
		if got := b.Get(key); got != nil {
			v = append([]byte(nil), got...)
		}
		return b.Delete(key)
	})
	switch {
	case err != nil:
		return OAuthState{}, err
	case len(v) < 8:
		return OAuthState{}, ErrStateUnknown
	case stateExpired(v, now):
		return OAuthState{}, ErrStateExpired
	}
	return openState(s, key, v[8:])
}

func openState(s *Store, key, sealed []byte) (OAuthState, error) {
	k, err := s.sealKey()
	if err != nil {
		return OAuthState{}, err
	}
	plain, err := k.Open(sealed, stateAD(key))
	if err != nil {
		return OAuthState{}, fmt.Errorf("storage: oauth state: %w", err)
	}
	var st OAuthState
	if err := json.Unmarshal(plain, &st); err != nil {
		return OAuthState{}, fmt.Errorf("storage: oauth state: %w", err)
	}
	return st, nil
}

func stateExpired(v []byte, now time.Time) bool {
	created := time.Unix(0, int64(binary.BigEndian.Uint64(v)))
	return !now.Before(created.Add(StateTTL))
}

// SweepStates deletes expired OAuth states (sign-ins never finished) and
// reports how many. SweepDedup calls it too.
func (s *Store) SweepStates(now time.Time) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = sweepStates(tx, now)
		return err
	})
	return n, err
}

func sweepStates(tx *bolt.Tx, now time.Time) (int, error) {
	n := 0
	c := tx.Bucket(bucketStates).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) >= 8 && !stateExpired(v, now) {
			continue
		}
		if err := c.Delete(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
