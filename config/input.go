package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/floodgate/floodgate/internal/tlsconf"
	"github.com/floodgate/floodgate/relay/input"
)

// Input is one [[input]]: a socket floodgate listens on. Its defaults are
// input.DefaultOptions'; Options converts it.
type Input struct {
	// Type is "udp", "tcp", "tls" (syslog over TLS, RFC 5425), "unix"
	// (stream socket), "unixgram", or "stdin" (an LF or octet-counted
	// stream on standard input, for sidecar use).
	Type string `toml:"type"`
	// Address is host:port, or a socket path for unix and unixgram; it is
	// ignored for stdin, and may be left out with FDName.
	Address string `toml:"address"`
	// FDName takes, instead of binding Address, the socket systemd passes
	// under this name (socket activation: the socket unit's
	// FileDescriptorName=, in LISTEN_FDNAMES).
	FDName string `toml:"fd_name"`
	// Cert and Key are a tls input's certificate (PEM, the chain leaf
	// first) and private key; ClientCA, when set, is the PEM file of the
	// CAs that sign clients' certificates: every client must then present
	// one (mutual TLS). Reloaded on SIGHUP.
	Cert     string `toml:"cert"`
	Key      string `toml:"key"`
	ClientCA string `toml:"client_ca"`
	// HandshakeTimeout closes a tls client that has not completed its
	// handshake this long after connecting.
	HandshakeTimeout Duration `toml:"handshake_timeout"`
	// Name labels the input in metrics and logs; defaults to "type
	// address" ("stdin" for stdin).
	Name string `toml:"name"`
	// Mode is the unix socket file's permission bits, octal ("0666").
	Mode string `toml:"mode"`
	// MaxMessageSize bounds one message: an oversize LF line is truncated
	// and the rest skipped, an oversize octet-counted frame is skipped.
	MaxMessageSize Size `toml:"max_message_size"`
	// MaxConnections bounds concurrent stream clients; past it, clients
	// that delivered nothing make room, or new ones wait.
	MaxConnections int `toml:"max_connections"`
	// MaxConnectionsPerPeer bounds the TCP clients of one source address.
	MaxConnectionsPerPeer int `toml:"max_connections_per_peer"`
	// IdleTimeout closes a stream client that sends nothing for this long
	// between frames. It does not apply to stdin.
	IdleTimeout Duration `toml:"idle_timeout"`
	// FrameTimeout closes a stream client that has not completed a frame
	// this long after it began. It does not apply to stdin.
	FrameTimeout Duration `toml:"frame_timeout"`
	// DrainGrace: on shutdown, a stream client with no partial frame that
	// sends nothing for this long is closed.
	DrainGrace Duration `toml:"drain_grace"`
	// ReadBuffer is the socket receive buffer (SO_RCVBUF) to ask for.
	ReadBuffer Size `toml:"read_buffer"`
}

func (in *Input) fill() {
	d := input.DefaultOptions()
	if in.MaxMessageSize == 0 {
		in.MaxMessageSize = Size(d.MaxMessageSize)
	}
	if in.MaxConnections == 0 {
		in.MaxConnections = d.MaxConnections
	}
	if in.MaxConnectionsPerPeer == 0 {
		in.MaxConnectionsPerPeer = d.MaxConnectionsPerPeer
	}
	if in.IdleTimeout == 0 {
		in.IdleTimeout = Duration(d.IdleTimeout)
	}
	if in.FrameTimeout == 0 {
		in.FrameTimeout = Duration(d.FrameTimeout)
	}
	if in.DrainGrace == 0 {
		in.DrainGrace = Duration(d.DrainGrace)
	}
	if in.ReadBuffer == 0 {
		in.ReadBuffer = Size(d.ReadBuffer)
	}
	if in.HandshakeTimeout == 0 {
		in.HandshakeTimeout = Duration(d.HandshakeTimeout)
	}
	if in.Mode == "" && (in.Type == "unix" || in.Type == "unixgram") {
		in.Mode = "0" + strconv.FormatUint(uint64(d.Mode), 8)
	}
	if in.Name == "" {
		addr := in.Address
		if in.FDName != "" && addr == "" {
			addr = "fd:" + in.FDName
		}
		in.Name = input.DefaultName(in.Type, addr)
	}
}

// FileMode returns Mode parsed as octal permission bits.
func (in *Input) FileMode() uint32 {
	m, _ := strconv.ParseUint(in.Mode, 8, 32)
	return uint32(m)
}

