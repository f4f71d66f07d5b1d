package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/testcert"
	"github.com/floodgate/floodgate/relay/input"
)

// The [[input]] keys, as floodgate check sees them.
func TestConfigInput(t *testing.T) {
	tests := []struct {
		name    string
		toml    string
		wantErr string
	}{
		{name: "stdin", toml: "type = \"stdin\""},
		{name: "tcp with limits", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\nmax_message_size = \"1MiB\"\nmax_connections = 10\nmax_connections_per_peer = 2\nidle_timeout = \"30s\"\nframe_timeout = \"5s\"\ndrain_grace = \"100ms\"\nread_buffer = \"16MiB\""},
		{name: "unixgram with mode", toml: "type = \"unixgram\"\naddress = \"/run/floodgate.sock\"\nmode = \"0620\""},
		{name: "unknown type", toml: "type = \"pigeon\"\naddress = \"x\"", wantErr: "input[0].type"},
		{name: "bad mode", toml: "type = \"unix\"\naddress = \"/tmp/s\"\nmode = \"rw-\"", wantErr: "input[0].mode"},
		{name: "tiny max", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\nmax_message_size = 100", wantErr: "input[0].max_message_size"},
		{name: "huge read buffer", toml: "type = \"udp\"\naddress = \"127.0.0.1:5514\"\nread_buffer = \"2GiB\"", wantErr: "input[0].read_buffer"},
		{name: "no peer connections", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\nmax_connections_per_peer = -1", wantErr: "input[0].max_connections_per_peer"},
		{name: "negative grace", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\ndrain_grace = \"-1s\"", wantErr: "drain_grace"},
		{name: "tls", toml: "type = \"tls\"\naddress = \"127.0.0.1:6514\"\ncert = \"/c.pem\"\nkey = \"/k.pem\"\nclient_ca = \"/ca.pem\"\nhandshake_timeout = \"3s\""},
		{name: "tls without cert", toml: "type = \"tls\"\naddress = \"127.0.0.1:6514\"\nkey = \"/k.pem\"", wantErr: "input[0].cert: missing"},
		{name: "tls without key", toml: "type = \"tls\"\naddress = \"127.0.0.1:6514\"\ncert = \"/c.pem\"", wantErr: "input[0].key: missing"},
		{name: "negative handshake timeout", toml: "type = \"tls\"\naddress = \"127.0.0.1:6514\"\ncert = \"/c.pem\"\nkey = \"/k.pem\"\nhandshake_timeout = \"-1s\"", wantErr: "handshake_timeout"},
		{name: "cert on tcp", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\ncert = \"/c.pem\"", wantErr: "input[0].cert: set on a tcp input"},
		{name: "client_ca on udp", toml: "type = \"udp\"\naddress = \"127.0.0.1:5514\"\nclient_ca = \"/c.pem\"", wantErr: "input[0].client_ca"},
		{name: "fd_name without address", toml: "type = \"unixgram\"\nfd_name = \"floodgate-journal\""},
		{name: "fd_name for tls", toml: "type = \"tls\"\nfd_name = \"syslog-tls\"\ncert = \"/c.pem\"\nkey = \"/k.pem\""},
		{name: "fd_name with a colon", toml: "type = \"tcp\"\nfd_name = \"a:b\"", wantErr: "input[0].fd_name"},
		{name: "fd_name on stdin", toml: "type = \"stdin\"\nfd_name = \"x\"", wantErr: "input[0].fd_name"},
		{name: "tcp without address or fd_name", toml: "type = \"tcp\"", wantErr: "input[0].address"},
		{name: "negative frame timeout", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\nframe_timeout = \"-1s\"", wantErr: "frame_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader("[[input]]\n" + tt.toml + "\n"))
			if err == nil {
				err = c.Validate()
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("config error: %v", err)
				}
				if c.Inputs[0].Name == "" || c.Inputs[0].MaxMessageSize == 0 {
					t.Errorf("input not filled: %+v", c.Inputs[0])
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one about %s", err, tt.wantErr)
			}
		})
	}
}

// The defaults of an input are input.DefaultOptions, defined there once.
func TestInputDefaults(t *testing.T) {
	for _, in := range Default().Inputs {
		want := input.DefaultOptions()
		want.Type, want.Address, want.Name = in.Type, in.Address, input.DefaultName(in.Type, in.Address)
		want.Mode = 0 // no socket file: no mode
		if got := in.Options(); got != want {
			t.Errorf("default %s input: options %+v, want %+v", in.Type, got, want)
		}
	}
	c, err := Parse(strings.NewReader("[[input]]\ntype = \"unix\"\naddress = \"/run/s\"\n[[input]]\ntype = \"stdin\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Inputs[0].Options().Mode, input.DefaultOptions().Mode; got != want {
		t.Errorf("unix socket mode = %v, want %v", got, want)
	}
	if got := c.Inputs[1].Name; got != "stdin" {
		t.Errorf("stdin input name = %q, want \"stdin\"", got)
	}
}

// Every key reaches the input's options.
func TestInputOptions(t *testing.T) {
	c, err := Parse(strings.NewReader("[[input]]\ntype = \"tcp\"\naddress = \"127.0.0.1:1\"\nname = \"n\"\nmax_message_size = \"1MiB\"\nmax_connections = 10\nmax_connections_per_peer = 2\nidle_timeout = \"30s\"\nframe_timeout = \"5s\"\ndrain_grace = \"100ms\"\nread_buffer = \"16MiB\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := input.Options{
		Type: "tcp", Address: "127.0.0.1:1", Name: "n", MaxMessageSize: 1 << 20,
		MaxConnections: 10, MaxConnectionsPerPeer: 2, IdleTimeout: 30 * time.Second,
		FrameTimeout: 5 * time.Second, DrainGrace: 100 * time.Millisecond, ReadBuffer: 16 << 20,
		HandshakeTimeout: input.DefaultOptions().HandshakeTimeout,
	}
	if got := c.Inputs[0].Options(); got != want {
		t.Errorf("options = %+v, want %+v", got, want)
	}
}

func TestInputAddressesCollide(t *testing.T) {
	in := func(typ, addr string) string {
		return fmt.Sprintf("[[input]]\ntype = %q\naddress = %q\n", typ, addr)
	}
	tests := []struct {
		name     string
		toml     string
		wantLine int
		wantMsg  string // "" when valid
	}{
		{name: "udp and tcp on one port", toml: in("udp", "127.0.0.1:5514") + in("tcp", "127.0.0.1:5514")},
		{name: "two tcp ports", toml: in("tcp", "127.0.0.1:5514") + in("tcp", "127.0.0.1:5515")},
		{name: "two loopback addresses", toml: in("tcp", "127.0.0.1:5514") + in("tcp", "127.0.0.2:5514")},
		{name: "port 0 twice", toml: in("tcp", "127.0.0.1:0") + in("tcp", "127.0.0.1:0")},
		{name: "IPv4 wildcard and IPv6 loopback", toml: in("udp", "0.0.0.0:514") + in("udp", "[::1]:514")},
		{name: "unix and a tcp input", toml: in("unix", "/run/x.sock") + in("tcp", "127.0.0.1:5514")},
		{name: "two tcp on one address", toml: in("tcp", "127.0.0.1:5514") + in("udp", "127.0.0.1:5514") + in("tcp", "127.0.0.1:5514"),
			wantLine: 9, wantMsg: `input[2].address: "127.0.0.1:5514": input[0] has that tcp port already`},
		{name: "two udp, wildcard and loopback", toml: in("udp", "0.0.0.0:514") + in("udp", "127.0.0.1:514"),
			wantLine: 6, wantMsg: `input[1].address: "127.0.0.1:514": input[0] has that udp port already`},
		{name: "IPv6 wildcard takes IPv4 too", toml: in("tcp", "127.0.0.1:514") + in("tcp", "[::]:514"),
			wantLine: 6, wantMsg: "input[0] has that tcp port already"},
		{name: "empty host is every address", toml: in("tcp", ":6514") + in("tcp", "10.0.0.1:6514"),
			wantLine: 6, wantMsg: "input[0] has that tcp port already"},
		{name: "port by name", toml: in("udp", "127.0.0.1:514") + in("udp", "127.0.0.1:syslog"),
			wantLine: 6, wantMsg: "input[0] has that udp port already"},
		{name: "one socket path twice", toml: in("unix", "/run/fg/log.sock") + in("unixgram", "/run/fg/../fg/log.sock"),
			wantLine: 6, wantMsg: "input[0] has that socket path already"},
		{name: "metrics on a tcp input", toml: in("tcp", "127.0.0.1:9514") + "[metrics]\naddress = \"127.0.0.1:9514\"\n",
			wantLine: 5, wantMsg: `metrics.address: "127.0.0.1:9514": input[0] listens there over tcp`},
		{name: "metrics on every address, input on one", toml: in("tcp", "127.0.0.1:9000") + "[metrics]\naddress = \":9000\"\n",
			wantLine: 5, wantMsg: "metrics.address"},
		{name: "metrics on a udp input's port", toml: in("udp", "127.0.0.1:9514") + "[metrics]\naddress = \"127.0.0.1:9514\"\n"},
		{name: "tls and tcp on one port", toml: in("tcp", "127.0.0.1:6514") + in("tls", "127.0.0.1:6514") + "cert = \"/c\"\nkey = \"/k\"\n",
			wantLine: 6, wantMsg: "input[0] has that tcp port already"},
		{name: "one fd_name twice", toml: "[[input]]\ntype = \"tcp\"\nfd_name = \"s\"\n[[input]]\ntype = \"tcp\"\nfd_name = \"s\"\n",
			wantLine: 6, wantMsg: `input[1].fd_name: "s": input[0] takes that socket already`},
		{name: "fd_name beside an address", toml: in("tcp", "127.0.0.1:5514") + in("tcp", "127.0.0.1:5514") + "fd_name = \"s\"\n"},
		{name: "metrics off", toml: in("tcp", "127.0.0.1:9514") + "[metrics]\naddress = \"\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.toml))
			if err == nil {
				err = c.Validate()
			}
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("got %v, want one config.Error", err)
			}
			if es[0].Line != tt.wantLine || !strings.Contains(es[0].Error(), tt.wantMsg) {
				t.Errorf("got line %d %q, want line %d containing %q", es[0].Line, es[0].Error(), tt.wantLine, tt.wantMsg)
			}
		})
	}
}

func TestCheckSockets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantMsg string // "" when fine
	}{
		{name: "directory exists", path: filepath.Join(dir, "log.sock")},
		{name: "socket file there already", path: file},
		{name: "missing directory", path: filepath.Join(dir, "missing", "log.sock"), wantMsg: "socket directory " + filepath.Join(dir, "missing") + " does not exist"},
		{name: "directory is a file", path: filepath.Join(file, "log.sock"), wantMsg: "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(fmt.Sprintf("[[input]]\ntype = \"udp\"\naddress = \"127.0.0.1:0\"\n\n[[input]]\ntype = \"unixgram\"\naddress = %q\n", tt.path)))
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckSockets()
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 7 || !strings.HasPrefix(es[0].Error(), "input[1].address: socket directory ") ||
				!strings.Contains(es[0].Error(), tt.wantMsg) {
				t.Errorf("got %v, want line 7: input[1].address: ... %s", err, tt.wantMsg)
			}
		})
	}
}

