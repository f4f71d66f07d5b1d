package forward

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/floodgate/floodgate/internal/tlsconf"
)

// clientTLS builds the TLS configuration of a network output: TLS 1.2 at
// least, the upstream's certificate checked against CA (or the system's
// roots) for ServerName (or the host of Address; for Kafka the host of
// each broker), and a client certificate when Cert and Key are set.
func clientTLS(o Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if cfg.ServerName == "" && o.Address != "" { // Kafka checks each broker's own name
		host, _, err := net.SplitHostPort(o.Address)
		if err != nil {
			return nil, fmt.Errorf("%s output: address %q: %w", o.Type, o.Address, err)
		}
		cfg.ServerName = host
	}
	if o.CA != "" {
		pool, err := tlsconf.LoadPool(o.CA)
		if err != nil {
			return nil, fmt.Errorf("%s output: ca: %w", o.Type, err)
		}
		cfg.RootCAs = pool
	}
	if o.Cert != "" {
		cert, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("%s output: load client certificate: %w", o.Type, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
