package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jtbot/jtbot/secret"
)

// Kinds of personal Jira connection (DESIGN §8).
const (
	KindOAuthCloud = "oauth-cloud" // Atlassian 3LO, API calls through the gateway
	KindOAuthDC    = "oauth-dc"    // Data Center's own OAuth 2.0 provider
	KindPAT        = "pat"         // Data Center personal access token
	KindAPIToken   = "api-token"   // Cloud API token with the account's e-mail
)

// Account is one Telegram user's own Jira connection. The whole record is
// sealed with SECRET_KEY: tokens first of all, but the Jira identity and
// e-mail are nobody else's business either.
type Account struct {
	TelegramID int64  `json:"telegram_id"`
	Kind       string `json:"kind"`
	// JiraID is the accountId (Cloud) or the user name or key (Data Center).
	JiraID   string `json:"jira_id"`
	JiraName string `json:"jira_name"` // display name
	// Email is the login of a Cloud API token (Kind api-token only).
	Email        string    `json:"email,omitempty"`
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	CloudID      string    `json:"cloud_id,omitempty"`
	APIBase      string    `json:"api_base,omitempty"`
	Created      time.Time `json:"created"`
	// NeedsReconnect is set once the grant was refused, so the user is told
	// once and their commands are refused until they /connect again.
	NeedsReconnect bool `json:"needs_reconnect,omitempty"`
	// Notify holds per-kind toggles of personal notifications; a kind not
	// in it (or a nil map) is on.
	Notify map[string]bool `json:"notify,omitempty"`
}

// ErrNoKey means personal accounts are off: no SECRET_KEY was given.
var ErrNoKey = errors.New("storage: no SECRET_KEY: personal Jira accounts are off")

// KeyError is a SECRET_KEY that cannot serve the connections stored. jtbot
// stops on it (exit 2) rather than silently forget everyone's connection.
type KeyError struct {
	Problem string
}

func (e *KeyError) Error() string { return "SECRET_KEY: " + e.Problem }

var (
	keyCheck   = []byte("keycheck")
	checkAD    = []byte("meta:keycheck")
	checkPlain = []byte("jtbot SECRET_KEY check")
)

func accountAD(telegramID int64) []byte {
	return []byte("account:" + strconv.FormatInt(telegramID, 10))
}

// UseKey checks k against the database (CheckKey) and, when it fits, seals
// and opens accounts and OAuth states with it from now on. A nil k is
// fine as long as nobody is connected: personal accounts are then off.
func (s *Store) UseKey(k *secret.Key) error {
	if err := s.CheckKey(k); err != nil {
		return err
	}
	s.key.Store(k)
	return nil
}

func (s *Store) sealKey() (*secret.Key, error) {
	k := s.key.Load()
	if k == nil {
		return nil, ErrNoKey
	}
	return k, nil
}

// CheckKey reports, as a *KeyError, a key that cannot open the connections
// stored: none given while some are stored, or another key than the one
// that sealed them. The first time a key is given it leaves a sealed check
// value in meta, so that a wrong key is caught even before the first
// account is opened. With nobody connected any key is accepted (and
// replaces the check value): nothing would be lost.
func (s *Store) CheckKey(k *secret.Key) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		n := countKeys(tx.Bucket(bucketAccounts))
		if k == nil {
			if n > 0 {
				return &KeyError{fmt.Sprintf("not set, but %d personal Jira connection(s) sealed with it are stored in %s: set the same key again", n, s.Path())}
			}
			return nil
		}
		meta := tx.Bucket(bucketMeta)
		check := meta.Get(keyCheck)
		checkOpens := check != nil && opens(k, check, checkAD)
		if n > 0 && ((check != nil && !checkOpens) || !firstAccountOpens(tx, k)) {
			return &KeyError{fmt.Sprintf("is not the key that sealed the %d personal Jira connection(s) stored in %s: set that key (if it is lost, everyone must /connect again)", n, s.Path())}
		}
		if checkOpens {
			return nil
		}
		return meta.Put(keyCheck, k.Seal(checkPlain, checkAD))
	})
}

func opens(k *secret.Key, sealed, ad []byte) bool {
	_, err := k.Open(sealed, ad)
	return err == nil
}

func firstAccountOpens(tx *bolt.Tx, k *secret.Key) bool {
	key, v := tx.Bucket(bucketAccounts).Cursor().First()
	if key == nil {
		return true
	}
	return opens(k, v, accountAD(int64(binary.BigEndian.Uint64(key))))
}

func countKeys(b *bolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// SaveAccount stores (or replaces) a Telegram user's Jira connection.
func (s *Store) SaveAccount(a Account) error {
	k, err := s.sealKey()
	if err != nil {
		return err
	}
	if a.TelegramID == 0 {
		return errors.New("storage: account without a Telegram ID")
	}
	if a.Created.IsZero() {
		a.Created = s.now()
	}
	plain, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("storage: account: %w", err)
	}
	sealed := k.Seal(plain, accountAD(a.TelegramID))
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccounts).Put(u64(uint64(a.TelegramID)), sealed)
	})
}

// Account returns a Telegram user's Jira connection, or ErrNotFound.
func (s *Store) Account(telegramID int64) (Account, error) {
	k, err := s.sealKey()
	if err != nil {
		return Account{}, err
	}
	var sealed []byte
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAccounts).Get(u64(uint64(telegramID)))
		if v == nil {
			return ErrNotFound
		}
		sealed = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return Account{}, err
	}
	return openAccount(k, telegramID, sealed)
}

func openAccount(k *secret.Key, telegramID int64, sealed []byte) (Account, error) {
	plain, err := k.Open(sealed, accountAD(telegramID))
	if err != nil {
		return Account{}, fmt.Errorf("storage: account of %d: %w", telegramID, err)
	}
	var a Account
	if err := json.Unmarshal(plain, &a); err != nil {
		return Account{}, fmt.Errorf("storage: account of %d: %w", telegramID, err)
	}
	return a, nil
}

// DeleteAccount forgets a Telegram user's Jira connection; it reports
// whether there was one. It needs no key: forgetting must always work.
func (s *Store) DeleteAccount(telegramID int64) (bool, error) {
	var had bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		k := u64(uint64(telegramID))
		had = b.Get(k) != nil
		return b.Delete(k)
	})
	return had, err
}

// Accounts returns every stored connection, by Telegram ID.
func (s *Store) Accounts() ([]Account, error) {
	k, err := s.sealKey()
	if err != nil {
		return nil, err
	}
	var out []Account
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccounts).ForEach(func(key, v []byte) error {
			a, err := openAccount(k, int64(binary.BigEndian.Uint64(key)), v)
			if err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

// CountAccounts counts the stored connections without opening them, so it
// works without the key.
func (s *Store) CountAccounts() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = countKeys(tx.Bucket(bucketAccounts))
		return nil
	})
	return n, err
}
