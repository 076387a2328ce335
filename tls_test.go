package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// selfSignedCert writes a self-signed certificate for 127.0.0.1 and
// localhost, valid for a day, and returns its PEM and the file paths.
func selfSignedCert(t *testing.T, dir, name string) (certPEM []byte, certFile, keyFile string) {
	t.Helper()
	return selfSignedCertFor(t, dir, name, 24*time.Hour)
}

// selfSignedCertFor is selfSignedCert valid for the given time from now.
func selfSignedCertFor(t *testing.T, dir, name string, validity time.Duration) (certPEM []byte, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPEM, certFile, keyFile
}

func trusting(certPEM []byte) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestHTTPSWithSelfSignedCertificate(t *testing.T) {
	dir := t.TempDir()
	certPEM, certFile, keyFile := selfSignedCert(t, dir, "first")
	w := newWorld(t)
	w.https, w.client, w.reload = true, trusting(certPEM), make(chan os.Signal, 1)
	d := w.start(t, false, "TLS_CERT_FILE="+certFile, "TLS_KEY_FILE="+keyFile)

	// Telegram got the certificate with setWebhook, trusts it, and delivers.
	var upload []byte
	w.tg.WaitFor(waitLong, func() bool {
		for _, c := range w.tg.Calls() {
			if c.Method == "setWebhook" && strings.HasPrefix(c.Params["url"], "https://") {
				upload = c.Uploads["certificate"].Content
				return true
			}
		}
		return false
	})
	if !bytes.Equal(upload, certPEM) {
		t.Fatalf("setWebhook did not upload the self-signed certificate (got %d bytes)", len(upload))
	}
	post := w.tg.ChannelPost(channel, "over https")
	w.tg.Push(post)
	w.waitSent(t, func(m telegramtest.SentMessage) bool { return m.ReplyTo == messageID(post, "channel_post") })

	// Old TLS versions are refused.
	conn, err := tls.Dial("tcp", d.addr, &tls.Config{MaxVersion: tls.VersionTLS11, InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
		t.Errorf("a TLS 1.1 client was served")
	}

	// SIGHUP picks up a renewed certificate without a restart.
	newPEM, _, _ := selfSignedCert(t, dir, "second")
	w.reload <- os.Interrupt // any signal value: the channel is the SIGHUP channel
	select {
	case <-w.reloaded:
	case <-time.After(waitLong):
		t.Fatalf("SIGHUP not handled:\n%s", w.logs)
	}
	renewed, err := tls.Dial("tcp", d.addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer renewed.Close()
	if renewed.ConnectionState().PeerCertificates[0].Subject.CommonName != "second" {
		t.Fatalf("certificate not reloaded on SIGHUP:\n%s", w.logs)
	}
	resp, err := trusting(newPEM).Get("https://" + d.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestBrokenCertificateFailsStart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	w := newWorld(t)
	env := append(w.env(), "TLS_CERT_FILE="+bad, "TLS_KEY_FILE="+bad, "TELEGRAM_WEBHOOK_URL=https://x/")
	code, out := command(env)
	if code != exitConfig || !strings.Contains(out, "TLS_CERT_FILE") {
		t.Errorf("exit %d, want 2 with a line naming TLS_CERT_FILE:\n%s", code, out)
	}
}
