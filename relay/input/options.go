package input

import (
	"os"
	"time"

	"github.com/floodgate/floodgate/internal/tlsconf"
)

// Options describe one input: what to listen on and the limits that keep
// one client from costing the others. The config package builds them from
// an [[input]] section on top of DefaultOptions; a field left at zero
// takes its default (IdleTimeout, FrameTimeout and DrainGrace: see their
// comments).
type Options struct {
	// Type is "udp", "tcp", "tls" (RFC 5425: syslog over TLS, framed as
	// over tcp), "unix" (stream socket), "unixgram", or "stdin".
	Type string
	// Address is host:port, or a socket path for unix and unixgram; it is
	// ignored for stdin.
	Address string
	// Name labels the input's batches, metrics and logs; "" means
	// DefaultName(Type, Address).
	Name string
	// Mode is the permission bits of a unix socket file; 0 means 0666.
	Mode os.FileMode
	// MaxMessageSize bounds one message: an oversize line is cut, an
	// oversize octet-counted frame skipped.
	MaxMessageSize int
	// MaxConnections bounds the stream clients served at once. When
	// every slot is taken, the client that has delivered nothing for
	// longest makes room; when every client delivers, new ones wait in
	// the kernel's accept queue until a slot frees. None is refused.
	MaxConnections int
	// MaxConnectionsPerPeer bounds the TCP clients of one source address.
	// A peer at its limit makes room from its own clients that delivered
	// nothing; failing that, its new connection waits while the peer is
	// sending, and is refused and counted when the peer's clients sit
	// idle.
	MaxConnectionsPerPeer int
	// IdleTimeout closes a stream client that sends nothing for this
	// long between frames; negative means never. Not for stdin.
	IdleTimeout time.Duration
	// FrameTimeout closes a stream client that has not completed a
	// frame this long after it began; bytes dribbled in do not extend
	// it. Negative means never. Not for stdin.
	FrameTimeout time.Duration
	// DrainGrace: during Shutdown, a stream client with no partial frame
	// that sends nothing for this long has sent all it will and is
	// closed. Negative means clients are only closed at the drain
	// deadline.
	DrainGrace time.Duration
	// ReadBuffer is the socket receive buffer (SO_RCVBUF) asked for a
	// datagram socket.
	ReadBuffer int
	// TLS names the certificate and key of a tls input, and the CA that
	// signs its clients' certificates for mutual TLS. Listener.ReloadTLS
	// reads them again.
	TLS tlsconf.Files
	// HandshakeTimeout bounds a tls client's handshake: one that has not
	// completed it by then is closed, having delivered nothing. Negative
	// means never.
	HandshakeTimeout time.Duration
	// File, when not nil, is a socket inherited from systemd (socket
	// activation) to serve instead of binding Address: a listening
	// stream socket for tcp, tls and unix, a datagram socket for udp and
	// unixgram. Listen duplicates it; the caller keeps File, so an input
	// restarted on it takes the same socket again.
	File *os.File
}

// DefaultOptions returns the limits every input has unless configured
// otherwise; Type and Address are left empty.
func DefaultOptions() Options {
	return Options{
		MaxMessageSize:        64 << 10,
		MaxConnections:        1024,
		MaxConnectionsPerPeer: 256,
		IdleTimeout:           5 * time.Minute,
		FrameTimeout:          30 * time.Second,
		DrainGrace:            250 * time.Millisecond,
		HandshakeTimeout:      10 * time.Second,
		ReadBuffer:            8 << 20,
		Mode:                  0o666,
	}
}

// DefaultName is the name of an input that was given none: "stdin" for
// stdin, else the type and address ("tcp 127.0.0.1:5514").
func DefaultName(typ, address string) string {
	if typ == "stdin" {
		return "stdin"
	}
	return typ + " " + address
}

// withDefaults fills the fields left at zero from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Name == "" {
		o.Name = DefaultName(o.Type, o.Address)
	}
	if o.Mode == 0 {
		o.Mode = d.Mode
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = d.MaxMessageSize
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = d.MaxConnections
	}
	if o.MaxConnectionsPerPeer <= 0 {
		o.MaxConnectionsPerPeer = d.MaxConnectionsPerPeer
	}
	o.IdleTimeout = orDefault(o.IdleTimeout, d.IdleTimeout)
	o.FrameTimeout = orDefault(o.FrameTimeout, d.FrameTimeout)
	o.DrainGrace = orDefault(o.DrainGrace, d.DrainGrace)
	o.HandshakeTimeout = orDefault(o.HandshakeTimeout, d.HandshakeTimeout)
	if o.ReadBuffer <= 0 {
		o.ReadBuffer = d.ReadBuffer
	}
	return o
}

// orDefault returns def for zero, 0 (none) for a negative d, else d.
func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}
