package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type depth struct{ q, d int }

func (d depth) Depth() (int, int) { return d.q, d.d }

func TestSeriesAreExposed(t *testing.T) {
	m := New(depth{3, 1})
	m.Received("jira", "comment_created")
	m.Failed("telegram", "telegram_429", true)
	m.Failed("jira", "jira_4xx", false)
	m.Delivered("jira", time.Now().Add(-time.Second))

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer backend.Close()
	client := &http.Client{Transport: m.Transport("telegram", nil)}
	resp, err := client.Post(backend.URL+"/bot123:SECRET-TOKEN/sendMessage", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`jtbot_received_total{kind="comment_created",source="jira"} 1`,
		`jtbot_failures_total{reason="telegram_429",source="telegram"} 1`,
		`jtbot_retries_total{source="telegram"} 1`,
		`jtbot_dead_letters_total{source="jira"} 1`,
		`jtbot_delivery_seconds_count{source="jira"} 1`,
		`jtbot_requests_total{code="204",method="sendMessage",target="telegram"} 1`,
		`jtbot_queue_depth 3`,
		`jtbot_dead_letters 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "SECRET-TOKEN") {
		t.Errorf("the bot token leaked into a label")
	}
}

func TestCallNamesHaveBoundedLabels(t *testing.T) {
	tests := []struct{ target, method, path, want string }{
		{"telegram", "POST", "/bot1:abc/getUpdates", "getUpdates"},
		{"telegram", "GET", "/file/bot1:abc/photos/file_1.jpg", "file"},
		{"jira", "POST", "/rest/api/2/issue", "POST /issue"},
		{"jira", "POST", "/jira/rest/api/2/issue/OPS-12/comment", "POST /issue/comment"},
		{"jira", "PUT", "/rest/api/2/issue/10001/comment/10200", "PUT /issue/comment"},
		{"jira", "GET", "/rest/api/2/search/jql", "GET /search/jql"},
		{"jira", "POST", "/rest/webhooks/1.0/webhook", "POST /webhook"},
		{"jira", "GET", "/", "GET /other"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if got := callName(tt.target, r); got != tt.want {
			t.Errorf("callName(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.Received("a", "b")
	m.Failed("a", "b", true)
	m.Delivered("a", time.Now())
	if m.Transport("jira", http.DefaultTransport) != http.DefaultTransport {
		t.Errorf("nil metrics must not wrap the transport")
	}
}
