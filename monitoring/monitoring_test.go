package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jtbot/jtbot/metrics"
	"github.com/jtbot/jtbot/storage"
)

// tool finds a Prometheus binary. Without it the tests skip on a developer
// machine but fail in CI, where .ci/run installs it.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed and CI is set (Debian: apt-get install prometheus)", name)
	}
	t.Skipf("%s is not installed: skipping (Debian: apt-get install prometheus; with CI set this fails)", name)
	return ""
}

// alertNames are the alerts alerts.yml defines, in order.
func alertNames(t *testing.T) []string {
	t.Helper()
	rules, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*- alert: (\w+)\s*$`).FindAllSubmatch(rules, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) == 0 {
		t.Fatal("alerts.yml defines no alerts")
	}
	return names
}

func TestRulesPassPromtool(t *testing.T) {
	promtool := tool(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestEveryAlertHasUnitTests: promtool runs the cases it is given; this
// makes sure each alert has one where it fires and one where it is silent.
func TestEveryAlertHasUnitTests(t *testing.T) {
	cases, err := os.ReadFile("alerts_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	alertname := regexp.MustCompile(`alertname: (\w+)`)
	for _, block := range strings.Split(string(cases), "- eval_time:")[1:] {
		m := alertname.FindStringSubmatch(block)
		if m == nil {
			continue
		}
		if strings.Contains(block, "exp_alerts: []") {
			silent[m[1]] = true
		} else if strings.Contains(block, "exp_labels:") {
			fires[m[1]] = true
		}
	}
	for _, name := range alertNames(t) {
		if !fires[name] {
			t.Errorf("alerts_test.yml: no case where %s fires", name)
		}
		if !silent[name] {
			t.Errorf("alerts_test.yml: no case where %s stays silent", name)
		}
	}
}

// TestAlertsAndDashboardAgainstPrometheus drives jtbot's real metrics
// registry, over a real database, into every bad state the alerts know,
// lets a real Prometheus scrape it every second with the rules loaded, and
// asks Prometheus that each alert is pending or firing and that every
// dashboard query returns data.
func TestAlertsAndDashboardAgainstPrometheus(t *testing.T) {
	prometheusBin := tool(t, "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()

	store, err := storage.Open(filepath.Join(dir, "jtbot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m := metrics.New(store)
	target := newScrapeTarget(t, m.Handler())

	// A second target that refuses connections: JtbotDown.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadTarget := ln.Addr().String()
	ln.Close()

	// Bad states that need no history.
	now := time.Now()
	jira := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errorMessages":["unauthorized"]}`, http.StatusUnauthorized)
	}))
	defer jira.Close()
	telegram := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"ok":true,"result":{}}`)
	}))
	defer telegram.Close()
	roundTrip(t, m.Transport("jira", nil), jira.URL+"/rest/api/2/issue")               // JiraCredentialsRefused
	roundTrip(t, m.Transport("telegram", nil), telegram.URL+"/bot1:token/sendMessage") // request codes
	if _, _, err := store.Enqueue(storage.Item{Source: "jira", Received: now.Add(-11 * time.Minute), Payload: []byte("{}")}, "", 0); err != nil {
		t.Fatal(err) // QueueBacklog
	}
	id, _, err := store.Enqueue(storage.Item{Source: "telegram", Payload: []byte("{}")}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Bury(id, "telegram: chat not found"); err != nil {
		t.Fatal(err) // DeadLetters
	}
	m.Received("telegram", "channel_post")
	m.Received("jira", "comment_created")
	m.Failed("telegram", "telegram_4xx", false)
	m.Failed("jira", "jira_5xx", true)
	m.SetCertExpiry(now.Add(3 * 24 * time.Hour))  // CertificateExpiresSoon
	m.SetWebhookInfo(1, now.Add(-30*time.Second)) // TelegramWebhookFailing, part 1

	base := startPrometheus(ctx, t, prometheusBin, dir, []string{target.addr, deadTarget})

	// Bad states that are changes: Prometheus must have seen the before.
	target.waitScrapes(ctx, t, 2)
	m.SetWebhookInfo(5, time.Now().Add(-time.Second)) // pending updates grow
	for range 3 {
		m.Delivered("jira", time.Now().Add(-4*time.Minute)) // DeliveryLatencyHigh
	}
	target.waitScrapes(ctx, t, 2)

	t.Run("alerts", func(t *testing.T) {
		want := alertNames(t)
		var states map[string]string
		ok := poll(ctx, 20*time.Second, func() bool {
			var alerts struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			}
			query(ctx, t, base, "/api/v1/alerts", nil, &alerts)
			states = map[string]string{}
			for _, a := range alerts.Alerts {
				states[a.Labels["alertname"]] = a.State
			}
			for _, name := range want {
				if s := states[name]; s != "pending" && s != "firing" {
					return false
				}
			}
			return true
		})
		if !ok {
			for _, name := range want {
				if s := states[name]; s != "pending" && s != "firing" {
					t.Errorf("%s: not pending or firing (state %q)", name, s)
				}
			}
			logRules(ctx, t, base)
		}
	})

	t.Run("rules", func(t *testing.T) {
		var rules struct {
			Groups []struct {
				Rules []struct {
					Name        string            `json:"name"`
					Type        string            `json:"type"`
					Health      string            `json:"health"`
					LastError   string            `json:"lastError"`
					Annotations map[string]string `json:"annotations"`
				} `json:"rules"`
			} `json:"groups"`
		}
		query(ctx, t, base, "/api/v1/rules", nil, &rules)
		n := 0
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				n++
				if r.Health != "ok" {
					t.Errorf("%s: health %q: %s", r.Name, r.Health, r.LastError)
				}
				if r.Annotations["summary"] == "" {
					t.Errorf("%s: no summary", r.Name)
				}
				if d := r.Annotations["description"]; !strings.Contains(d, "jtbot doctor") || !strings.Contains(d, "README") {
					t.Errorf("%s: the description should point at jtbot doctor and the README: %q", r.Name, d)
				}
			}
		}
		if n != len(alertNames(t)) {
			t.Errorf("Prometheus loaded %d rules, alerts.yml has %d alerts", n, len(alertNames(t)))
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		for _, p := range dashboardQueries(t) {
			expr := strings.NewReplacer(`$job`, "jtbot", `$instance`, ".*", `$__rate_interval`, "1m").Replace(p.expr)
			var last string
			ok := poll(ctx, 3*time.Second, func() bool {
				var result struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				}
				query(ctx, t, base, "/api/v1/query", url.Values{"query": {expr}}, &result)
				last = fmt.Sprint(result.Result)
				for _, r := range result.Result {
					s, _ := r.Value[1].(string)
					if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(v) {
						return true
					}
				}
				return false
			})
			if !ok {
				t.Errorf("panel %q: %s returned no data (last result %s)", p.title, expr, last)
			}
		}
	})
}

type panelQuery struct{ title, expr string }

// dashboardQueries returns every query of every panel, after checking
// what Grafana needs to show them.
func dashboardQueries(t *testing.T) []panelQuery {
	t.Helper()
	raw, err := os.ReadFile("jtbot-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID         int    `json:"id"`
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("jtbot-dashboard.json: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("jtbot-dashboard.json: no uid or no panels")
	}
	var queries []panelQuery
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %q, want the dashboard's ${datasource} variable", p.Title, p.Datasource.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		for _, q := range p.Targets {
			queries = append(queries, panelQuery{p.Title, q.Expr})
		}
	}
	return queries
}

// scrapeTarget serves jtbot's metrics to Prometheus and counts its scrapes.
type scrapeTarget struct {
	addr    string
	scrapes atomic.Int64
	scraped chan struct{} // signalled (coalesced) after each scrape
}

func newScrapeTarget(t *testing.T, metrics http.Handler) *scrapeTarget {
	st := &scrapeTarget{scraped: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		metrics.ServeHTTP(w, r)
		st.scrapes.Add(1)
		select {
		case st.scraped <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	st.addr = srv.Listener.Addr().String()
	return st
}

// waitScrapes returns once n more scrapes have been served.
func (st *scrapeTarget) waitScrapes(ctx context.Context, t *testing.T, n int64) {
	t.Helper()
	goal := st.scrapes.Load() + n
	for st.scrapes.Load() < goal {
		select {
		case <-st.scraped:
		case <-ctx.Done():
			t.Fatalf("Prometheus scraped %d times, waited for %d", st.scrapes.Load(), goal)
		}
	}
}

func roundTrip(t *testing.T, rt http.RoundTripper, u string) {
	t.Helper()
	resp, err := (&http.Client{Transport: rt}).Post(u, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// startPrometheus runs prometheus on a free port, scraping targets every
// second as job "jtbot", with alerts.yml loaded and every "for" cut to 1s
// (the shipped durations are minutes). It returns the API's base URL once
// Prometheus is ready, and stops it when the test ends.
func startPrometheus(ctx context.Context, t *testing.T, bin, dir string, targets []string) string {
	t.Helper()
	rules, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	rules = regexp.MustCompile(`(?m)^(\s+for:\s*)\S+`).ReplaceAll(rules, []byte("${1}1s"))
	rulesPath := filepath.Join(dir, "alerts.yml")
	quoted := make([]string, len(targets))
	for i, a := range targets {
		quoted[i] = strconv.Quote(a)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: jtbot
    static_configs:
      - targets: [%s]
`, rulesPath, strings.Join(quoted, ", "))
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(rulesPath, rules, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin,
		"--config.file="+configPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			logs, _ := os.ReadFile(logPath)
			t.Logf("prometheus log:\n%s", logs)
		}
	})

	base := "http://" + addr
	ready := poll(ctx, 20*time.Second, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/-/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	select {
	case <-exited:
		t.Fatalf("prometheus exited: %v", cmd.ProcessState)
	default:
	}
	if !ready {
		t.Fatal("prometheus did not become ready")
	}
	return base
}

// poll checks cond every 200 ms until it holds, for at most timeout.
// Prometheus is another process: its API is the only way to learn what it
// decided.
func poll(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// query GETs a Prometheus API path and decodes its data into out.
func query(ctx context.Context, t *testing.T, base, path string, params url.Values, out any) {
	t.Helper()
	u := base + path
	if params != nil {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var envelope struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&envelope); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if envelope.Status != "success" {
		t.Fatalf("GET %s: %s", u, envelope.Error)
	}
	if err := json.Unmarshal(envelope.Data, out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// logRules shows what Prometheus made of each rule, for a failed test.
func logRules(ctx context.Context, t *testing.T, base string) {
	var rules json.RawMessage
	query(ctx, t, base, "/api/v1/rules", nil, &rules)
	t.Logf("rules: %s", rules)
}
