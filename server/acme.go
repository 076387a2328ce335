package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jtbot/jtbot/config"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ACMEOptions are the parts of ACME that callers and tests choose.
type ACMEOptions struct {
	// HTTPClient talks to the ACME directory; nil means a plain client
	// with a timeout.
	HTTPClient *http.Client
	// ChallengeAddr, when set, is where HTTP-01 challenges are answered
	// instead of port 80 (tests cannot bind it).
	ChallengeAddr string
	// UserAgent names jtbot and its version to the CA.
	UserAgent string
}

// ACME is HTTPS with certificates issued and renewed over ACME:
// TLS-ALPN-01 is answered on the listener itself, HTTP-01 on port 80 when
// the listener is on 443.
type ACME struct {
	manager   *autocert.Manager
	challenge *http.Server // nil when HTTP-01 is not served
	log       logrus.FieldLogger
}

// ACMECacheDir holds the ACME account key and the certificates, beside the
// database so it lives in the same state directory.
func ACMECacheDir(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), "acme")
}

// StartACME sets up certificate issuance for TLS_DOMAIN and, when the
// listener is on 443, the HTTP-01 listener on port 80 of the same host.
func StartACME(cfg *config.Config, opts ACMEOptions, log logrus.FieldLogger) (*ACME, error) {
	dir := ACMECacheDir(cfg.DBPath)
	// The cache holds private keys: only jtbot's user may read it, even
	// when the directory already existed.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("acme: cache directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("acme: cache directory: %w", err)
	}
	directory := cfg.ACMEDirectoryURL
	if directory == "" {
		directory = acme.LetsEncryptURL
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	a := &ACME{
		manager: &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(cfg.TLSDomain),
			Email:      cfg.ACMEEmail,
			Cache:      autocert.DirCache(dir),
			Client:     &acme.Client{DirectoryURL: directory, HTTPClient: client, UserAgent: opts.UserAgent},
		},
		log: log,
	}
	fields := logrus.Fields{"domain": cfg.TLSDomain, "directory": directory, "cache": dir}
	if leaf, err := CachedACMECert(dir, cfg.TLSDomain); err == nil {
		fields["certificate"] = DescribeCert(leaf)
	}
	log.WithFields(fields).Info("serving HTTPS with certificates from ACME")
	if host := webhookHost(cfg.TelegramWebhookURL); host != "" && !strings.EqualFold(host, cfg.TLSDomain) {
		log.WithField("domain", cfg.TLSDomain).Warn("TELEGRAM_WEBHOOK_URL names another host than TLS_DOMAIN: Telegram will not get a certificate for it")
	}

	addr := opts.ChallengeAddr
	if addr == "" {
		addr = ChallengeAddr(cfg.ListenAddr)
	}
	if addr != "" {
		a.serveChallenges(addr)
	} else if !onHTTPSPort(cfg.ListenAddr) {
		log.WithField("listen", cfg.ListenAddr).Warn("CAs validate on port 443 (or 80): with LISTEN_ADDR on another port, issuance works only if port 443 is forwarded to it")
	}
	return a, nil
}

// serveChallenges answers HTTP-01 on addr and redirects everything else
// there to HTTPS. Without it TLS-ALPN-01 still works, so a busy port 80
// is a warning, not a reason to stop.
func (a *ACME) serveChallenges(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		a.log.WithError(err).Warn("cannot answer HTTP-01 challenges on port 80; relying on TLS-ALPN-01 on the HTTPS port")
		return
	}
	a.challenge = &http.Server{
		Handler:           a.manager.HTTPHandler(nil),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}
	a.log.WithField("addr", ln.Addr().String()).Info("answering HTTP-01 challenges, redirecting the rest to HTTPS")
	go func() {
		if err := a.challenge.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.WithError(err).Error("HTTP-01 listener stopped")
		}
	}()
}

// ChallengeAddr is port 80 of the listener's host when the listener is on
// 443, the only case where a CA can reach HTTP-01 (it always asks port 80).
func ChallengeAddr(listen string) string {
	if !onHTTPSPort(listen) {
		return ""
	}
	host, _, _ := net.SplitHostPort(listen)
	return net.JoinHostPort(host, "80")
}

func onHTTPSPort(listen string) bool {
	_, port, err := net.SplitHostPort(listen)
	return err == nil && (port == "443" || port == "https")
}

func webhookHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// TLSConfig is the listener's TLS: the same versions and suites as with
// certificate files, plus the ALPN protocol of TLS-ALPN-01 challenges.
func (a *ACME) TLSConfig() *tls.Config {
	c := TLSConfig(a.manager.GetCertificate)
	c.NextProtos = []string{"h2", "http/1.1", acme.ALPNProto}
	return c
}

// Prefetch obtains the certificate now rather than at the first
// connection, so a missing DNS record or a closed port shows in the log at
// start and Telegram's first delivery does not wait for issuance.
func (a *ACME) Prefetch(domain string) {
	hello := &tls.ClientHelloInfo{
		ServerName:   domain,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, // ask for the ECDSA certificate
	}
	cert, err := a.manager.GetCertificate(hello)
	if err != nil {
		a.log.WithError(err).WithField("domain", domain).Error("cannot get a certificate over ACME yet (DNS must point here; port 443, or 80 with LISTEN_ADDR :443, must be reachable); retrying at the next connection")
		return
	}
	if cert.Leaf != nil {
		a.log.WithField("certificate", DescribeCert(cert.Leaf)).Info("ACME certificate ready")
	}
}

// Stop closes the HTTP-01 listener.
func (a *ACME) Stop() {
	if a.challenge == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.challenge.Shutdown(ctx); err != nil {
		a.log.WithError(err).Warn("HTTP-01 listener shutdown")
	}
}

// CachedACMECert reads the certificate autocert cached for domain: the
// ECDSA one, else the RSA one kept for old clients.
func CachedACMECert(dir, domain string) (*x509.Certificate, error) {
	var firstErr error
	for _, name := range []string{domain, domain + "+rsa"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		return firstCertificate(data)
	}
	return nil, firstErr
}

// firstCertificate is the leaf of a cache entry: the private key, then
// the chain, all PEM.
func firstCertificate(data []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("acme: no certificate in the cache entry")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}
