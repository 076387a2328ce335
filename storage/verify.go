package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Verify opens a database file read-only (a backup copy, say), checks every
// page, and that its schema version is one this jtbot reads. Its errors
// complete a sentence whose subject the caller names ("the copy " + err).
func Verify(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("does not open: %w", err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		// Drain every error: Check's goroutine reads pages until it ends.
		var damage error
		for err := range tx.Check() {
			if damage == nil {
				damage = fmt.Errorf("is damaged: %w", err)
			}
		}
		if damage != nil {
			return damage
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("has no meta bucket: not a jtbot database")
		}
		// jtbot creates every bucket at open, so a copy of its file has
		// them all; one missing means the copy lost data.
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("has no %s bucket", name)
			}
		}
		v := meta.Get(keySchema)
		if len(v) != 8 {
			return errors.New("has no schema version: not a jtbot database")
		}
		if schema := binary.BigEndian.Uint64(v); schema == 0 || schema > SchemaVersion {
			return fmt.Errorf("has schema %d; this jtbot reads up to %d", schema, SchemaVersion)
		}
		return nil
	})
}
