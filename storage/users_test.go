package storage

import (
	"reflect"
	"testing"
)

func TestWatch(t *testing.T) {
	s, _ := openTemp(t)
	for _, w := range []struct {
		issue string
		user  int64
	}{{"OPS-1", 7}, {"OPS-1", 8}, {"OPS-10", 7}, {"OPS-2", 9}} {
		if err := s.Watch(w.issue, w.user); err != nil {
			t.Fatal(err)
		}
	}
	// OPS-1 must not pick up OPS-10's watchers.
	if got, _ := s.Watchers("OPS-1"); !reflect.DeepEqual(got, []int64{7, 8}) {
		t.Errorf("Watchers(OPS-1) = %v", got)
	}
	if got, _ := s.Watching(7); !reflect.DeepEqual(got, []string{"OPS-1", "OPS-10"}) {
		t.Errorf("Watching(7) = %v", got)
	}
	if had, _ := s.Unwatch("OPS-1", 7); !had {
		t.Errorf("Unwatch reported no subscription")
	}
	if had, _ := s.Unwatch("OPS-1", 7); had {
		t.Errorf("second Unwatch reported a subscription")
	}
	if got, _ := s.Watchers("OPS-1"); !reflect.DeepEqual(got, []int64{8}) {
		t.Errorf("Watchers after Unwatch = %v", got)
	}
}
