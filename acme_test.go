package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/server"
	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/acme"
)

const testDomain = "bot.test"

// pebble is a Let's Encrypt test CA running in-process.
type pebble struct {
	directory    string
	client       *http.Client // trusts the CA's own HTTPS endpoint
	roots        *x509.CertPool
	intermediate *x509.Certificate
}

// startPebble runs Pebble the way its cmd/pebble does, with validation
// switched off: it believes every challenge, so none needs to reach us.
func startPebble(t *testing.T) *pebble {
	t.Helper()
	t.Setenv("PEBBLE_VA_ALWAYS_VALID", "1")
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	logger := log.New(io.Discard, "", 0)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	validator := va.New(logger, 80, 443, false, "", store)
	frontend := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	srv := httptest.NewTLSServer(frontend.Handler())
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(authority.GetRootCert(0).Cert)
	return &pebble{
		directory:    srv.URL + wfe.DirectoryPath,
		client:       srv.Client(),
		roots:        roots,
		intermediate: authority.GetIntermediateCert(0).Cert,
	}
}

// startACMEDaemon runs the daemon in poll mode with TLS_DOMAIN against
// the given CA; it returns the listener's address.
func startACMEDaemon(t *testing.T, w *world, opts server.ACMEOptions, extra ...string) (addr string, stop func() int) {
	t.Helper()
	cfg, err := config.Load(w.env(append([]string{"TLS_DOMAIN=" + testDomain}, extra...)...), true)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logger := logrus.New()
	logger.SetOutput(w.logs)
	logger.SetLevel(logrus.DebugLevel)
	ctx, cancel := context.WithCancel(context.Background())
	addrc, done := make(chan string, 1), make(chan int, 1)
	go func() { done <- daemon(ctx, cfg, logger, hooks{ready: func(a string) { addrc <- a }, acme: opts}) }()
	select {
	case addr = <-addrc:
	case code := <-done:
		cancel()
		t.Fatalf("daemon exited with %d before listening:\n%s", code, w.logs)
	case <-time.After(waitLong):
		cancel()
		t.Fatal("daemon did not start")
	}
	stopped := false
	code := 0
	stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			code = <-done
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return addr, stop
}

// clientFor dials whatever address a URL names but asks for, and checks
// the certificate of, the domain: DNS for bot.test points nowhere.
func clientFor(roots *x509.CertPool, serverName string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: serverName},
	}}
}

