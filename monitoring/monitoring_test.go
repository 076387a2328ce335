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
	"testing"
	"time"

	"github.com/jtbot/jtbot/metrics"
	"github.com/jtbot/jtbot/monitoring/promtest"
	"github.com/jtbot/jtbot/storage"
)

// alertNames are the alerts alerts.yml defines, in order.
func alertNames(t *testing.T) []string {
	t.Helper()
	return promtest.AlertNames(t, "alerts.yml")
}

func TestRulesPassPromtool(t *testing.T) {
	promtool := promtest.Binary(t, "promtool")
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
	prometheusBin := promtest.Binary(t, "prometheus")
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

	prom := promtest.Start(ctx, t, prometheusBin, dir, promtest.Config{Rules: "alerts.yml", Targets: []string{target.addr, deadTarget}})

	// Bad states that are changes: Prometheus must have seen the before.
	target.waitScrapes(ctx, t, 2)
	m.SetWebhookInfo(5, time.Now().Add(-time.Second)) // pending updates grow
	for range 3 {
		m.Delivered("jira", time.Now().Add(-4*time.Minute)) // DeliveryLatencyHigh
	}
	target.waitScrapes(ctx, t, 2)

	t.Run("alerts", func(t *testing.T) {
		prom.WaitAlerts(ctx, t, 20*time.Second, alertNames(t)...)
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
		prom.Query(ctx, t, "/api/v1/rules", nil, &rules)
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
			ok := promtest.Poll(ctx, 3*time.Second, func() bool {
				var result struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				}
				prom.Query(ctx, t, "/api/v1/query", url.Values{"query": {expr}}, &result)
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
