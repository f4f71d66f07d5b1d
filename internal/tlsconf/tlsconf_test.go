package tlsconf

import (
	"bytes"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/floodgate/floodgate/internal/testcert"
)

func TestLoad(t *testing.T) {
	s, err := testcert.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Files{Cert: s.ServerCert, Key: s.ServerKey}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.ClientAuth != tls.NoClientCert {
		t.Errorf("min version %x, client auth %v; want TLS 1.2 and none", cfg.MinVersion, cfg.ClientAuth)
	}
	cfg, err = Files{Cert: s.ServerCert, Key: s.ServerKey, ClientCA: s.CA}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil {
		t.Errorf("client auth %v with a client CA, want RequireAndVerifyClientCert", cfg.ClientAuth)
	}
	if _, err := (Files{Cert: s.ServerCert, Key: s.ServerKey, ClientCA: s.ServerKey}).Load(); !errors.Is(err, ErrNoCerts) {
		t.Errorf("a key as client CA: %v, want ErrNoCerts", err)
	}
}

// Reload swaps the configuration whole; files that do not load leave the
// one in use.
func TestServerReload(t *testing.T) {
	dir := t.TempDir()
	a, err := testcert.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := testcert.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := Files{Cert: filepath.Join(dir, "c.pem"), Key: filepath.Join(dir, "k.pem")}
	install := func(cert, key string) {
		t.Helper()
		for _, f := range [][2]string{{cert, files.Cert}, {key, files.Key}} {
			data, err := os.ReadFile(f[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f[1], data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(a.ServerCert, a.ServerKey)
	srv, err := NewServer(files)
	if err != nil {
		t.Fatal(err)
	}
	current := func() []byte {
		cfg, err := srv.Config().GetConfigForClient(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Certificates[0].Leaf.Raw
	}
	if !bytes.Equal(current(), a.Server.Leaf.Raw) || !bytes.Equal(srv.Certificate().Raw, a.Server.Leaf.Raw) {
		t.Fatal("not serving the installed certificate")
	}
	install(b.ServerCert, b.ServerKey)
	if err := srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(current(), b.Server.Leaf.Raw) {
		t.Error("Reload did not take the new certificate")
	}
	install(a.ServerCert, b.ServerKey) // a certificate and another's key
	if err := srv.Reload(); err == nil {
		t.Fatal("Reload took a key that does not match")
	}
	if !bytes.Equal(current(), b.Server.Leaf.Raw) {
		t.Error("a failed Reload replaced the certificate in use")
	}
}