func TestACMEIssuesCertificateEndToEnd(t *testing.T) {
	pb := startPebble(t)
	w := newWorld(t)
	env := []string{"ACME_DIRECTORY_URL=" + pb.directory, "ACME_EMAIL=ops@example.com"}

	// Before the first start doctor says what issuance needs.
	_, out := command(w.env(append(env, "TLS_DOMAIN="+testDomain)...), "doctor", "-poll")
	if !strings.Contains(out, "no certificate issued yet") || !strings.Contains(out, "port 443") {
		t.Errorf("doctor before issuance:\n%s", out)
	}

	addr, stop := startACMEDaemon(t, w, server.ACMEOptions{HTTPClient: pb.client}, env...)

	// A client that trusts only Pebble's root reaches the daemon by name.
	client := clientFor(pb.roots, testDomain)
	var state *tls.ConnectionState
	ok := waitFor(func() bool {
		resp, err := client.Get("https://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		state = resp.TLS
		return resp.StatusCode == http.StatusOK
	})
	if !ok {
		t.Fatalf("no healthy HTTPS with a Pebble certificate for %s:\n%s", testDomain, w.logs)
	}
	leaf := state.PeerCertificates[0]
	if !slices.Equal(leaf.DNSNames, []string{testDomain}) {
		t.Errorf("certificate names %v, want [%s]", leaf.DNSNames, testDomain)
	}
	intermediates := x509.NewCertPool()
	intermediates.AddCert(pb.intermediate)
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: testDomain, Roots: pb.roots, Intermediates: intermediates}); err != nil {
		t.Errorf("certificate not issued by Pebble's intermediate: %v (issuer %s)", err, leaf.Issuer)
	}
	// Issued at start, not left to the first connection.
	if !waitFor(func() bool { return strings.Contains(w.logs.String(), "ACME certificate ready") }) {
		t.Errorf("certificate not fetched at start:\n%s", w.logs)
	}
	if state.Version < tls.VersionTLS12 {
		t.Errorf("negotiated TLS version %x", state.Version)
	}

	// The account and certificate are cached beside the database, private.
	dir := filepath.Join(filepath.Dir(w.db), "acme")
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("cache directory %s: %v, %v; want mode 0700", dir, info, err)
	}
	if _, err := os.Stat(filepath.Join(dir, testDomain)); err != nil {
		t.Errorf("certificate not cached: %v", err)
	}

	t.Run("handshakes", func(t *testing.T) {
		tests := []struct {
			name string
			conf *tls.Config
			ok   bool
		}{
			{"the domain", &tls.Config{ServerName: testDomain, RootCAs: pb.roots}, true},
			{"another name", &tls.Config{ServerName: "other.test", InsecureSkipVerify: true}, false},
			{"no name", &tls.Config{InsecureSkipVerify: true}, false},
			{"TLS 1.1", &tls.Config{ServerName: testDomain, RootCAs: pb.roots, MaxVersion: tls.VersionTLS11}, false},
			// A challenge handshake with no challenge pending: refused, not
			// answered with the real certificate.
			{"ALPN challenge", &tls.Config{ServerName: testDomain, InsecureSkipVerify: true, NextProtos: []string{acme.ALPNProto}}, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				conn, err := tls.Dial("tcp", addr, tt.conf)
				if err == nil {
					conn.Close()
				}
				if (err == nil) != tt.ok {
					t.Errorf("handshake error %v, want success %v", err, tt.ok)
				}
			})
		}
	})

	// doctor reads the cached certificate.
	_, out = command(w.env(append(env, "TLS_DOMAIN="+testDomain)...), "doctor", "-poll")
	if !strings.Contains(out, "✓ HTTPS certificate over ACME: names ["+testDomain+"]") {
		t.Errorf("doctor does not show the certificate:\n%s", out)
	}

	// A restart serves the cached certificate: Pebble is gone.
	if code := stop(); code != exitOK {
		t.Fatalf("stop: exit %d", code)
	}
	addr, _ = startACMEDaemon(t, w, server.ACMEOptions{HTTPClient: pb.client}, "ACME_DIRECTORY_URL=https://127.0.0.1:1/dir")
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("after a restart without the CA: %v\n%s", err, w.logs)
	}
	resp.Body.Close()
	if !resp.TLS.PeerCertificates[0].Equal(leaf) {
		t.Errorf("restart did not serve the cached certificate")
	}
}

func TestACMEAnswersHTTP01AndRedirects(t *testing.T) {
	w := newWorld(t)
	// An existing cache directory too open for private keys is tightened.
	dir := filepath.Join(filepath.Dir(w.db), "acme")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	challenge := freeAddr(t)
	// No CA is needed: nothing here asks for a certificate but prefetch,
	// whose failure is only logged.
	_, stop := startACMEDaemon(t, w, server.ACMEOptions{ChallengeAddr: challenge}, "ACME_DIRECTORY_URL=https://127.0.0.1:1/dir")
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v, %v; want mode 0700", info, err)
	}
	// Let the failing prefetch finish writing the account key to the cache
	// before the test's directory goes.
	if !waitFor(func() bool { return strings.Contains(w.logs.String(), "cannot get a certificate over ACME yet") }) {
		t.Errorf("an unreachable CA is not reported:\n%s", w.logs)
	}

	plain := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		name, host, path string
		status           int
		location         string
	}{
		{"webhook redirected", testDomain, "/webhook/telegram/?a=1", http.StatusFound, "https://" + testDomain + "/webhook/telegram/?a=1"},
		{"unknown token", testDomain, "/.well-known/acme-challenge/nope", http.StatusNotFound, ""},
		{"challenge for another host", "other.test", "/.well-known/acme-challenge/nope", http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+challenge+tt.path, nil)
			req.Host = tt.host
			resp, err := plain.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
			}
		})
	}

	// The challenge listener stops with the daemon.
	stop()
	if resp, err := plain.Get("http://" + challenge + "/"); err == nil {
		resp.Body.Close()
		t.Errorf("HTTP-01 listener still answers after the daemon stopped")
	}
}

func TestACMESettingsRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	_, certFile, keyFile := selfSignedCert(t, dir, "files")
	tests := []struct {
		name  string
		env   []string
		names []string // each must appear in the output
	}{
		{"domain with files", []string{"TLS_DOMAIN=" + testDomain, "TLS_CERT_FILE=" + certFile, "TLS_KEY_FILE=" + keyFile}, []string{"TLS_DOMAIN", "TLS_CERT_FILE"}},
		{"email without domain", []string{"ACME_EMAIL=ops@example.com"}, []string{"ACME_EMAIL", "TLS_DOMAIN"}},
		{"directory without domain", []string{"ACME_DIRECTORY_URL=https://ca.example/dir"}, []string{"ACME_DIRECTORY_URL", "TLS_DOMAIN"}},
		{"directory not https", []string{"TLS_DOMAIN=" + testDomain, "ACME_DIRECTORY_URL=http://ca.example/dir"}, []string{"ACME_DIRECTORY_URL:"}},
		{"directory not a url", []string{"TLS_DOMAIN=" + testDomain, "ACME_DIRECTORY_URL=ca.example"}, []string{"ACME_DIRECTORY_URL:"}},
		{"domain with scheme", []string{"TLS_DOMAIN=https://" + testDomain}, []string{"TLS_DOMAIN:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			code, out := command(append(w.env(tt.env...), "TELEGRAM_WEBHOOK_URL=https://"+testDomain+"/webhook/telegram/"))
			if code != exitConfig {
				t.Errorf("exit %d, want %d:\n%s", code, exitConfig, out)
			}
			for _, name := range tt.names {
				if !strings.Contains(out, name) {
					t.Errorf("output does not name %s:\n%s", name, out)
				}
			}
		})
	}
}

func TestDoctorShowsCachedACMECertificate(t *testing.T) {
	tests := []struct {
		name  string
		entry func(t *testing.T) []byte // the cache file's content; nil: none
		want  string
	}{
		{"none yet", nil, "✓ HTTPS for bot.test over ACME: no certificate issued yet"},
		{"valid", func(t *testing.T) []byte { return cacheEntry(t, 60*24*time.Hour) }, "✓ HTTPS certificate over ACME: names [bot.test]"},
		{"not renewed", func(t *testing.T) []byte { return cacheEntry(t, 2*24*time.Hour) }, "✗ HTTPS certificate not renewed: names [bot.test]"},
		{"corrupt", func(t *testing.T) []byte { return []byte("garbage") }, "✗ HTTPS certificate cached in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Config{TLSDomain: testDomain, DBPath: filepath.Join(t.TempDir(), "jtbot.db")}
			if tt.entry != nil {
				dir := server.ACMECacheDir(cfg.DBPath)
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, testDomain), tt.entry(t), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var out strings.Builder
			(&doctor{out: &out}).checkTLS(cfg)
			if !strings.HasPrefix(out.String(), tt.want) {
				t.Errorf("doctor says:\n%s\nwant it to start %q", out.String(), tt.want)
			}
		})
	}
}

// cacheEntry is what autocert caches: the key, then the certificate, PEM.
func cacheEntry(t *testing.T, validFor time.Duration) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: testDomain},
		Issuer:       pkix.Name{CommonName: "test CA"},
		DNSNames:     []string{testDomain},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(validFor),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
}

// waitFor polls cond with a deadline. ACME issuance runs inside autocert
// and the in-process CA, which expose no event to wait on: the handshake
// (or the log line) is the only sign.
func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