// Options returns the input's options for input.Listen.
func (in *Input) Options() input.Options {
	return input.Options{
		Type:                  in.Type,
		Address:               in.Address,
		Name:                  in.Name,
		Mode:                  os.FileMode(in.FileMode()),
		MaxMessageSize:        int(in.MaxMessageSize),
		MaxConnections:        in.MaxConnections,
		MaxConnectionsPerPeer: in.MaxConnectionsPerPeer,
		IdleTimeout:           in.IdleTimeout.D(),
		FrameTimeout:          in.FrameTimeout.D(),
		DrainGrace:            in.DrainGrace.D(),
		ReadBuffer:            int(in.ReadBuffer),
		TLS:                   tlsconf.Files{Cert: in.Cert, Key: in.Key, ClientCA: in.ClientCA},
		HandshakeTimeout:      in.HandshakeTimeout.D(),
	}
}

func (in *Input) validate(v *validator, at string) {
	const types = "\"udp\", \"tcp\", \"tls\", \"unix\", \"unixgram\" or \"stdin\""
	switch in.Type {
	case "udp", "tcp", "tls":
		if in.FDName == "" && (in.Address == "" || !strings.Contains(in.Address, ":")) {
			v.add(at+".address", "%q: want host:port", in.Address)
		}
	case "unix", "unixgram":
		if in.Address == "" && in.FDName == "" {
			v.add(at+".address", "want a socket path")
		}
		if m, err := strconv.ParseUint(in.Mode, 8, 32); err != nil || m > 0o777 {
			v.add(at+".mode", "%q: want octal permission bits such as \"0666\"", in.Mode)
		}
	case "stdin":
		if in.FDName != "" {
			v.add(at+".fd_name", "stdin takes no socket")
		}
	case "":
		v.add(at+".type", "missing: want %s", types)
	default:
		v.add(at+".type", "%q: want %s", in.Type, types)
	}
	if in.FDName != "" && (len(in.FDName) > 255 || strings.ContainsFunc(in.FDName, func(r rune) bool { return r == ':' || r <= ' ' || r > '~' })) {
		v.add(at+".fd_name", "%q: want a FileDescriptorName= of a socket unit: up to 255 printable ASCII characters, no ':' or space", in.FDName)
	}
	if in.Type == "tls" {
		if in.Cert == "" {
			v.add(at+".cert", "missing: a tls input needs its certificate (PEM)")
		}
		if in.Key == "" {
			v.add(at+".key", "missing: a tls input needs its private key (PEM)")
		}
	} else {
		for _, kv := range [][2]string{{"cert", in.Cert}, {"key", in.Key}, {"client_ca", in.ClientCA}} {
			if kv[1] != "" {
				v.add(at+"."+kv[0], "set on a %s input: want type = \"tls\"", in.Type)
			}
		}
	}
	if in.MaxMessageSize < 480 || in.MaxMessageSize > 64<<20 {
		v.add(at+".max_message_size", "%s is out of range: want 480B to 64MiB", in.MaxMessageSize)
	}
	if in.MaxConnections < 1 {
		v.add(at+".max_connections", "%d: want at least 1", in.MaxConnections)
	}
	if in.MaxConnectionsPerPeer < 1 {
		v.add(at+".max_connections_per_peer", "%d: want at least 1", in.MaxConnectionsPerPeer)
	}
	if in.ReadBuffer < 0 || in.ReadBuffer > 1<<30 {
		v.add(at+".read_buffer", "%s is out of range: want up to 1GiB", in.ReadBuffer)
	}
}

// endpoint is what a socket binds, for telling two that would collide.
type endpoint struct {
	// space is "tcp" or "udp", whose ports are apart, or "unix" for a
	// socket path (unix and unixgram share the file system).
	space string
	host  string // "" for any address; an IP in canonical form, or a name
	port  int
	path  string // unix
}

// endpointOf returns what address binds over network (tcp, udp, unix or
// unixgram), and false where that cannot be told without the network
// (a port 0, chosen by the kernel, collides with nothing).
func endpointOf(network, address string) (endpoint, bool) {
	switch network {
	case "unix", "unixgram":
		if address == "" {
			return endpoint{}, false
		}
		return endpoint{space: "unix", path: filepath.Clean(address)}, true
	case "tcp", "udp":
	default:
		return endpoint{}, false
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return endpoint{}, false
	}
	p, err := net.LookupPort(network, port) // numbers, or /etc/services
	if err != nil || p == 0 {
		return endpoint{}, false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.Unmap().String()
		if ip.Is6() && ip.IsUnspecified() {
			host = "" // [::] listens on IPv4 too
		}
	} else {
		host = strings.ToLower(host)
	}
	return endpoint{space: network, host: host, port: p}, true
}

