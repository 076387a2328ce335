package storage

import (
	"errors"
	"maps"
	"sync"
	"testing"
)

func TestPinUsername(t *testing.T) {
	s, _ := openTemp(t)
	for _, tt := range []struct {
		name       string
		id, pinned int64
	}{
		{"@Alice", 11, 11},
		{"alice", 22, 11}, // taken over by someone else: still Alice's first ID
		{"@ALICE", 11, 11},
		{"bob", 33, 33},
	} {
		got, err := s.PinUsername(tt.name, tt.id)
		if err != nil || got != tt.pinned {
			t.Errorf("PinUsername(%q, %d) = %d, %v; want %d", tt.name, tt.id, got, err, tt.pinned)
		}
	}
	for _, bad := range []struct {
		name string
		id   int64
	}{{"@", 1}, {"", 1}, {"carol", 0}, {"carol", -5}} {
		if _, err := s.PinUsername(bad.name, bad.id); !errors.Is(err, ErrBadPin) {
			t.Errorf("PinUsername(%q, %d) = %v, want ErrBadPin", bad.name, bad.id, err)
		}
	}
	pins, err := s.Pins()
	if want := map[string]int64{"alice": 11, "bob": 33}; err != nil || !maps.Equal(pins, want) {
		t.Errorf("Pins = %v, %v; want %v", pins, err, want)
	}
	if had, err := s.Unpin("@Bob"); !had || err != nil {
		t.Errorf("Unpin = %v, %v", had, err)
	}
	if got, _ := s.PinUsername("bob", 44); got != 44 {
		t.Errorf("after Unpin, PinUsername = %d, want the new ID", got)
	}
}

// Two first sightings at once: one wins, and both are told the same ID.
func TestPinUsernameConcurrent(t *testing.T) {
	s, _ := openTemp(t)
	const n = 16
	got := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := s.PinUsername("dave", int64(100+i))
			if err != nil {
				t.Error(err)
			}
			got[i] = id
		})
	}
	wg.Wait()
	for _, id := range got {
		if id != got[0] {
			t.Fatalf("pins disagree: %v", got)
		}
	}
}

func TestForgetChat(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.SetChatProject(-100, "OPS"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChatProject(-200, "DEV"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ForgetChat(-100); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ForgetChat(-300); n != 0 || err != nil {
		t.Errorf("ForgetChat of an unknown chat = %d, %v", n, err)
	}
	if m, err := s.ChatProjects(); err != nil || !maps.Equal(m, map[int64]string{-200: "DEV"}) {
		t.Errorf("ChatProjects = %v, %v; want only -200", m, err)
	}
}
