package telegramtest

import (
	"net/http"
	"strings"
	"testing"
)

func TestClearFaultsEndsTheOutage(t *testing.T) {
	s := NewServer("1:clear")
	defer s.Close()
	s.FailNext("getMe", 1<<30, 502, "Bad Gateway", 0)
	status := func() int {
		resp, err := http.Post(s.URL+"/bot1:clear/getMe", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(); got != 502 {
		t.Fatalf("during the outage: %d, want 502", got)
	}
	s.ClearFaults()
	if got := status(); got != 200 {
		t.Errorf("after ClearFaults: %d, want 200", got)
	}
}
