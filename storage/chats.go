package storage

import bolt "go.etcd.io/bbolt"

// ForgetChat drops what jtbot keeps at run time for a chat it has left or
// that was removed: its project mapping (SetChatProject) and its
// subscriptions, in one transaction, and says how many subscriptions went
// (the caller logs it: DESIGN §9 wants the removal said). Links of its
// messages stay, so issues keep their history. Forgetting an unknown chat
// is not an error.
func (s *Store) ForgetChat(chatID int64) (subscriptions int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketChats).Delete(u64(uint64(chatID))); err != nil {
			return err
		}
		subscriptions, err = removeChatSubscriptions(tx, chatID)
		return err
	})
	if err != nil {
		return 0, err
	}
	return subscriptions, nil
}
