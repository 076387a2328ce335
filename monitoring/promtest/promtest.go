// Package promtest runs a real Prometheus for tests: it scrapes the given
// targets every second with jtbot's alert rules loaded (every "for" cut
// to 1s) and answers through its HTTP API. Tests use it to prove that the
// rules name series jtbot really exports and fire on the states they are
// written for.
package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary finds a Prometheus binary (prometheus, promtool). Without it the
// test skips on a developer machine but fails in CI (env CI set), where
// it must be installed.
func Binary(t testing.TB, name string) string {
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

// AlertNames are the alerts a rules file defines, in order.
func AlertNames(t testing.TB, rulesFile string) []string {
	t.Helper()
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*- alert: (\w+)\s*$`).FindAllSubmatch(rules, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) == 0 {
		t.Fatalf("%s defines no alerts", rulesFile)
	}
	return names
}

// Config is what Start runs.
type Config struct {
	// Rules is the rules file (monitoring/alerts.yml). Start loads a copy
	// with every "for" cut to 1s, then Rewrite applied, if set.
	Rules   string
	Rewrite func(rules []byte) []byte
	// Targets are host:port pairs, scraped as job "jtbot".
	Targets []string
	// HTTPS scrapes over TLS without verifying the certificate (tests
	// serve self-signed ones).
	HTTPS bool
}

// Prometheus is a running Prometheus.
type Prometheus struct {
	// URL is its API's base URL.
	URL string
}

// Start runs bin (a prometheus binary) on a free port with its files in
// dir (made if missing), scraping and evaluating every second. It returns once Prometheus
// is ready and stops it when the test ends (showing its log if the test
// failed).
func Start(ctx context.Context, t testing.TB, bin, dir string, c Config) *Prometheus {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile(c.Rules)
	if err != nil {
		t.Fatal(err)
	}
	rules = regexp.MustCompile(`(?m)^(\s+for:\s*)\S+`).ReplaceAll(rules, []byte("${1}1s"))
	if c.Rewrite != nil {
		rules = c.Rewrite(rules)
	}
	rulesPath := filepath.Join(dir, "alerts.yml")
	quoted := make([]string, len(c.Targets))
	for i, a := range c.Targets {
		quoted[i] = strconv.Quote(a)
	}
	scheme := "http"
	if c.HTTPS {
		scheme = "https"
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: jtbot
    scheme: %s
    tls_config:
      insecure_skip_verify: true
    static_configs:
      - targets: [%s]
`, rulesPath, scheme, strings.Join(quoted, ", "))
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

	p := &Prometheus{URL: "http://" + addr}
	ready := Poll(ctx, 20*time.Second, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/-/ready", nil)
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
	return p
}

// Poll checks cond every 200 ms until it holds, for at most timeout.
// Prometheus is another process: its API is the only way to learn what it
// decided.
func Poll(ctx context.Context, timeout time.Duration, cond func() bool) bool {
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

// Query GETs an API path and decodes its data into out.
func (p *Prometheus) Query(ctx context.Context, t testing.TB, path string, params url.Values, out any) {
	t.Helper()
	u := p.URL + path
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

// Value evaluates an instant query and returns the first result's value
// (ok false when the result is empty).
func (p *Prometheus) Value(ctx context.Context, t testing.TB, expr string) (v float64, ok bool) {
	t.Helper()
	var result struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	p.Query(ctx, t, "/api/v1/query", url.Values{"query": {expr}}, &result)
	for _, r := range result.Result {
		s, _ := r.Value[1].(string)
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v, true
		}
	}
	return 0, false
}

// AlertStates maps each active alert's name to its state ("pending" or
// "firing").
func (p *Prometheus) AlertStates(ctx context.Context, t testing.TB) map[string]string {
	t.Helper()
	var alerts struct {
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	}
	p.Query(ctx, t, "/api/v1/alerts", nil, &alerts)
	states := map[string]string{}
	for _, a := range alerts.Alerts {
		if states[a.Labels["alertname"]] != "firing" {
			states[a.Labels["alertname"]] = a.State
		}
	}
	return states
}

// WaitAlerts polls until every named alert is pending or firing, for at
// most timeout, and reports each one that is not. It returns the last
// states seen.
func (p *Prometheus) WaitAlerts(ctx context.Context, t testing.TB, timeout time.Duration, names ...string) map[string]string {
	t.Helper()
	var states map[string]string
	active := func() bool {
		for _, name := range names {
			if s := states[name]; s != "pending" && s != "firing" {
				return false
			}
		}
		return true
	}
	if Poll(ctx, timeout, func() bool { states = p.AlertStates(ctx, t); return active() }) {
		return states
	}
	for _, name := range names {
		if s := states[name]; s != "pending" && s != "firing" {
			t.Errorf("%s: not pending or firing (state %q)", name, s)
		}
	}
	p.LogRules(ctx, t)
	return states
}

// LogRules shows what Prometheus made of each rule, for a failed test.
func (p *Prometheus) LogRules(ctx context.Context, t testing.TB) {
	t.Helper()
	var rules json.RawMessage
	p.Query(ctx, t, "/api/v1/rules", nil, &rules)
	t.Logf("rules: %s", rules)
}
