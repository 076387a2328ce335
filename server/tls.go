package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// TLSConfig is the listener's TLS: 1.2 and up; for 1.2, only forward-secret
// AEAD suites (1.3's suites are all modern and not configurable).
func TLSConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: getCert,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// CertFiles serves a certificate from files and reloads it on demand
// (SIGHUP), so certbot's renewals need no restart.
type CertFiles struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
}

// LoadCertFiles reads a PEM certificate chain and its key.
func LoadCertFiles(certFile, keyFile string) (*CertFiles, error) {
	c := &CertFiles{certFile: certFile, keyFile: keyFile}
	return c, c.Reload()
}

// Reload reads the files again; on failure the old certificate stays.
func (c *CertFiles) Reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS_CERT_FILE, TLS_KEY_FILE: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return fmt.Errorf("TLS_CERT_FILE: %w", err)
	}
	cert.Leaf = leaf
	c.current.Store(&cert)
	return nil
}

// GetCertificate is tls.Config.GetCertificate: the current certificate.
func (c *CertFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}

// Leaf is the certificate being served.
func (c *CertFiles) Leaf() *x509.Certificate { return c.current.Load().Leaf }

// SelfSigned reports whether the certificate signs itself: Telegram then
// needs it uploaded with setWebhook to trust our endpoint.
func SelfSigned(leaf *x509.Certificate) bool {
	// Not CheckSignatureFrom: it demands CA rights, which many self-signed
	// server certificates lack.
	return bytes.Equal(leaf.RawIssuer, leaf.RawSubject) &&
		leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil
}

// DescribeCert is one line for logs and doctor: names and expiry.
func DescribeCert(leaf *x509.Certificate) string {
	names := leaf.DNSNames
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	left := time.Until(leaf.NotAfter).Round(time.Hour)
	return fmt.Sprintf("names %v, expires %s (in %s)", names, leaf.NotAfter.Format(time.DateOnly), left)
}

// ReloadOnSignal reloads the certificate on every SIGHUP until ctx ends.
func ReloadOnSignal(ctx context.Context, cert *CertFiles, hup <-chan os.Signal, log logrus.FieldLogger, handled func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := cert.Reload(); err != nil {
				log.WithError(err).Error("SIGHUP: keeping the old certificate")
			} else {
				log.WithField("certificate", DescribeCert(cert.Leaf())).Info("SIGHUP: certificate reloaded")
			}
			if handled != nil {
				handled()
			}
		}
	}
}
