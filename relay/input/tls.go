package input

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/floodgate/floodgate/internal/tlsconf"
)

// loadTLS loads a tls input's certificates; other types have none.
func (l *Listener) loadTLS() error {
	if l.opts.Type != "tls" {
		return nil
	}
	srv, err := tlsconf.NewServer(l.opts.TLS)
	if err != nil {
		return fmt.Errorf("tls input %s: %w", l.opts.Name, err)
	}
	l.tls = srv
	return nil
}

// handshake completes a tls client's handshake within HandshakeTimeout,
// and reports whether it did. A client that fails it (no certificate
// where mutual TLS asks for one, a certificate the CA did not sign, a
// protocol older than TLS 1.2, or nothing sent at all) has delivered
// nothing; it is counted and logged, and closed by the caller. While it
// handshakes it holds a slot as any client that has delivered nothing
// does: one that stalls is closed at the deadline, or sooner to make room.
//
// Shutdown lets a handshake under way finish (a client that connected as
// the relay was told to stop still has its messages read), up to the
// drain deadline.
func (l *Listener) handshake(c *client, tc *tls.Conn) bool {
	var deadline time.Time
	if l.opts.HandshakeTimeout > 0 {
		deadline = time.Now().Add(l.opts.HandshakeTimeout)
	}
	c.handshaking.Store(true)
	_ = tc.SetDeadline(deadline) // a failure shows in the handshake
	err := tc.Handshake()
	_ = tc.SetDeadline(time.Time{})
	c.handshaking.Store(false)
	if err == nil {
		return true
	}
	if errors.Is(err, net.ErrClosed) {
		return false // closed to make room, or at the drain deadline: not failed
	}
	l.stats.TLSHandshakeErrors.Add(1)
	l.log.Warn("TLS handshake failed", "err", err, "remote", tc.RemoteAddr().String())
	return false
}

// ReloadTLS reads a tls input's certificate, key and client CA files
// again: handshakes from now on use them; connections already up keep
// the ones they began with. When the files cannot be loaded the
// certificates in use stay, and the failure is logged, counted
// (Stats.TLSReloadErrors) and returned. Other inputs have nothing to
// reload.
func (l *Listener) ReloadTLS() error {
	if l.tls == nil {
		return nil
	}
	if err := l.tls.Reload(); err != nil {
		l.stats.TLSReloadErrors.Add(1)
		l.log.Warn("TLS certificates not reloaded: the ones loaded before stay in use", "err", err)
		return fmt.Errorf("tls input %s: %w", l.opts.Name, err)
	}
	l.log.Info("TLS certificates reloaded", "cert", l.opts.TLS.Cert)
	return nil
}
