// Package storage owns jtbot's one bbolt file: message ⇄ issue links, the
// durable inbound queue with its dead letters, dedup keys, run-time chat
// mappings and per-user data, personal Jira connections and OAuth states
// among them (sealed with SECRET_KEY: see UseKey). Everything that must
// survive a restart is here.
package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jtbot/jtbot/secret"
)

// SchemaVersion is the layout of the buckets below; a newer file is refused.
const SchemaVersion = 1

var (
	bucketMeta     = []byte("meta")
	bucketQueue    = []byte("queue")
	bucketDead     = []byte("dead")
	bucketDedup    = []byte("dedup")
	bucketMessages = []byte("messages")    // chat+message → link
	bucketRoots    = []byte("roots")       // issue key → root message
	bucketComments = []byte("comments")    // issue key/comment id → message
	bucketChats    = []byte("chats")       // chat → project (run-time mappings)
	bucketUsers    = []byte("users")       // old unproven /connect bindings: dropped at open
	bucketWatches  = []byte("watches")     // issue key/user → nothing
	bucketIntents  = []byte("intents")     // chat+message → issue creation started
	bucketIssueIDs = []byte("issueids")    // Jira issue id → key
	bucketPins     = []byte("pins")        // @username → the Telegram ID first seen with it
	bucketAccounts = []byte("accounts")    // telegram user → sealed personal Jira connection
	bucketStates   = []byte("oauthstates") // SHA-256 of an OAuth state → created, sealed record
	// sequence → Subscription as JSON
	bucketSubscriptions = []byte("subscriptions")

	allBuckets = [][]byte{bucketMeta, bucketQueue, bucketDead, bucketDedup, bucketMessages,
		bucketRoots, bucketComments, bucketChats, bucketWatches, bucketIntents, bucketIssueIDs,
		bucketPins, bucketAccounts, bucketStates, bucketSubscriptions}

	keySchema = []byte("schema")
)

// ErrLocked means another process holds the database file.
var ErrLocked = errors.New("database is locked by another jtbot")

// ErrNotFound means the key asked for is not stored.
var ErrNotFound = errors.New("storage: not found")

// Store is the open database. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	notify chan struct{}
	now    func() time.Time
	// key seals accounts and OAuth states; nil until UseKey.
	key atomic.Pointer[secret.Key]

	changedMu sync.Mutex
	changed   chan struct{} // closed and replaced at every change of the queue

	enqueue       chan *enqueueRequest
	closed        chan struct{}
	committerDone chan struct{}
	closeOnce     sync.Once
}

// Options tune Open; the zero value is fine for production.
type Options struct {
	// LockTimeout is how long to wait for another process to release the file.
	LockTimeout time.Duration
	// Now replaces the clock in tests.
	Now func() time.Time
}

// Open opens (or creates, mode 0600) the database at path and prepares
// every bucket.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	// bbolt keeps the mode of an existing file; a file created by hand or an
	// older tool must not stay readable by others.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: chmod %s: %w", path, err)
	}
	s := &Store{db: db, notify: make(chan struct{}, 1), now: opts.Now, changed: make(chan struct{}),
		enqueue: make(chan *enqueueRequest), closed: make(chan struct{}), committerDone: make(chan struct{})}
	if err := s.prepare(); err != nil {
		db.Close()
		return nil, err
	}
	go s.commitEnqueues()
	return s, nil
}

func (s *Store) prepare() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := dropUnprovenBindings(tx); err != nil {
			return err
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("storage: create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchema); v != nil {
			if got := int(binary.BigEndian.Uint64(v)); got > SchemaVersion {
				return fmt.Errorf("storage: database schema %d is newer than this jtbot's %d: upgrade jtbot", got, SchemaVersion)
			}
		}
		return meta.Put(keySchema, u64(SchemaVersion))
	})
}

// dropUnprovenBindings empties the users bucket of the old /connect, which
// bound whatever Jira name someone typed. Such a binding was never proof of
// identity, so none is carried across a start; personal connections with
// proof live in the accounts bucket.
func dropUnprovenBindings(tx *bolt.Tx) error {
	if tx.Bucket(bucketUsers) == nil {
		return nil
	}
	if err := tx.DeleteBucket(bucketUsers); err != nil {
		return fmt.Errorf("storage: drop unproven /connect bindings: %w", err)
	}
	return nil
}

// Close stops the group committer and closes the database file. Enqueue
// calls already handed to the committer finish first.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		<-s.committerDone
	})
	return s.db.Close()
}

// Path is the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// Schema returns the schema version stored in the file.
func (s *Store) Schema() (int, error) {
	var v int
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta).Get(keySchema)
		if b == nil {
			return ErrNotFound
		}
		v = int(binary.BigEndian.Uint64(b))
		return nil
	})
	return v, err
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// msgKey is 16 bytes: chat ID and message ID, big-endian so one chat's
// messages sort together.
func msgKey(chatID int64, messageID int) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(chatID))
	binary.BigEndian.PutUint64(b[8:], uint64(int64(messageID)))
	return b
}

// Backup writes a consistent copy of the whole database to w while others
// keep reading and writing.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
