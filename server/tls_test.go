package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// writeCert writes a self-signed certificate named cn to dir.
func writeCert(t *testing.T, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

func TestCertFilesReloadOnSignal(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, "first")
	c, err := LoadCertFiles(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !SelfSigned(c.Leaf()) || c.Leaf().Subject.CommonName != "first" {
		t.Fatalf("leaf %v", c.Leaf().Subject)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	hup := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ReloadOnSignal(ctx, c, hup, log, nil)

	os.WriteFile(certFile, []byte("broken"), 0o600)
	hup <- os.Interrupt
	hup <- os.Interrupt // the first is handled once the second is taken
	if cert, _ := c.GetCertificate(nil); cert.Leaf.Subject.CommonName != "first" {
		t.Errorf("a broken file replaced the certificate")
	}
	writeCert(t, dir, "second")
	hup <- os.Interrupt
	hup <- os.Interrupt
	if cert, _ := c.GetCertificate(nil); cert.Leaf.Subject.CommonName != "second" {
		t.Errorf("not reloaded: %s", cert.Leaf.Subject.CommonName)
	}
	if TLSConfig(c.GetCertificate).MinVersion < 0x0303 {
		t.Errorf("TLS below 1.2 allowed")
	}
}
