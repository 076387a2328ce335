package storage

import (
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OldestQueued returns, per source, when the oldest item still in the queue
// was received; a source with nothing queued is absent. Items waiting for a
// retry count: their age is what the people waiting on them see. It reads
// every queued item's header, not its payload, so a scrape stays cheap
// even with a long backlog.
func (s *Store) OldestQueued() (map[string]time.Time, error) {
	oldest := make(map[string]time.Time)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketQueue).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			source, received, err := itemHeader(k, v)
			if err != nil {
				return err
			}
			if received.IsZero() {
				continue
			}
			if t, ok := oldest[source]; !ok || received.Before(t) {
				oldest[source] = received
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return oldest, nil
}

// itemHeader reads an item's source and receipt time without copying its
// payload; see encodeItem for the layout.
func itemHeader(k, v []byte) (source string, received time.Time, err error) {
	if len(v) >= 23 && v[0] == itemFormat {
		n := int(binary.BigEndian.Uint16(v[21:]))
		if len(v) >= 23+n {
			return string(v[23 : 23+n]), fromUnixNano(int64(binary.BigEndian.Uint64(v[5:]))), nil
		}
	}
	// The JSON form, or a damaged item: let decodeItem judge it.
	it, err := decodeItem(k, v)
	return it.Source, it.Received, err
}
