package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// Hostile input gets a 4xx or a clean ignore, never a panic or a 5xx, and
// never more than the 1 MiB cap read into memory.
func TestHostileInput(t *testing.T) {
	w := newWorld(t)
	d := w.start(t, true)
	url := "http://" + d.addr + "/webhook/jira/"
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	tests := []struct {
		name   string
		body   io.Reader
		signed []byte // sign these bytes when set
		length int64  // -1: chunked, no Content-Length
		want   int
	}{
		{"10 MB with its length", bytes.NewReader(make([]byte, 10<<20)), nil, 10 << 20, 413},
		{"10 MB chunked", bytes.NewReader(make([]byte, 10<<20)), nil, -1, 413},
		{"deeply nested", strings.NewReader(`{"webhookEvent":` + deep + `}`), []byte(`{"webhookEvent":` + deep + `}`), 0, 400},
		{"invalid UTF-8", strings.NewReader("{\"webhookEvent\":\"comment_created\",\"comment\":{\"self\":\"/issue/1/comment/2\",\"body\":\"\xff\xfe\"}}"),
			[]byte("{\"webhookEvent\":\"comment_created\",\"comment\":{\"self\":\"/issue/1/comment/2\",\"body\":\"\xff\xfe\"}}"), 0, 200},
		{"wrong types", strings.NewReader(`{"webhookEvent":"comment_created","issue":{"id":{"x":1}}}`), []byte(`{"webhookEvent":"comment_created","issue":{"id":{"x":1}}}`), 0, 400},
		{"not JSON at all", strings.NewReader("\x00\x01binary"), []byte("\x00\x01binary"), 0, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", url, tt.body)
			if tt.length == -1 {
				req.ContentLength = -1
				req.Body = io.NopCloser(req.Body) // hide the length: chunked
			}
			if tt.signed != nil {
				req.Header.Set("X-Hub-Signature", jiratest.Signature(testJiraSecret, tt.signed))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				// The server may close early on an oversized upload.
				if tt.want == 413 {
					return
				}
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	// Still healthy after all that.
	resp, err := http.Get("http://" + d.addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz after hostile input: %v %v", resp, err)
	}
	resp.Body.Close()
}

// A client that sends its headers slowly is cut off by the server's
// header timeout instead of holding a connection forever.
func TestSlowClientIsCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the server's 5 s header timeout")
	}
	w := newWorld(t)
	d := w.start(t, true)
	conn, err := net.Dial("tcp", d.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	conn.Write([]byte("POST /webhook/jira/ HTTP/1.1\r\nHost: x\r\n"))
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	took := time.Since(start)
	if took > 10*time.Second {
		t.Errorf("connection held %s (err %v, %q)", took, err, line)
	}
	if err == nil && !strings.Contains(line, "408") && !strings.Contains(line, "400") {
		t.Errorf("a slow client got %q", line)
	}
}
