package storage

import (
	"errors"
	"testing"
)

func TestRoomsKeepTheirOwnRootsAndComments(t *testing.T) {
	s, _ := openTemp(t)
	main := MessageRef{ChatID: -100, MessageID: 7}
	if err := s.SetRoot("OPS-1", main, true); err != nil {
		t.Fatal(err)
	}
	topic := MessageRef{ChatID: -200, MessageID: 3, ThreadID: 42}
	if err := s.SetRoomRoot("OPS-1", topic); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Root("OPS-1"); err != nil || r.MessageRef != main {
		t.Errorf("the issue's own root = %+v, %v", r, err)
	}
	if r, err := s.RoomRoot("OPS-1", -200, 42); err != nil || r != topic {
		t.Errorf("room root = %+v, %v", r, err)
	}
	if _, err := s.RoomRoot("OPS-1", -200, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("the chat outside the topic has a root: %v", err)
	}
	if l, err := s.MessageLink(-200, 3); err != nil || l.Issue != "OPS-1" || l.Comment != "" {
		t.Errorf("room root message link = %+v, %v", l, err)
	}
	shown := MessageRef{ChatID: -200, MessageID: 4, ThreadID: 42}
	if err := s.LinkRoomComment("OPS-1", "10010", shown); err != nil {
		t.Fatal(err)
	}
	if r, err := s.RoomComment("OPS-1", -200, 42, "10010"); err != nil || r != shown {
		t.Errorf("room comment = %+v, %v", r, err)
	}
	if _, err := s.Comment("OPS-1", "10010"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a room's comment message counts as the issue's own: %v", err)
	}
	if l, err := s.MessageLink(-200, 4); err != nil || l.Issue != "OPS-1" || l.Comment != "10010" {
		t.Errorf("room comment message link = %+v, %v", l, err)
	}
}
