package storage

import bolt "go.etcd.io/bbolt"

// ForgetChat drops what jtbot keeps at run time for a chat it has left or
// that was removed: its project mapping (SetChatProject). Links of its
// messages stay, so issues keep their history. Forgetting an unknown chat is
// not an error.
func (s *Store) ForgetChat(chatID int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChats).Delete(u64(uint64(chatID)))
	})
}
