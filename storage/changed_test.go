package storage

import (
	"path/filepath"
	"testing"
)

// Changed wakes every waiter at each change of the queue.
func TestChangedWakesWaiters(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "jtbot.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := s.Changed()
	id, _, err := s.Enqueue(Item{Source: "jira", Payload: []byte("{}")}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-before:
	default:
		t.Fatal("Enqueue did not signal")
	}
	afterEnqueue := s.Changed()
	if err := s.DoneAll([]uint64{id}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-afterEnqueue:
	default:
		t.Fatal("DoneAll did not signal")
	}
	select {
	case <-s.Changed():
		t.Fatal("a fresh Changed is already closed")
	default:
	}
}
