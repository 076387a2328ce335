package storage

import (
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// A room is a chat, or a forum topic of one, that shows an issue besides
// the chat the issue belongs to: another chat mapped to its project, or a
// subscription's target (DESIGN §9). Each room keeps its own root message
// per issue and its own messages of comments, so that later news threads
// under the room's root and Jira's comment edits reach every copy.

// roomKey names an issue in a room. Issue keys hold no "@", so it never
// meets a plain key in the roots or comments buckets.
func roomKey(issue string, chat int64, thread int) string {
	return issue + "@" + strconv.FormatInt(chat, 10) + "/" + strconv.Itoa(thread)
}

// SetRoomRoot records the issue's root message in a room (ref's chat and
// thread) and links the message to the issue, so replies become comments.
func (s *Store) SetRoomRoot(issue string, ref MessageRef) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMessages).Put(msgKey(ref.ChatID, ref.MessageID), encodeLink(Link{Issue: issue})); err != nil {
			return err
		}
		return tx.Bucket(bucketRoots).Put([]byte(roomKey(issue, ref.ChatID, ref.ThreadID)), encodeRef(ref, 0))
	})
}

// RoomRoot returns the issue's root message in a room, or ErrNotFound.
func (s *Store) RoomRoot(issue string, chat int64, thread int) (MessageRef, error) {
	r, err := s.Root(roomKey(issue, chat, thread))
	return r.MessageRef, err
}

// LinkRoomComment records the message that shows a Jira comment in a room
// and links the message to the comment.
func (s *Store) LinkRoomComment(issue, commentID string, ref MessageRef) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		key := commentKey(roomKey(issue, ref.ChatID, ref.ThreadID), commentID)
		if err := tx.Bucket(bucketComments).Put(key, encodeRef(ref, 0)); err != nil {
			return err
		}
		return tx.Bucket(bucketMessages).Put(msgKey(ref.ChatID, ref.MessageID), encodeLink(Link{Issue: issue, Comment: commentID}))
	})
}

// RoomComment returns the message showing a comment in a room, or
// ErrNotFound.
func (s *Store) RoomComment(issue string, chat int64, thread int, commentID string) (MessageRef, error) {
	c, err := s.Comment(roomKey(issue, chat, thread), commentID)
	return c.MessageRef, err
}
