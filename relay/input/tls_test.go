package input

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/testcert"
	"github.com/floodgate/floodgate/internal/tlsconf"
)

func certs(t *testing.T) *testcert.Set {
	t.Helper()
	s, err := testcert.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tlsOptions(s *testcert.Set, mutual bool) Options {
	o := Options{Type: "tls", Address: "127.0.0.1:0", TLS: tlsconf.Files{Cert: s.ServerCert, Key: s.ServerKey}}
	if mutual {
		o.TLS.ClientCA = s.CA
	}
	return o
}

// dialTLS connects to l as a client trusting s's CA, presenting cert when
// it is not nil, and completes the handshake.
func dialTLS(t *testing.T, l *Listener, s *testcert.Set, cert *tls.Certificate) *tls.Conn {
	t.Helper()
	cfg := &tls.Config{RootCAs: s.Pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	d := &net.Dialer{Timeout: wait}
	c, err := tls.DialWithDialer(d, "tcp", l.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A tls input frames as tcp does: octet-counted frames and LF lines
// mixed, garbage delivered as a frame of its own and framing recovered.
func TestTLSInput(t *testing.T) {
	s := certs(t)
	c := newCollector()
	var st Stats
	l := listen(t, tlsOptions(s, false), c, &st)
	conn := dialTLS(t, l, s, nil)
	write(t, conn, "19 <13>1 - h a - - - x"+"<13>plain line\n"+"99x garbage\n"+"18 <13>1 - h b - -")
	write(t, conn, " - \n")
	got := c.waitN(t, 4)
	want := []string{"<13>1 - h a - - - x", "<13>plain line", "99x garbage", "<13>1 - h b - - - "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("frames = %q, want %q", got, want)
	}
	if s := st.Snapshot(); s.TLSHandshakeErrors != 0 || s.ConnectionsAccepted != 1 {
		t.Errorf("handshake errors, accepted = %d, %d; want 0, 1", s.TLSHandshakeErrors, s.ConnectionsAccepted)
	}
	if v := conn.ConnectionState().Version; v < tls.VersionTLS12 {
		t.Errorf("negotiated %x, want TLS 1.2 or later", v)
	}
}

// TLS older than 1.2 is refused.
func TestTLSMinVersion(t *testing.T) {
	s := certs(t)
	var st Stats
	l := listen(t, tlsOptions(s, false), newCollector(), &st)
	cfg := &tls.Config{RootCAs: s.Pool, ServerName: "localhost", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: wait}, "tcp", l.Addr().String(), cfg)
	if err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 client completed its handshake")
	}
	waitUntil(t, "the failed handshake counted", func() bool { return st.TLSHandshakeErrors.Load() == 1 })
}

// With client_ca, a client without a certificate, or with one another CA
// signed, delivers nothing and is counted; one with a certificate the CA
// signed is served.
func TestTLSMutual(t *testing.T) {
	s := certs(t)
	other := certs(t)
	c := newCollector()
	var st Stats
	l := listen(t, tlsOptions(s, true), c, &st)

	for i, cert := range []*tls.Certificate{nil, &other.Client} {
		cfg := &tls.Config{RootCAs: s.Pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: wait}, "tcp", l.Addr().String(), cfg)
		if err == nil {
			// TLS 1.3: the server's verdict on the client's
			// certificate comes after the client's handshake is done.
			conn.SetDeadline(time.Now().Add(wait))
			_, _ = io.WriteString(conn, "<13>must not arrive\n")
			_, err = conn.Read(make([]byte, 1))
			conn.Close()
		}
		if err == nil {
			t.Fatalf("client %d: served without a certificate of the CA", i)
		}
		waitUntil(t, "the refused handshake counted", func() bool { return st.TLSHandshakeErrors.Load() == uint64(i+1) })
	}

	conn := dialTLS(t, l, s, &s.Client)
	write(t, conn, "<13>with a certificate\n")
	got := c.waitN(t, 1)
	if len(got) != 1 || got[0] != "<13>with a certificate" {
		t.Fatalf("frames = %q, want only the one of the client with a certificate", got)
	}
}

// A client that connects and never completes its handshake is closed at
// HandshakeTimeout, counted, and gives its slot back.
func TestTLSHandshakeTimeout(t *testing.T) {
	s := certs(t)
	var st Stats
	o := tlsOptions(s, false)
	o.HandshakeTimeout = 100 * time.Millisecond
	l := listen(t, o, newCollector(), &st)
	raw := dial(t, l)
	write(t, raw, "\x16\x03\x01") // the start of a record header, and no more
	raw.SetReadDeadline(time.Now().Add(wait))
	if _, err := io.Copy(io.Discard, raw); err != nil {
		t.Fatalf("stalled client not closed: %v", err)
	}
	waitUntil(t, "the stalled handshake counted and its slot freed", func() bool {
		s := st.Snapshot()
		return s.TLSHandshakeErrors == 1 && s.ConnectionsOpen == 0
	})
}

// A client stalled in its handshake has delivered nothing: with every
// slot taken, it makes room for a new client, deadline or not.
func TestTLSStalledHandshakeMakesRoom(t *testing.T) {
	s := certs(t)
	c := newCollector()
	var st Stats
	o := tlsOptions(s, false)
	o.MaxConnections = 1
	o.HandshakeTimeout = -1 // never: only the need for room closes it
	l := listen(t, o, c, &st)
	raw := dial(t, l)
	write(t, raw, "\x16\x03\x01")
	waitUntil(t, "the stalled client holding the slot", func() bool { return st.ConnectionsOpen.Load() == 1 })

	conn := dialTLS(t, l, s, nil)
	write(t, conn, "<13>served\n")
	c.waitN(t, 1)
	waitUntil(t, "the stalled client closed", func() bool { return st.ConnectionsOpen.Load() == 1 })
	if s := st.Snapshot(); s.ConnectionsEvicted != 1 || s.TLSHandshakeErrors != 0 {
		t.Errorf("evicted, handshake errors = %d, %d; want the stalled client evicted, and not counted twice", s.ConnectionsEvicted, s.TLSHandshakeErrors)
	}
}

// ReloadTLS takes new certificate files for the next handshakes; files
// that do not load leave the certificates in use and are counted.
func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	old := certs(t)
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	install := func(s *testcert.Set) {
		t.Helper()
		for _, f := range [][2]string{{s.ServerCert, cert}, {s.ServerKey, key}} {
			b, err := os.ReadFile(f[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f[1], b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(old)
	c := newCollector()
	var st Stats
	l := listen(t, Options{Type: "tls", Address: "127.0.0.1:0", TLS: tlsconf.Files{Cert: cert, Key: key}}, c, &st)
	served := func(s *testcert.Set) []byte {
		t.Helper()
		conn := dialTLS(t, l, s, nil)
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Raw
	}
	before := dialTLS(t, l, old, nil) // up before the reload: keeps going
	if !bytes.Equal(served(old), old.Server.Leaf.Raw) {
		t.Fatal("not serving the installed certificate")
	}

	renewed := certs(t)
	install(renewed)
	if err := l.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served(renewed), renewed.Server.Leaf.Raw) {
		t.Error("still serving the old certificate after ReloadTLS")
	}

	if err := os.WriteFile(key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.ReloadTLS(); err == nil {
		t.Fatal("ReloadTLS took a broken key")
	}
	if !bytes.Equal(served(renewed), renewed.Server.Leaf.Raw) {
		t.Error("a broken key replaced the certificate in use")
	}
	if n := st.TLSReloadErrors.Load(); n != 1 {
		t.Errorf("reload errors = %d, want 1", n)
	}
	write(t, before, "<13>from before the reload\n")
	c.waitN(t, 1)
}

// Shutdown drains a tls client as a tcp one: what it sent arrives, and an
// idle one is closed after DrainGrace.
func TestTLSShutdownIdleClient(t *testing.T) {
	s := certs(t)
	c := newCollector()
	o := tlsOptions(s, false)
	o.DrainGrace = 50 * time.Millisecond
	l, err := Listen(o, c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn := dialTLS(t, l, s, nil)
	write(t, conn, "<13>sent before shutdown\n")
	c.waitN(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v, want the idle client closed after the grace", err)
	}
}

// An input takes a socket inherited from systemd in place of binding its
// address, when it is of the kind its type reads.
func TestInheritedSockets(t *testing.T) {
	fileOf := func(t *testing.T, s interface{ File() (*os.File, error) }) *os.File {
		t.Helper()
		f, err := s.File()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	t.Run("tcp", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		c := newCollector()
		l := listen(t, Options{Type: "tcp", File: fileOf(t, ln.(*net.TCPListener))}, c, nil)
		if l.Addr().String() != ln.Addr().String() {
			t.Errorf("Addr = %s, want the inherited %s", l.Addr(), ln.Addr())
		}
		write(t, dial(t, l), "<13>over an inherited socket\n")
		c.waitN(t, 1)
	})
	t.Run("unixgram", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "syslog")
		pc, err := net.ListenPacket("unixgram", path)
		if err != nil {
			t.Fatal(err)
		}
		c := newCollector()
		l := listen(t, Options{Type: "unixgram", File: fileOf(t, pc.(*net.UnixConn))}, c, nil)
		pc.Close() // the input's duplicate and the file keep the socket
		s, err := net.Dial("unixgram", path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		write(t, s, "<13>a datagram")
		c.waitN(t, 1)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("closing the input removed the socket unit's file: %v", err)
		}
	})
	t.Run("wrong kind", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ul, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
		if err != nil {
			t.Fatal(err)
		}
		defer ul.Close()
		tcp, unix := fileOf(t, ln.(*net.TCPListener)), fileOf(t, ul.(*net.UnixListener))
		for _, tt := range []struct {
			typ string
			f   *os.File
		}{{"udp", tcp}, {"unix", tcp}, {"tcp", unix}, {"unixgram", unix}, {"stdin", tcp}} {
			l, err := Listen(Options{Type: tt.typ, File: tt.f}, newCollector(), nil, nil)
			if err == nil {
				l.Close()
				t.Errorf("a %s input took a %s socket", tt.typ, tt.f.Name())
			} else if errors.Is(err, os.ErrClosed) {
				t.Errorf("%s: %v", tt.typ, err)
			}
		}
	})
}

// A client whose handshake is under way when Shutdown begins finishes it
// and has what it sends read: it connected before the relay was told to
// stop.
func TestTLSShutdownMidHandshake(t *testing.T) {
	s := certs(t)
	c := newCollector()
	var st Stats
	o := tlsOptions(s, false)
	o.DrainGrace = 50 * time.Millisecond
	l, err := Listen(o, c, &st, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.DialTimeout("tcp", l.Addr().String(), wait)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	waitUntil(t, "the server handshaking", func() bool { return st.ConnectionsOpen.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Shutdown(ctx) }()
	waitUntil(t, "shutdown begun", l.draining.Load)

	tc := tls.Client(raw, &tls.Config{RootCAs: s.Pool, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	tc.SetDeadline(time.Now().Add(wait))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake cut short by shutdown: %v", err)
	}
	write(t, tc, "<13>sent as shutdown began\n")
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if got := c.all(); len(got) != 1 || got[0] != "<13>sent as shutdown began" {
		t.Errorf("frames = %q, want the one sent after the handshake", got)
	}
	if n := st.TLSHandshakeErrors.Load(); n != 0 {
		t.Errorf("handshake errors = %d, want 0", n)
	}
}
