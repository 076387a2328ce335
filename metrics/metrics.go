// Package metrics owns jtbot's Prometheus series: what came in, what went
// out, what failed, and how long delivery took. A nil *Metrics records
// nothing, so packages and tests that don't care pass nil.
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
}

// Queue reports the queue's size for the gauges; storage.Store is one.
type Queue interface {
	Depth() (queued, dead int)
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
	}
	m.registry.MustRegister(m.received, m.requests, m.failures, m.retries, m.dead, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if q != nil {
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jtbot_queue_depth", Help: "Items waiting in the durable queue."},
				func() float64 { n, _ := q.Depth(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jtbot_dead_letters", Help: "Items in the dead letters now."},
				func() float64 { _, n := q.Depth(); return float64(n) }),
		)
	}
	return m
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
		return resp, err
	})
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
