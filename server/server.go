package server

import (
	"crypto/subtle"
	"fmt"
	stdlog "log"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Options are what the listener serves; nil handlers are not mounted.
type Options struct {
	// Telegram and Jira receive the webhooks, behind the per-address guard.
	Telegram http.Handler
	Jira     http.Handler
	// OAuthCallback serves GET /oauth/jira/callback (personal accounts).
	OAuthCallback http.Handler
	// Metrics serves GET /metrics, behind MetricsToken or the loopback rule.
	Metrics http.Handler
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// Health lists what /healthz checks, in order.
	Health []Check
	// TrustedProxies are believed about X-Forwarded-For.
	TrustedProxies Proxies
	// Log receives net/http's own complaints; Now is the guard's clock.
	Log logrus.FieldLogger
	Now func() time.Time
}

// Check is one part of /healthz: Err returns nil while the part is well.
type Check struct {
	Name string
	Err  func() error
}

// New builds the one HTTP server with every timeout set. The caller sets
// TLSConfig when it serves HTTPS.
func New(o Options) *http.Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		o.Log = l
	}
	mux := http.NewServeMux()
	g := newGuard(o.Now, o.TrustedProxies)
	if o.Telegram != nil {
		mux.Handle("/webhook/telegram/", g.wrap(o.Telegram))
	}
	if o.Jira != nil {
		mux.Handle("/webhook/jira/", g.wrap(o.Jira))
	}
	if o.OAuthCallback != nil {
		// Behind the guard too: a flood of forged states is slowed down
		// like wrong webhook secrets.
		mux.Handle("/oauth/jira/callback", g.wrap(o.OAuthCallback))
	}
	mux.Handle("/healthz", Healthz(o.Health...))
	if o.Metrics != nil {
		mux.Handle("GET /metrics", MetricsAccess(o.MetricsToken, o.Metrics))
	}
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		// net/http's own complaints (bad TLS handshakes, broken clients)
		// go to our log, not to stderr.
		ErrorLog: stdlog.New(o.Log.WithField("component", "http").WriterLevel(logrus.DebugLevel), "", 0),
	}
}

// Healthz answers 200 "ok" while every check passes, else 503 with the
// first failing check's name and error.
func Healthz(checks ...Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		for _, c := range checks {
			if err := c.Err(); err != nil {
				http.Error(w, c.Name+": "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
}

// MetricsAccess guards h: with a token, only "Authorization: Bearer
// <token>" passes (else 401); without one, only a loopback peer whose
// request carries no forwarding header (else 403). A reverse proxy on the
// same host must therefore set X-Forwarded-For (as TRUSTED_PROXIES needs
// anyway), or METRICS_TOKEN must be set.
func MetricsAccess(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, ok := bearer(r.Header.Get("Authorization"))
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="jtbot metrics"`)
				http.Error(w, "bearer token required", http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		if peer := peerAddr(r); !peer.IsLoopback() || forwarded(r.Header) {
			http.Error(w, "metrics are served to loopback only (or set METRICS_TOKEN)", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
