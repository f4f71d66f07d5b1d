// Package tlsconf builds the TLS configuration of a listening input from
// PEM files, and reloads it from them on demand (SIGHUP) without
// dropping the configuration in use when the new files are bad.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// ErrNoCerts is returned for a CA file that holds no PEM certificate.
var ErrNoCerts = errors.New("no PEM certificates found")

// LoadPool reads a PEM file of CA certificates into a pool.
func LoadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %w", path, ErrNoCerts)
	}
	return pool, nil
}

// Files names the PEM files of a server: its certificate (the chain, leaf
// first) and key, and, for mutual TLS, the CAs that sign the clients'
// certificates ("" for none: clients are not asked for one).
type Files struct {
	Cert, Key, ClientCA string
}

// Load reads the files into a server configuration: TLS 1.2 at least, and
// with ClientCA a client certificate it signed required of every client.
func (f Files) Load() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s: %w", f.Cert, err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if f.ClientCA != "" {
		pool, err := LoadPool(f.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("load client_ca: %w", err)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Server is a server's TLS configuration loaded from Files, which Reload
// replaces atomically: handshakes begun after a Reload use the new
// certificates, connections already up keep theirs.
type Server struct {
	files Files
	cur   atomic.Pointer[tls.Config]
	base  *tls.Config
}

// NewServer loads files.
func NewServer(files Files) (*Server, error) {
	cfg, err := files.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{files: files}
	s.cur.Store(cfg)
	s.base = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.cur.Load(), nil
		},
	}
	return s, nil
}

// Config returns the configuration to serve connections with
// (tls.Server): every handshake takes the configuration loaded last.
func (s *Server) Config() *tls.Config { return s.base }

// Reload reads the files again. On an error the configuration in use
// stays, and the error says why.
func (s *Server) Reload() error {
	cfg, err := s.files.Load()
	if err != nil {
		return err
	}
	s.cur.Store(cfg)
	return nil
}

// Certificate returns the leaf certificate in use now.
func (s *Server) Certificate() *x509.Certificate {
	return s.cur.Load().Certificates[0].Leaf
}