// overlaps reports whether a and b cannot both be bound: one socket path,
// or one port of one protocol where an address is the other, or either
// listens on every address (0.0.0.0 on every IPv4 one).
func (a endpoint) overlaps(b endpoint) bool {
	if a.space != b.space {
		return false
	}
	if a.space == "unix" {
		return a.path == b.path
	}
	if a.port != b.port {
		return false
	}
	if a.host == "" || b.host == "" || a.host == b.host {
		return true
	}
	return a.host == "0.0.0.0" && isIPv4(b.host) || b.host == "0.0.0.0" && isIPv4(a.host)
}

func isIPv4(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Is4()
}

// validateAddresses checks that no two inputs would bind one socket (UDP
// and TCP on one port are apart, as the defaults have them) and that the
// metrics server would not take a TCP input's. A host name is compared as
// written: "localhost" and "127.0.0.1" are told apart only by binding.
func validateAddresses(v *validator, c *Config) {
	type bound struct {
		at string
		ep endpoint
	}
	var seen []bound
	names := map[string]string{} // fd_name -> the input that takes it
	for i, in := range c.Inputs {
		at := fmt.Sprintf("input[%d]", i)
		if in.FDName != "" {
			if prev, ok := names[in.FDName]; ok {
				v.add(at+".fd_name", "%q: %s takes that socket already: want one input per socket", in.FDName, prev)
			}
			names[in.FDName] = at
			continue // systemd bound it: the address is only a label
		}
		network := in.Type
		if network == "tls" {
			network = "tcp"
		}
		ep, ok := endpointOf(network, in.Address)
		if !ok {
			continue
		}
		for _, b := range seen {
			if b.ep.overlaps(ep) {
				what := ep.space + " port"
				if ep.space == "unix" {
					what = "socket path"
				}
				v.add(at+".address", "%q: %s has that %s already: want one address per input", in.Address, b.at, what)
				break
			}
		}
		seen = append(seen, bound{at, ep})
	}
	if ep, ok := endpointOf("tcp", c.Metrics.Address); ok {
		for _, b := range seen {
			if b.ep.overlaps(ep) {
				what := fmt.Sprintf("%q", c.Metrics.Address)
				if _, set := c.lines["metrics.address"]; !set {
					what = "the default " + what
				}
				v.add("metrics.address", "%s: %s listens there over tcp: want another port for metrics", what, b.at)
				break
			}
		}
	}
}

// CheckSockets reports what only this machine can say about the unix
// socket inputs, without binding anything: whether each socket's directory
// exists and the user running it may create the socket there. It returns
// Errors with the lines of the addresses, or nil.
func (c *Config) CheckSockets() error {
	v := validator{lines: c.lines}
	for i, in := range c.Inputs {
		if in.Type != "unix" && in.Type != "unixgram" || in.Address == "" || in.FDName != "" {
			continue
		}
		at := fmt.Sprintf("input[%d].address", i)
		dir := filepath.Dir(in.Address)
		st, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			v.add(at, "socket directory %s does not exist", dir)
		case err != nil:
			v.add(at, "socket directory %s: %v", dir, err)
		case !st.IsDir():
			v.add(at, "socket directory %s is not a directory", dir)
		default:
			if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
				v.add(at, "socket directory %s is not writable: %v", dir, err)
			}
		}
	}
	if len(v.errs) == 0 {
		return nil
	}
	sortErrors(v.errs)
	return v.errs
}

// CheckCertificates reports what only this machine can say about the tls
// inputs: whether each one's certificate and key files can be read and
// make a key pair, and its client_ca holds certificates. It returns
// Errors with the lines of the keys, or nil.
func (c *Config) CheckCertificates() error {
	v := validator{lines: c.lines}
	for i, in := range c.Inputs {
		if in.Type != "tls" || in.Cert == "" || in.Key == "" {
			continue
		}
		at := fmt.Sprintf("input[%d]", i)
		cert, err := os.ReadFile(in.Cert)
		if err != nil {
			v.add(at+".cert", "%v", err)
		}
		key, kerr := os.ReadFile(in.Key)
		if kerr != nil {
			v.add(at+".key", "%v", kerr)
		}
		if err == nil && kerr == nil {
			if _, err := tls.X509KeyPair(cert, key); err != nil {
				v.add(at+".cert", "%s with key %s: %v", in.Cert, in.Key, err)
			}
		}
		if in.ClientCA != "" {
			if _, err := tlsconf.LoadPool(in.ClientCA); err != nil {
				v.add(at+".client_ca", "%v", err)
			}
		}
	}
	if len(v.errs) == 0 {
		return nil
	}
	sortErrors(v.errs)
	return v.errs
}