// check must reject a tls input whose certificate or key cannot be read or
// do not make a key pair, at the line of the key.
func TestCheckCertificates(t *testing.T) {
	s, err := testcert.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name                string
		cert, key, clientCA string
		wantLine            int
		wantMsg             string // "" when fine
	}{
		{name: "readable", cert: s.ServerCert, key: s.ServerKey},
		{name: "mutual", cert: s.ServerCert, key: s.ServerKey, clientCA: s.CA},
		{name: "missing cert", cert: missing, key: s.ServerKey, wantLine: 4, wantMsg: "input[0].cert: open " + missing + ": no such file"},
		{name: "missing key", cert: s.ServerCert, key: missing, wantLine: 5, wantMsg: "input[0].key: open " + missing},
		{name: "key of another certificate", cert: s.ServerCert, key: s.ClientKey, wantLine: 4, wantMsg: "input[0].cert: " + s.ServerCert + " with key " + s.ClientKey},
		{name: "key as cert", cert: s.ServerKey, key: s.ServerKey, wantLine: 4, wantMsg: "input[0].cert"},
		{name: "client_ca not a certificate", cert: s.ServerCert, key: s.ServerKey, clientCA: s.ServerKey, wantLine: 6, wantMsg: "input[0].client_ca: " + s.ServerKey + ": no PEM certificates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toml := fmt.Sprintf("[[input]]\ntype = \"tls\"\naddress = \"127.0.0.1:6514\"\ncert = %q\nkey = %q\n", tt.cert, tt.key)
			if tt.clientCA != "" {
				toml += fmt.Sprintf("client_ca = %q\n", tt.clientCA)
			}
			c, err := Parse(strings.NewReader(toml))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			err = c.CheckCertificates()
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 || es[0].Line != tt.wantLine || !strings.Contains(es[0].Error(), tt.wantMsg) {
				t.Errorf("got %v (line %d), want line %d: %s", err, lineOf(es), tt.wantLine, tt.wantMsg)
			}
		})
	}
}

func lineOf(es Errors) int {
	if len(es) == 0 {
		return 0
	}
	return es[0].Line
}
