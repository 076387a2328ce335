package jiratest

import (
	"net/http"
	"testing"
	"time"
)

func TestClearFaultsEndsTheOutage(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	s.FailNext("", "/rest/api/2/", 1<<30, 503, 0)
	s.SetDelay(time.Hour)
	s.ClearFaults()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(s.URL + "/rest/api/2/myself")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after ClearFaults: %d, want 200", resp.StatusCode)
	}
}
