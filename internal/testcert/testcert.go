// Package testcert makes certificates for tests: a CA, and server and
// client certificates it signs, written as PEM files, so that TLS is
// tested end to end without a certificate checked in.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Set is a CA and a server and a client certificate it signed, as PEM
// files in Dir.
type Set struct {
	Dir string
	// CA, ServerCert, ServerKey, ClientCert and ClientKey are the paths.
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
	// Pool holds the CA, for a tls.Config.
	Pool *x509.CertPool
	// Server and Client are the key pairs, for a tls.Config.
	Server, Client tls.Certificate
}

// New writes a Set into dir. The server certificate is for "localhost",
// 127.0.0.1 and ::1.
func New(dir string) (*Set, error) {
	s := &Set{Dir: dir}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ca key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "floodgate test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create ca: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse ca: %w", err)
	}
	s.Pool = x509.NewCertPool()
	s.Pool.AddCert(ca)
	s.CA = filepath.Join(dir, "ca.pem")
	if err := writePEM(s.CA, "CERTIFICATE", caDER); err != nil {
		return nil, err
	}
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage, certPath, keyPath string) (tls.Certificate, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			DNSNames:     []string{name},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("marshal key: %w", err)
		}
		if err := writePEM(certPath, "CERTIFICATE", der); err != nil {
			return tls.Certificate{}, err
		}
		if err := writePEM(keyPath, "PRIVATE KEY", kder); err != nil {
			return tls.Certificate{}, err
		}
		return tls.LoadX509KeyPair(certPath, keyPath)
	}
	s.ServerCert, s.ServerKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	if s.Server, err = leaf(2, "localhost", x509.ExtKeyUsageServerAuth, s.ServerCert, s.ServerKey); err != nil {
		return nil, err
	}
	s.ClientCert, s.ClientKey = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	if s.Client, err = leaf(3, "floodgate-client", x509.ExtKeyUsageClientAuth, s.ClientCert, s.ClientKey); err != nil {
		return nil, err
	}
	return s, nil
}

func writePEM(path, typ string, der []byte) error {
	b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", typ, err)
	}
	return nil
}

// ServerConfig returns a server's tls.Config; with mutual set it asks for
// a client certificate signed by the CA.
func (s *Set) ServerConfig(mutual bool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{s.Server}, MinVersion: tls.VersionTLS12}
	if mutual {
		cfg.ClientCAs = s.Pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg
}
