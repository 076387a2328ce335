// Package metrics owns jtbot's Prometheus series: what came in, what went
// out, what failed, how long delivery took, and the states an operator is
// alerted on (a stale queue, refused Jira credentials, a failing Telegram
// webhook, an expiring certificate). A nil *Metrics records nothing, so
// packages and tests that don't care pass nil. The alert rules and the
// dashboard built on these series live in monitoring/.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every series jtbot exports.
type Metrics struct {
	registry *prometheus.Registry
	received *prometheus.CounterVec
	requests *prometheus.CounterVec
	failures *prometheus.CounterVec
	retries  *prometheus.CounterVec
	dead     *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	// jiraRefused is 1 while Jira's last answer to jtbot was 401 or 403.
	jiraRefused     prometheus.Gauge
	jiraAuthFailure *prometheus.GaugeVec // no labels: absent until a refusal is seen
	// Absent until set, so that jtbot in -poll mode or behind a proxy that
	// terminates TLS exports no webhook or certificate series to alert on.
	webhookPending   *prometheus.GaugeVec
	webhookLastError *prometheus.GaugeVec
	certExpiry       *prometheus.GaugeVec

	now func() time.Time
}

// Sources are the values of the source label on series jtbot computes
// itself: where a queued item came from.
var Sources = []string{"telegram", "jira"}

// Queue reports the queue's state for the gauges; storage.Store is one.
type Queue interface {
	Depth() (queued, dead int)
	// OldestQueued is when the oldest queued item of each source was received.
	OldestQueued() (map[string]time.Time, error)
}

// New registers jtbot's series, the queue gauges and the Go and process
// collectors in a registry of its own.
func New(q Queue) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jtbot_received_total", Help: "Telegram updates and Jira webhooks accepted into the queue, by source and kind.",
		}, []string{"source", "kind"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jtbot_requests_total", Help: "Requests sent to Telegram and Jira, by target, method and HTTP status (0: no answer).",
		}, []string{"target", "method", "code"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jtbot_failures_total", Help: "Failed attempts at handling queued items, by source and reason.",
		}, []string{"source", "reason"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jtbot_retries_total", Help: "Queued items rescheduled for another attempt, by source.",
		}, []string{"source"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jtbot_dead_letters_total", Help: "Queued items given up on and moved to the dead letters, by source.",
		}, []string{"source"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jtbot_delivery_seconds",
			Help:    "Time from receiving an item to finishing it (end-to-end delivery), by source.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
		}, []string{"source"}),
		jiraRefused: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jtbot_jira_credentials_refused",
			Help: "1 while Jira answers jtbot's requests with 401 or 403 (credentials refused), 0 once it answers 2xx again.",
		}),
		jiraAuthFailure: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jtbot_jira_auth_failure_last_timestamp_seconds",
			Help: "When Jira last answered 401 or 403 (Unix time); absent until it happens.",
		}, nil),
		webhookPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jtbot_telegram_pending_updates",
			Help: "Updates Telegram holds for the webhook (getWebhookInfo pending_update_count); absent in -poll mode.",
		}, nil),
		webhookLastError: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jtbot_telegram_webhook_last_error_timestamp_seconds",
			Help: "When Telegram last failed to deliver to the webhook (getWebhookInfo last_error_date, Unix time; 0: no error); absent in -poll mode.",
		}, nil),
		certExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jtbot_tls_certificate_expiry_timestamp_seconds",
			Help: "When the certificate jtbot serves expires (Unix time); absent when jtbot serves no TLS.",
		}, nil),
		now: time.Now,
	}
	// Known sources start at zero, so that the first dead letter or delivery
	// is an increase a rate() or an alert can see.
	for _, source := range Sources {
		m.dead.WithLabelValues(source)
		m.latency.WithLabelValues(source)
	}
	m.registry.MustRegister(m.received, m.requests, m.failures, m.retries, m.dead, m.latency,
		m.jiraRefused, m.jiraAuthFailure, m.webhookPending, m.webhookLastError, m.certExpiry,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if q != nil {
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jtbot_queue_depth", Help: "Items waiting in the durable queue."},
				func() float64 { n, _ := q.Depth(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jtbot_dead_letters", Help: "Items in the dead letters now."},
				func() float64 { _, n := q.Depth(); return float64(n) }),
			&queueAge{q: q, now: func() time.Time { return m.now() }},
		)
	}
	return m
}

// queueAge computes jtbot_queue_oldest_age_seconds when scraped, so the
// age grows while nothing moves, which is exactly when it matters.
type queueAge struct {
	q   Queue
	now func() time.Time
}

