package storage

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jtbot/jtbot/secret"
)

func newKey(t *testing.T) *secret.Key {
	t.Helper()
	raw := make([]byte, secret.KeySize)
	rand.Read(raw)
	k, err := secret.ParseKey(base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openKeyed opens a store at path that uses k.
func openKeyed(t *testing.T, path string, k *secret.Key) *Store {
	t.Helper()
	s, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UseKey(k); err != nil {
		s.Close()
		t.Fatalf("UseKey: %v", err)
	}
	return s
}

func testAccount() Account {
	return Account{
		TelegramID: 501, Kind: KindAPIToken, JiraID: "acc-jane", JiraName: "Jane Jira",
		Email: "jane@example.com", AccessToken: "ACCESS-TOKEN-501", RefreshToken: "REFRESH-TOKEN-501",
		Expiry:  time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		CloudID: "cloud-1", APIBase: "https://api.example/ex/jira/cloud-1",
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Notify:  map[string]bool{"mention": false},
	}
}

func TestAccounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jtbot.db")
	s := openKeyed(t, path, newKey(t))
	defer s.Close()

	if _, err := s.Account(501); !errors.Is(err, ErrNotFound) {
		t.Errorf("Account before SaveAccount = %v, want ErrNotFound", err)
	}
	a := testAccount()
	if err := s.SaveAccount(a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Account(501)
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("Account = %+v, %v; want %+v", got, err, a)
	}
	b := Account{TelegramID: 502, Kind: KindPAT, JiraID: "bob", AccessToken: "PAT-502"}
	if err := s.SaveAccount(b); err != nil {
		t.Fatal(err)
	}
	all, err := s.Accounts()
	if err != nil || len(all) != 2 || all[0].TelegramID != 501 || all[1].TelegramID != 502 {
		t.Errorf("Accounts = %+v, %v", all, err)
	}
	if all[1].Created.IsZero() {
		t.Errorf("SaveAccount left Created empty")
	}
	if n, err := s.CountAccounts(); n != 2 || err != nil {
		t.Errorf("CountAccounts = %d, %v", n, err)
	}
	if had, err := s.DeleteAccount(501); !had || err != nil {
		t.Errorf("DeleteAccount = %v, %v", had, err)
	}
	if had, _ := s.DeleteAccount(501); had {
		t.Errorf("second DeleteAccount reported an account")
	}
	if _, err := s.Account(501); !errors.Is(err, ErrNotFound) {
		t.Errorf("Account after DeleteAccount = %v", err)
	}
}

func TestAccountsWithoutKey(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.SaveAccount(testAccount()); !errors.Is(err, ErrNoKey) {
		t.Errorf("SaveAccount without a key = %v, want ErrNoKey", err)
	}
	if _, err := s.Account(501); !errors.Is(err, ErrNoKey) {
		t.Errorf("Account without a key = %v, want ErrNoKey", err)
	}
	if err := s.PutState("st", OAuthState{TelegramID: 501}); !errors.Is(err, ErrNoKey) {
		t.Errorf("PutState without a key = %v, want ErrNoKey", err)
	}
}

// The database file alone gives no token away.
func TestAccountSecretsNotInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jtbot.db")
	s := openKeyed(t, path, newKey(t))
	a := testAccount()
	if err := s.SaveAccount(a); err != nil {
		t.Fatal(err)
	}
	if err := s.PutState("the-raw-state", OAuthState{TelegramID: 501, Verifier: "PKCE-VERIFIER"}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, secret := range []string{a.AccessToken, a.RefreshToken, a.Email, "PKCE-VERIFIER", "the-raw-state"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database file contains %q", secret)
		}
	}
}

// A sealed account copied under another user's ID does not open.
func TestAccountBoundToItsUser(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.UseKey(newKey(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAccount(testAccount()); err != nil {
		t.Fatal(err)
	}
	copyRecord(t, s, bucketAccounts, u64(501), u64(666))
	if _, err := s.Account(666); !errors.Is(err, secret.ErrOpen) {
		t.Errorf("Account of the copy = %v, want secret.ErrOpen", err)
	}
}

func copyRecord(t *testing.T, s *Store, bucket, from, to []byte) {
	t.Helper()
	err := s.change(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		return b.Put(to, append([]byte(nil), b.Get(from)...))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCheckKey(t *testing.T) {
	right, wrong := newKey(t), newKey(t)
	tests := []struct {
		name     string
		accounts bool // someone connected with the right key
		use      *secret.Key
		want     string // start of the *KeyError; "" = accepted
	}{
		{"no key, nobody connected", false, nil, ""},
		{"no key, someone connected", true, nil, "SECRET_KEY: not set, but 1 personal Jira connection"},
		{"right key", true, right, ""},
		{"wrong key, someone connected", true, wrong, "SECRET_KEY: is not the key that sealed the 1 personal Jira connection"},
		{"another key, nobody connected", false, wrong, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jtbot.db")
			s := openKeyed(t, path, right) // leaves the check value
			if tt.accounts {
				if err := s.SaveAccount(testAccount()); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.UseKey(tt.use)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("UseKey: %v", err)
				}
				return
			}
			var ke *KeyError
			if !errors.As(err, &ke) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("UseKey = %v, want a KeyError starting %q", err, tt.want)
			}
		})
	}
}

// An account that the check value does not vouch for (a check value lost,
// or accounts restored from another database) is tried itself.
func TestCheckKeyOpensAnAccount(t *testing.T) {
	right := newKey(t)
	s, _ := openTemp(t)
	if err := s.UseKey(right); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAccount(testAccount()); err != nil {
		t.Fatal(err)
	}
	err := s.change(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyCheck) })
	if err != nil {
		t.Fatal(err)
	}
	var ke *KeyError
	if err := s.CheckKey(newKey(t)); !errors.As(err, &ke) {
		t.Errorf("CheckKey(wrong key) = %v, want a KeyError", err)
	}
	if err := s.CheckKey(right); err != nil {
		t.Errorf("CheckKey(right key) = %v", err)
	}
}

func TestCountAccountsNeedsNoKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jtbot.db")
	s := openKeyed(t, path, newKey(t))
	s.SaveAccount(testAccount())
	s.Close()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.CountAccounts(); n != 1 || err != nil {
		t.Errorf("CountAccounts without a key = %d, %v", n, err)
	}
	if had, err := s.DeleteAccount(501); !had || err != nil {
		t.Errorf("DeleteAccount without a key = %v, %v", had, err)
	}
}

func TestOAuthStates(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := Open(filepath.Join(t.TempDir(), "jtbot.db"), Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.UseKey(newKey(t)); err != nil {
		t.Fatal(err)
	}
	put := func(state string, created time.Time) {
		t.Helper()
		if err := s.PutState(state, OAuthState{TelegramID: 501, Verifier: "v-" + state, Created: created}); err != nil {
			t.Fatal(err)
		}
	}
	put("fresh", t0)
	put("old", t0.Add(-StateTTL))
	put("default-time", time.Time{})

	got, err := s.TakeState("fresh", t0.Add(StateTTL-time.Second))
	if err != nil || got.TelegramID != 501 || got.Verifier != "v-fresh" || !got.Created.Equal(t0) {
		t.Errorf("TakeState(fresh) = %+v, %v", got, err)
	}
	if _, err := s.TakeState("fresh", t0); !errors.Is(err, ErrStateUnknown) {
		t.Errorf("second TakeState = %v, want ErrStateUnknown: a state works once", err)
	}
	if _, err := s.TakeState("never-issued", t0); !errors.Is(err, ErrStateUnknown) {
		t.Errorf("TakeState(unknown) = %v, want ErrStateUnknown", err)
	}
	if _, err := s.TakeState("old", t0); !errors.Is(err, ErrStateExpired) {
		t.Errorf("TakeState(old) = %v, want ErrStateExpired", err)
	}
	if _, err := s.TakeState("old", t0); !errors.Is(err, ErrStateUnknown) {
		t.Errorf("TakeState(old) again = %v, want ErrStateUnknown: deleted even though expired", err)
	}
	if got, err := s.TakeState("default-time", t0); err != nil || !got.Created.Equal(t0) {
		t.Errorf("TakeState(default-time) = %+v, %v; Created should default to the store's clock", got, err)
	}
	if err := s.PutState("", OAuthState{TelegramID: 501}); err == nil {
		t.Errorf("PutState accepted an empty state")
	}
}

func TestSweepStates(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	s, err := Open(filepath.Join(t.TempDir(), "jtbot.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.UseKey(newKey(t)); err != nil {
		t.Fatal(err)
	}
	for i, age := range []time.Duration{0, StateTTL / 2, StateTTL, 2 * StateTTL} {
		if err := s.PutState(string(rune('a'+i)), OAuthState{TelegramID: 1, Created: t0.Add(-age)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.SweepStates(t0); n != 2 || err != nil {
		t.Errorf("SweepStates = %d, %v; want the 2 expired", n, err)
	}
	// The dedup sweep, which the bot runs every so often, sweeps states too.
	now = t0.Add(StateTTL / 2)
	if n, err := s.SweepDedup(); n != 1 || err != nil {
		t.Errorf("SweepDedup = %d, %v; want the state that expired meanwhile", n, err)
	}
	if _, err := s.TakeState("a", t0); err != nil {
		t.Errorf("the fresh state was swept: %v", err)
	}
}

// The old /connect bound any typed name; no such binding survives a start.
func TestOpenDropsUnprovenBindings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jtbot.db")
	// A database of an earlier jtbot: Telegram user 7 bound to a typed name.
	old, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = old.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketUsers)
		if err != nil {
			return err
		}
		return b.Put(u64(7), []byte("typed-name"))
	})
	old.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers) != nil {
			return errors.New("the users bucket is still there")
		}
		return nil
	})
	s.Close()
	if err != nil {
		t.Error(err)
	}
}
