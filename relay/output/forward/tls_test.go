package forward

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/floodgate/floodgate/internal/testcert"
)

func certs(t *testing.T) *testcert.Set {
	t.Helper()
	s, err := testcert.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestForwardTLS(t *testing.T) {
	cs := certs(t)
	other := certs(t) // a CA that signed nothing of the receiver's
	tls11 := cs.ServerConfig(false)
	tls11.MinVersion, tls11.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	tests := []struct {
		name     string
		server   *tls.Config
		opts     Options
		delivers bool
	}{
		{name: "server auth", server: cs.ServerConfig(false), opts: Options{CA: cs.CA}, delivers: true},
		{name: "mutual", server: cs.ServerConfig(true), opts: Options{CA: cs.CA, Cert: cs.ClientCert, Key: cs.ClientKey}, delivers: true},
		{name: "server name", server: cs.ServerConfig(false), opts: Options{CA: cs.CA, ServerName: "localhost"}, delivers: true},
		{name: "wrong name", server: cs.ServerConfig(false), opts: Options{CA: cs.CA, ServerName: "central.example"}},
		{name: "unknown CA", server: cs.ServerConfig(false), opts: Options{CA: other.CA}},
		{name: "mutual without a client certificate", server: cs.ServerConfig(true), opts: Options{CA: cs.CA}},
		{name: "server offers at most TLS 1.1", server: tls11, opts: Options{CA: cs.CA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, tt.server)
			r.start()
			o := tt.opts
			o.Address, o.Protocol = r.addr, "tls"
			f, st := openForward(t, o)
			for i := range 100 {
				if err := f.Write(msg(i)); err != nil {
					t.Fatal(err)
				}
			}
			if !tt.delivers {
				// The handshake fails, again and again: nothing arrives
				// and the records stay queued.
				waitFor(t, "failed handshakes", func() bool { return f.Queue().ConnectErrors >= 3 })
				if q := f.Queue(); q.Up || q.Sent != 0 || q.Connects != 0 || q.MemRecords != 100 || st.Records.Load() != 0 {
					t.Fatalf("Queue() = %+v, want 100 held and the upstream down", q)
				}
				for _, fr := range r.received() {
					if !strings.HasPrefix(fr, "ERROR") {
						t.Fatalf("receiver got %q", fr)
					}
				}
				return
			}
			checkOrder(t, r.waitFrames(100), 0)
			waitFor(t, "acknowledgements", func() bool { return f.Queue().Sent == 100 })
		})
	}
}

func TestForwardTLSBadFiles(t *testing.T) {
	cs := certs(t)
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "missing ca", opts: Options{CA: "/nonexistent/ca.pem"}, want: "ca: open /nonexistent/ca.pem"},
		{name: "ca without certificates", opts: Options{CA: junk}, want: "no PEM certificates"},
		{name: "bad key pair", opts: Options{Cert: cs.ClientCert, Key: cs.ServerKey}, want: "load client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Type, o.Address, o.Protocol = TypeForward, "127.0.0.1:1", "tls"
			if _, err := New(o, nil, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error about %q", err, tt.want)
			}
		})
	}
}
