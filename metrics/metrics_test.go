package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type depth struct {
	q, d   int
	oldest map[string]time.Time
	err    error
}

func (d depth) Depth() (int, int) { return d.q, d.d }

func (d depth) OldestQueued() (map[string]time.Time, error) { return d.oldest, d.err }

// scrape returns the exposition text of m.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// series returns the lines of text that start with name: its samples.
func series(text, name string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			out = append(out, line)
		}
	}
	return out
}

func TestSeriesAreExposed(t *testing.T) {
	m := New(depth{q: 3, d: 1})
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
	m.SetWebhookInfo(1, time.Now())
	m.SetCertExpiry(time.Now())
	if m.Transport("jira", http.DefaultTransport) != http.DefaultTransport {
		t.Errorf("nil metrics must not wrap the transport")
	}
}

func TestQueueAgeIsComputedWhenScraped(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	q := depth{q: 2, oldest: map[string]time.Time{
		"jira":    now.Add(-90 * time.Second),
		"unknown": now.Add(-time.Hour), // not a known source: no series
	}}
	m := New(q)
	m.now = func() time.Time { return now }
	text := scrape(t, m)
	for _, want := range []string{
		`jtbot_queue_oldest_age_seconds{source="jira"} 90`,
		`jtbot_queue_oldest_age_seconds{source="telegram"} 0`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if got := series(text, "jtbot_queue_oldest_age_seconds"); len(got) != 2 {
		t.Errorf("age series = %q, want one per known source", got)
	}

	// The age grows between scrapes although nothing was recorded.
	now = now.Add(time.Minute)
	if text := scrape(t, m); !strings.Contains(text, `jtbot_queue_oldest_age_seconds{source="jira"} 150`+"\n") {
		t.Errorf("age did not grow with the clock: %q", series(text, "jtbot_queue_oldest_age_seconds"))
	}
}

func TestQueueAgeLeftOutWhenTheDatabaseFails(t *testing.T) {
	m := New(depth{q: 1, err: errors.New("disk on fire")})
	text := scrape(t, m)
	if got := series(text, "jtbot_queue_oldest_age_seconds"); len(got) != 0 {
		t.Errorf("age series despite a read error: %q", got)
	}
	if !strings.Contains(text, "jtbot_queue_depth 1\n") {
		t.Errorf("a failed age read must not cost the rest of the scrape")
	}
}

func TestJiraCredentialsRefusedFollowsJiraAnswers(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m := New(nil)
	m.now = func() time.Time { return now }
	status := 200
	jira := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer jira.Close()
	client := &http.Client{Transport: m.Transport("jira", nil)}
	tg := &http.Client{Transport: m.Transport("telegram", nil)}

	steps := []struct {
		name        string
		client      *http.Client
		status      int
		refused     string
		lastFailure string // "": no series; the clock moves 10 s a step
	}{
		{"before any request", nil, 0, "0", ""},
		{"jira accepts", client, 200, "0", ""},
		{"jira refuses the token", client, 401, "1", "1.70000002e+09"},
		{"a 5xx says nothing about credentials", client, 503, "1", "1.70000002e+09"},
		{"a 404 says nothing either", client, 404, "1", "1.70000002e+09"},
		{"telegram's 403 is not jira's", tg, 403, "1", "1.70000002e+09"},
		{"jira accepts again", client, 201, "0", "1.70000002e+09"},
		{"jira refuses the account", client, 403, "1", "1.70000007e+09"},
	}
	for _, st := range steps {
		if st.client != nil {
			status = st.status
			resp, err := st.client.Get(jira.URL + "/rest/api/2/myself")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		text := scrape(t, m)
		if got := series(text, "jtbot_jira_credentials_refused"); len(got) != 1 || got[0] != "jtbot_jira_credentials_refused "+st.refused {
			t.Errorf("%s: %q, want value %s", st.name, got, st.refused)
		}
		got := series(text, "jtbot_jira_auth_failure_last_timestamp_seconds")
		switch {
		case st.lastFailure == "" && len(got) != 0:
			t.Errorf("%s: last failure %q before any failure", st.name, got)
		case st.lastFailure != "" && (len(got) != 1 || got[0] != "jtbot_jira_auth_failure_last_timestamp_seconds "+st.lastFailure):
			t.Errorf("%s: last failure %q, want %s", st.name, got, st.lastFailure)
		}
		now = now.Add(10 * time.Second)
	}
}

func TestWebhookInfoAndCertificateSeries(t *testing.T) {
	m := New(nil)
	text := scrape(t, m)
	for _, name := range []string{"jtbot_telegram_pending_updates", "jtbot_telegram_webhook_last_error_timestamp_seconds", "jtbot_tls_certificate_expiry_timestamp_seconds"} {
		if got := series(text, name); len(got) != 0 {
			t.Errorf("%s exported before it was set (an alert would see a 0): %q", name, got)
		}
	}

	m.SetWebhookInfo(7, time.Unix(1_700_000_000, 0))
	m.SetCertExpiry(time.Unix(1_800_000_000, 0))
	text = scrape(t, m)
	for _, want := range []string{
		"jtbot_telegram_pending_updates 7\n",
		"jtbot_telegram_webhook_last_error_timestamp_seconds 1.7e+09\n",
		"jtbot_tls_certificate_expiry_timestamp_seconds 1.8e+09\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// Telegram reports no error: 0, which no alert takes for a recent one.
	m.SetWebhookInfo(0, time.Time{})
	m.SetCertExpiry(time.Time{})
	text = scrape(t, m)
	if !strings.Contains(text, "jtbot_telegram_webhook_last_error_timestamp_seconds 0\n") || !strings.Contains(text, "jtbot_telegram_pending_updates 0\n") {
		t.Errorf("webhook info not reset: %q", series(text, "jtbot_telegram"))
	}
	if got := series(text, "jtbot_tls_certificate_expiry_timestamp_seconds"); len(got) != 0 {
		t.Errorf("certificate expiry kept after SetCertExpiry(zero): %q", got)
	}
}

func TestKnownSourcesStartAtZero(t *testing.T) {
	text := scrape(t, New(nil))
	for _, source := range Sources {
		for _, want := range []string{
			`jtbot_dead_letters_total{source="` + source + `"} 0`,
			`jtbot_delivery_seconds_count{source="` + source + `"} 0`,
		} {
			if !strings.Contains(text, want+"\n") {
				t.Errorf("metrics lack %s", want)
			}
		}
	}
}
