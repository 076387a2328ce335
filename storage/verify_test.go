package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s, err := Open(good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := Verify(good); err != nil {
		t.Errorf("a fresh database: %v", err)
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("x", 8192)), 0o600)
	if err := Verify(junk); err == nil || !strings.HasPrefix(err.Error(), "does not open") {
		t.Errorf("junk: %v", err)
	}
}

func TestVerifyWantsEveryBucket(t *testing.T) {
	s, path := openTemp(t)
	err := s.change(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketAccounts) })
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := Verify(path); err == nil || err.Error() != "has no accounts bucket" {
		t.Errorf("Verify = %v, want the missing accounts bucket named", err)
	}
}
