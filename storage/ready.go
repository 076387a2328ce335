package storage

import (
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Ready returns, in queue order, up to limit items that may be handled at
// now (limit ≤ 0: no limit), and when to look again.
//
// Items with the same Key are handed out strictly in order: a key's items
// are returned up to its first item that is not due (NotBefore after now),
// which holds back everything behind it. Items without a key wait for
// nobody. A group (Group) is one unit, in line at its first member's place:
// it is due when all its members are, and it is returned whole, even when
// that takes the result past limit.
//
// next is the earliest NotBefore among the items holding back their key (or
// themselves), zero when none waits. When limit left ready items out, next
// is now: call again as soon as these are handled.
//
// The whole queue is scanned, but only item headers are read; payloads are
// decoded for the items returned.
func (s *Store) Ready(now time.Time, limit int) (items []Item, next time.Time, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		line, err := readLine(q)
		if err != nil {
			return err
		}
		ids, waiting, more := line.ready(now.UnixNano(), limit)
		switch {
		case more:
			next = now
		case waiting != 0:
			next = fromUnixNano(waiting)
		}
		items = make([]Item, 0, len(ids))
		for _, id := range ids {
			it, err := decodeItem(u64(id), q.Get(u64(id)))
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return items, next, nil
}

// queueLine is the queue as Ready sees it: one compact entry per item, keys
// and groups numbered, so that deciding takes one read of the bucket (bbolt
// pays for every page it visits) and no copy of a payload.
type queueLine struct {
	entries []lineEntry
	keys    int          // distinct keys; key numbers are 1..keys, 0: no key
	groups  []groupState // index: group number - 1
}

type lineEntry struct {
	id        uint64
	notBefore int64 // Unix nanoseconds, 0 when not set
	key       int32 // 0: none
	group     int32 // 0: none
}

// groupState is what Ready needs to know of a group before it meets the
// group's first member.
type groupState struct {
	first     uint64 // ID of the first member: the group's place in line
	members   int
	notBefore int64 // the latest NotBefore of its members
}

func readLine(q *bolt.Bucket) (queueLine, error) {
	var (
		line      queueLine
		keyNums   = make(map[string]int32)
		groupNums map[string]int32
	)
	c := q.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		h, err := readHead(k, v)
		if err != nil {
			return line, err
		}
		e := lineEntry{id: h.id, notBefore: h.notBefore}
		if len(h.key) > 0 {
			n, ok := keyNums[string(h.key)]
			if !ok {
				line.keys++
				n = int32(line.keys)
				keyNums[string(h.key)] = n
			}
			e.key = n
		}
		if len(h.group) > 0 {
			n, ok := groupNums[string(h.group)]
			if !ok {
				if groupNums == nil {
					groupNums = make(map[string]int32)
				}
				line.groups = append(line.groups, groupState{first: h.id})
				n = int32(len(line.groups))
				groupNums[string(h.group)] = n
			}
			e.group = n
			g := &line.groups[n-1]
			g.members++
			g.notBefore = max(g.notBefore, h.notBefore)
		}
		line.entries = append(line.entries, e)
	}
	return line, nil
}

// ready picks the IDs Ready returns (see there), the earliest NotBefore
// holding an item back (0: none) and whether limit left ready items out.
func (l queueLine) ready(now int64, limit int) (ids []uint64, waiting int64, more bool) {
	blocked := make([]bool, l.keys+1) // keys held back by an item not due
	taken := make([]bool, len(l.groups))
	open := 0 // members still to come of the groups taken
	for _, e := range l.entries {
		if more && open == 0 {
			break // next is now: nothing left to learn
		}
		var g *groupState
		if e.group != 0 {
			g = &l.groups[e.group-1]
		}
		if g != nil && g.first != e.id {
			// A later member goes wherever its group went.
			if taken[e.group-1] {
				ids = append(ids, e.id)
				open--
			}
			continue
		}
		if e.key != 0 && blocked[e.key] {
			continue
		}
		notBefore := e.notBefore
		if g != nil {
			notBefore = g.notBefore
		}
		if notBefore > now {
			blocked[e.key] = true
			if waiting == 0 || notBefore < waiting {
				waiting = notBefore
			}
			continue
		}
		if limit > 0 && len(ids) >= limit {
			more = true
			continue
		}
		ids = append(ids, e.id)
		if g != nil {
			taken[e.group-1] = true
			open += g.members - 1
		}
	}
	return ids, waiting, more
}

// itemHead is the part of a queued item that decides when it may run. Its
// slices point into the database: valid only inside the transaction.
type itemHead struct {
	id         uint64
	notBefore  int64 // Unix nanoseconds, 0 when not set
	key, group []byte
}

// readHead decodes an item's header without copying anything.
func readHead(k, v []byte) (itemHead, error) {
	h := itemHead{id: binary.BigEndian.Uint64(k)}
	if len(v) > 0 && v[0] == '{' {
		// Written before the binary format: rare, decode it all.
		it, err := decodeItem(k, v)
		if err != nil {
			return h, err
		}
		h.notBefore, h.key, h.group = unixNano(it.NotBefore), []byte(it.Key), []byte(it.Group)
		return h, nil
	}
	if len(v) < 21 || v[0] != itemFormat {
		return h, wrapDecode(k, errBadItem)
	}
	h.notBefore = int64(binary.BigEndian.Uint64(v[13:]))
	rest := v[21:]
	for _, dst := range []*[]byte{nil, &h.key, &h.group} { // source, key, group
		if len(rest) < 2 {
			return h, wrapDecode(k, errBadItem)
		}
		n := int(binary.BigEndian.Uint16(rest))
		if len(rest) < 2+n {
			return h, wrapDecode(k, errBadItem)
		}
		if dst != nil {
			*dst = rest[2 : 2+n]
		}
		rest = rest[2+n:]
	}
	return h, nil
}
