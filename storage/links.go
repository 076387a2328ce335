package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// MessageRef names a Telegram message, and the forum topic it is in.
type MessageRef struct {
	ChatID    int64
	MessageID int
	ThreadID  int
}

// Link is what a Telegram message belongs to: an issue and, for messages
// that carry a comment, the comment's ID.
type Link struct {
	Issue   string
	Comment string
}

// Root is the message an issue's notifications reply under.
type Root struct {
	MessageRef
	// FromTelegram means jtbot created the issue from this message, so Jira's
	// issue_created event for it must not be echoed back.
	FromTelegram bool
}

// CommentLink is the message that shows a Jira comment in Telegram.
type CommentLink struct {
	MessageRef
	// FromTelegram means the comment was written by jtbot from this message.
	FromTelegram bool
}

const flagFromTelegram = 1

func encodeRef(ref MessageRef, flags byte) []byte {
	b := make([]byte, 21)
	binary.BigEndian.PutUint64(b, uint64(ref.ChatID))
	binary.BigEndian.PutUint64(b[8:], uint64(int64(ref.MessageID)))
	binary.BigEndian.PutUint32(b[16:], uint32(int32(ref.ThreadID)))
	b[20] = flags
	return b
}

func decodeRef(b []byte) (MessageRef, byte, error) {
	if len(b) != 21 {
		return MessageRef{}, 0, fmt.Errorf("storage: bad message reference of %d bytes", len(b))
	}
	return MessageRef{
		ChatID:    int64(binary.BigEndian.Uint64(b)),
		MessageID: int(int64(binary.BigEndian.Uint64(b[8:]))),
		ThreadID:  int(int32(binary.BigEndian.Uint32(b[16:]))),
	}, b[20], nil
}

func encodeLink(l Link) []byte {
	if l.Comment == "" {
		return []byte(l.Issue)
	}
	return []byte(l.Issue + "\x00" + l.Comment)
}

func decodeLink(v []byte) Link {
	issue, comment, _ := bytes.Cut(v, []byte{0})
	return Link{Issue: string(issue), Comment: string(comment)}
}

func flags(fromTelegram bool) byte {
	if fromTelegram {
		return flagFromTelegram
	}
	return 0
}

// LinkMessage records that a Telegram message belongs to an issue (or comment).
func (s *Store) LinkMessage(chatID int64, messageID int, l Link) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMessages).Put(msgKey(chatID, messageID), encodeLink(l))
	})
}

// MessageLink returns what a message belongs to, or ErrNotFound.
func (s *Store) MessageLink(chatID int64, messageID int) (Link, error) {
	var l Link
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMessages).Get(msgKey(chatID, messageID))
		if v == nil {
			return ErrNotFound
		}
		l = decodeLink(v)
		return nil
	})
	return l, err
}

// RecordIssue stores, in one transaction, everything that says a post became
// an issue: the post's link, the issue's root, its id, and the end of the
// creation intent.
func (s *Store) RecordIssue(post MessageRef, key, issueID string, fromTelegram bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMessages).Put(msgKey(post.ChatID, post.MessageID), []byte(key)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRoots).Put([]byte(key), encodeRef(post, flags(fromTelegram))); err != nil {
			return err
		}
		if issueID != "" {
			if err := tx.Bucket(bucketIssueIDs).Put([]byte(issueID), []byte(key)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketIntents).Delete(msgKey(post.ChatID, post.MessageID))
	})
}

// SetRoot makes ref the message that notifications of issue reply under,
// and links ref to the issue.
func (s *Store) SetRoot(key string, ref MessageRef, fromTelegram bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMessages).Put(msgKey(ref.ChatID, ref.MessageID), []byte(key)); err != nil {
			return err
		}
		return tx.Bucket(bucketRoots).Put([]byte(key), encodeRef(ref, flags(fromTelegram)))
	})
}

// Root returns the root message of an issue, or ErrNotFound.
func (s *Store) Root(key string) (Root, error) {
	var r Root
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRoots).Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		ref, f, err := decodeRef(v)
		r = Root{MessageRef: ref, FromTelegram: f&flagFromTelegram != 0}
		return err
	})
	return r, err
}

// IssueKeyByID resolves a Jira issue id (Data Center comment events carry
// only that) to the key, or ErrNotFound.
func (s *Store) IssueKeyByID(id string) (string, error) {
	var key string
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketIssueIDs).Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		key = string(v)
		return nil
	})
	return key, err
}

// RememberIssueID records a Jira issue id → key mapping.
func (s *Store) RememberIssueID(id, key string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIssueIDs).Put([]byte(id), []byte(key))
	})
}

func commentKey(issue, commentID string) []byte { return []byte(issue + "/" + commentID) }

// LinkComment records the message that shows (or wrote) a Jira comment and
// links the message to the comment.
func (s *Store) LinkComment(issue, commentID string, ref MessageRef, fromTelegram bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketComments).Put(commentKey(issue, commentID), encodeRef(ref, flags(fromTelegram))); err != nil {
			return err
		}
		return tx.Bucket(bucketMessages).Put(msgKey(ref.ChatID, ref.MessageID), encodeLink(Link{Issue: issue, Comment: commentID}))
	})
}

// Comment returns the message linked to a Jira comment, or ErrNotFound.
func (s *Store) Comment(issue, commentID string) (CommentLink, error) {
	var c CommentLink
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketComments).Get(commentKey(issue, commentID))
		if v == nil {
			return ErrNotFound
		}
		ref, f, err := decodeRef(v)
		c = CommentLink{MessageRef: ref, FromTelegram: f&flagFromTelegram != 0}
		return err
	})
	return c, err
}

// SetChatProject maps a chat to a Jira project at run time.
func (s *Store) SetChatProject(chatID int64, project string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChats).Put(u64(uint64(chatID)), []byte(project))
	})
}

// DeleteChatProject removes a run-time mapping.
func (s *Store) DeleteChatProject(chatID int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChats).Delete(u64(uint64(chatID)))
	})
}

// ChatProjects returns the run-time chat mappings.
func (s *Store) ChatProjects() (map[int64]string, error) {
	out := make(map[int64]string)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChats).ForEach(func(k, v []byte) error {
			out[int64(binary.BigEndian.Uint64(k))] = string(v)
			return nil
		})
	})
	return out, err
}

// LinkedMessage is one message → issue link, for LinkMessages.
type LinkedMessage struct {
	ChatID    int64
	MessageID int
	Link      Link
}

// LinkMessages stores many links in one transaction (imports, benchmarks).
func (s *Store) LinkMessages(links []LinkedMessage) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMessages)
		for _, l := range links {
			if err := b.Put(msgKey(l.ChatID, l.MessageID), encodeLink(l.Link)); err != nil {
				return err
			}
		}
		return nil
	})
}
