package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// itemFormat marks the binary item encoding. Items are written on every
// webhook, so they skip JSON: no base64 of the payload, no validation pass.
//
//	version(1) attempts(4) received(8) notBefore(8)
//	len+source len+key len+group len+lastError  payload(rest)
const itemFormat = 1

func encodeItem(it Item) []byte {
	n := 1 + 4 + 8 + 8 + 4*2 + len(it.Source) + len(it.Key) + len(it.Group) + len(it.LastError) + len(it.Payload)
	b := make([]byte, 0, n)
	b = append(b, itemFormat)
	b = binary.BigEndian.AppendUint32(b, uint32(it.Attempts))
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(it.Received)))
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(it.NotBefore)))
	for _, s := range []string{it.Source, it.Key, it.Group, it.LastError} {
		b = binary.BigEndian.AppendUint16(b, uint16(min(len(s), 0xffff)))
		b = append(b, s[:min(len(s), 0xffff)]...)
	}
	return append(b, it.Payload...)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

var errBadItem = errors.New("truncated item")

func decodeItem(k, v []byte) (Item, error) {
	it := Item{ID: binary.BigEndian.Uint64(k)}
	if len(v) > 0 && v[0] == '{' {
		// Written before the binary format.
		err := json.Unmarshal(v, &it)
		return it, wrapDecode(k, err)
	}
	if len(v) < 21 || v[0] != itemFormat {
		return it, wrapDecode(k, errBadItem)
	}
	it.Attempts = int(binary.BigEndian.Uint32(v[1:]))
	it.Received = fromUnixNano(int64(binary.BigEndian.Uint64(v[5:])))
	it.NotBefore = fromUnixNano(int64(binary.BigEndian.Uint64(v[13:])))
	rest := v[21:]
	for _, dst := range []*string{&it.Source, &it.Key, &it.Group, &it.LastError} {
		if len(rest) < 2 {
			return it, wrapDecode(k, errBadItem)
		}
		n := int(binary.BigEndian.Uint16(rest))
		if len(rest) < 2+n {
			return it, wrapDecode(k, errBadItem)
		}
		*dst = string(rest[2 : 2+n])
		rest = rest[2+n:]
	}
	// Copy: bbolt's memory is valid only inside the transaction.
	it.Payload = append([]byte(nil), rest...)
	return it, nil
}

func wrapDecode(k []byte, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("storage: decode item %x: %w", k, err)
}
