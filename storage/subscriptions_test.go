package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func subIDs(subs []Subscription) []uint64 {
	var ids []uint64
	for _, s := range subs {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestSubscriptions(t *testing.T) {
	s, path := openTemp(t)
	want := Subscription{Chat: -100, Thread: 7, Project: "OPS", Events: []string{"status", "comment"},
		Types: []string{"Bug"}, Priorities: []string{"Highest"}, Labels: []string{"release"},
		Components: []string{"API"}, Statuses: []string{"In Progress"}, JQL: `summary ~ "disk"`,
		By: 42, Created: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	first, err := s.AddSubscription(want)
	if err != nil {
		t.Fatal(err)
	}
	want.ID = first.ID
	if first.ID == 0 || !reflect.DeepEqual(first, want) {
		t.Fatalf("AddSubscription = %+v, want %+v", first, want)
	}
	second, _ := s.AddSubscription(Subscription{Chat: -200, Project: "DEV"})
	third, _ := s.AddSubscription(Subscription{Chat: -100, Project: "INFRA"})
	if second.Created.IsZero() || !(first.ID < second.ID && second.ID < third.ID) {
		t.Errorf("IDs %d %d %d, created %v: want increasing IDs and a creation time", first.ID, second.ID, third.ID, second.Created)
	}
	if _, err := s.AddSubscription(Subscription{Chat: -100}); err != ErrBadSubscription {
		t.Errorf("a subscription without a project: %v", err)
	}

	all, err := s.Subscriptions()
	if err != nil || !reflect.DeepEqual(subIDs(all), []uint64{first.ID, second.ID, third.ID}) {
		t.Errorf("Subscriptions = %v, %v", subIDs(all), err)
	}
	if !reflect.DeepEqual(all[0], want) {
		t.Errorf("read back %+v, want %+v", all[0], want)
	}
	mine, err := s.ChatSubscriptions(-100)
	if err != nil || !reflect.DeepEqual(subIDs(mine), []uint64{first.ID, third.ID}) {
		t.Errorf("ChatSubscriptions(-100) = %v, %v", subIDs(mine), err)
	}

	gone, removed, err := s.RemoveSubscription(second.ID)
	if err != nil || !removed || gone.Project != "DEV" {
		t.Errorf("RemoveSubscription = %+v, %v, %v", gone, removed, err)
	}
	if _, removed, err := s.RemoveSubscription(second.ID); removed || err != nil {
		t.Errorf("removing it again = %v, %v", removed, err)
	}
	if n, err := s.RemoveChatSubscriptions(-100); n != 2 || err != nil {
		t.Errorf("RemoveChatSubscriptions = %d, %v; want 2", n, err)
	}
	if all, _ := s.Subscriptions(); len(all) != 0 {
		t.Errorf("left %v", subIDs(all))
	}

	// IDs are never handed out twice, even after removals and a restart.
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	next, _ := s2.AddSubscription(Subscription{Chat: -1, Project: "X"})
	if next.ID <= third.ID {
		t.Errorf("ID after restart %d, want more than %d", next.ID, third.ID)
	}
}

// ForgetChat takes the chat's subscriptions with it, and no other chat's.
func TestForgetChatRemovesSubscriptions(t *testing.T) {
	s, _ := openTemp(t)
	for _, sub := range []Subscription{{Chat: -100, Project: "OPS"}, {Chat: -100, Thread: 3, Project: "DEV"}, {Chat: -200, Project: "OPS"}} {
		if _, err := s.AddSubscription(sub); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetChatProject(-100, "OPS"); err != nil {
		t.Fatal(err)
	}
	n, err := s.ForgetChat(-100)
	if n != 2 || err != nil {
		t.Fatalf("ForgetChat = %d, %v; want 2 subscriptions", n, err)
	}
	left, _ := s.Subscriptions()
	if len(left) != 1 || left[0].Chat != -200 {
		t.Errorf("left %+v", left)
	}
	if m, _ := s.ChatProjects(); len(m) != 0 {
		t.Errorf("mapping left: %v", m)
	}
}

// A backup carries the subscriptions and verifies.
func TestBackupKeepsSubscriptions(t *testing.T) {
	s, _ := openTemp(t)
	if _, err := s.AddSubscription(Subscription{Chat: -100, Project: "OPS", JQL: "labels = x"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Verify(copyPath); err != nil {
		t.Fatalf("the copy %v", err)
	}
	c, err := Open(copyPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if subs, err := c.Subscriptions(); err != nil || len(subs) != 1 || subs[0].JQL != "labels = x" {
		t.Errorf("the copy's subscriptions: %+v, %v", subs, err)
	}
}