var queueAgeDesc = prometheus.NewDesc("jtbot_queue_oldest_age_seconds",
	"Age of the oldest item in the durable queue, by source (0: nothing queued).", []string{"source"}, nil)

func (c *queueAge) Describe(ch chan<- *prometheus.Desc) { ch <- queueAgeDesc }

// Collect exports one series per known source. When the database cannot
// be read the series are left out rather than failing the whole scrape:
// the other series (and /healthz) still tell the operator what is wrong.
func (c *queueAge) Collect(ch chan<- prometheus.Metric) {
	oldest, err := c.q.OldestQueued()
	if err != nil {
		return
	}
	now := c.now()
	for _, source := range Sources {
		age := 0.0
		if t, ok := oldest[source]; ok {
			age = max(now.Sub(t).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, age, source)
	}
}

// SetWebhookInfo records what Telegram's getWebhookInfo reported: the
// updates it holds for jtbot and when delivering one last failed (zero
// time: never).
func (m *Metrics) SetWebhookInfo(pending int, lastError time.Time) {
	if m == nil {
		return
	}
	m.webhookPending.WithLabelValues().Set(float64(pending))
	m.webhookLastError.WithLabelValues().Set(unixSeconds(lastError))
}

// SetCertExpiry records when the certificate being served expires; the
// zero time removes the series (no certificate).
func (m *Metrics) SetCertExpiry(notAfter time.Time) {
	if m == nil {
		return
	}
	if notAfter.IsZero() {
		m.certExpiry.DeleteLabelValues()
		return
	}
	m.certExpiry.WithLabelValues().Set(unixSeconds(notAfter))
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// Handler serves GET /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Received counts an item accepted into the queue.
func (m *Metrics) Received(source, kind string) {
	if m != nil {
		m.received.WithLabelValues(source, kind).Inc()
	}
}

// Failed counts a failed attempt; retried says whether it will be tried again.
func (m *Metrics) Failed(source, reason string, retried bool) {
	if m == nil {
		return
	}
	m.failures.WithLabelValues(source, reason).Inc()
	if retried {
		m.retries.WithLabelValues(source).Inc()
	} else {
		m.dead.WithLabelValues(source).Inc()
	}
}

// Delivered observes the time from receipt to completion.
func (m *Metrics) Delivered(source string, received time.Time) {
	if m != nil && !received.IsZero() {
		m.latency.WithLabelValues(source).Observe(time.Since(received).Seconds())
	}
}

// Transport wraps base (nil: http.DefaultTransport) to count requests to
// target. method names the call without secrets: the last path segment,
// which for the Bot API is the method and never the token.
func (m *Metrics) Transport(target string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil {
		return base
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		code := 0
		if err == nil {
			code = resp.StatusCode
		}
		m.requests.WithLabelValues(target, callName(target, r), strconv.Itoa(code)).Inc()
		if target == "jira" {
			m.jiraAnswered(code)
		}
		return resp, err
	})
}

// jiraAnswered tracks whether Jira accepts jtbot's credentials. Jira
// answers 401 to a bad token and 403 to an account that may not use the
// API (or must pass a CAPTCHA); jtbot holds its work until this is fixed.
// Any 2xx proves the credentials work again. Other answers (404, 5xx, no
// answer) say nothing about them and leave the gauge alone.
func (m *Metrics) jiraAnswered(code int) {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		m.jiraRefused.Set(1)
		m.jiraAuthFailure.WithLabelValues().Set(unixSeconds(m.now()))
	case code >= 200 && code < 300:
		m.jiraRefused.Set(0)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// callName keeps label cardinality bounded: Bot API method names as they
// are; for Jira, the HTTP method and the resource kind (issue keys and ids
// dropped).
func callName(target string, r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if target == "telegram" {
		if len(parts) >= 2 && strings.HasPrefix(parts[len(parts)-2], "bot") {
			return parts[len(parts)-1]
		}
		return "file"
	}
	kind := ""
	for i, p := range parts {
		if p == "api" || p == "webhooks" {
			// rest/api/2/<kind>/<id>/<sub>…: keep kind and sub-resource names.
			for _, q := range parts[min(i+2, len(parts)):] {
				if !looksLikeID(q) {
					kind += "/" + q
				}
			}
			break
		}
	}
	if kind == "" {
		kind = "/other"
	}
	return r.Method + " " + kind
}

func looksLikeID(s string) bool {
	if s == "" {
		return true
	}
	if _, err := strconv.Atoi(s); err == nil {
		return true
	}
	// Issue keys: PROJ-123.
	dash := strings.LastIndexByte(s, '-')
	if dash > 0 {
		if _, err := strconv.Atoi(s[dash+1:]); err == nil {
			return true
		}
	}
	return false
}
