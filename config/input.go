package config

import (
	"strconv"
	"strings"
)

// Input is one [[input]]: a socket floodgate listens on.
type Input struct {
	// Type is "udp", "tcp", "unix" (stream socket), "unixgram", or
	// "stdin" (an LF or octet-counted stream on standard input, for
	// sidecar use).
	Type string `toml:"type"`
	// Address is host:port, or a socket path for unix and unixgram; it is
	// ignored for stdin.
	Address string `toml:"address"`
	// Name labels the input in metrics and logs; defaults to "type address".
	Name string `toml:"name"`
	// Mode is the unix socket file's permission bits, octal ("0666").
	Mode string `toml:"mode"`
	// MaxMessageSize bounds one message: an oversize LF line is truncated
	// and the rest skipped, an oversize octet-counted frame is skipped.
	MaxMessageSize Size `toml:"max_message_size"`
	// MaxConnections bounds concurrent stream clients.
	MaxConnections int `toml:"max_connections"`
	// IdleTimeout closes a stream client that sends nothing for this long.
	// It does not apply to stdin.
	IdleTimeout Duration `toml:"idle_timeout"`
	// ReadBuffer is the socket receive buffer (SO_RCVBUF) to ask for.
	ReadBuffer Size `toml:"read_buffer"`
}

// Default input limits.
const (
	DefaultMaxMessageSize = 64 << 10
	DefaultMaxConnections = 1024
	DefaultIdleTimeout    = Duration(5 * 60e9)
	DefaultReadBuffer     = 8 << 20
)

func (in *Input) fill() {
	if in.MaxMessageSize == 0 {
		in.MaxMessageSize = DefaultMaxMessageSize
	}
	if in.MaxConnections == 0 {
		in.MaxConnections = DefaultMaxConnections
	}
	if in.IdleTimeout == 0 {
		in.IdleTimeout = DefaultIdleTimeout
	}
	if in.ReadBuffer == 0 {
		in.ReadBuffer = DefaultReadBuffer
	}
	if in.Mode == "" && (in.Type == "unix" || in.Type == "unixgram") {
		in.Mode = "0666"
	}
	if in.Name == "" {
		in.Name = in.Type + " " + in.Address
		if in.Type == "stdin" {
			in.Name = "stdin"
		}
	}
}

// FileMode returns Mode parsed as octal permission bits.
func (in *Input) FileMode() uint32 {
	m, _ := strconv.ParseUint(in.Mode, 8, 32)
	return uint32(m)
}

func (in *Input) validate(v *validator, at string) {
	switch in.Type {
	case "udp", "tcp":
		if in.Address == "" || !strings.Contains(in.Address, ":") {
			v.add(at+".address", "%q: want host:port", in.Address)
		}
	case "unix", "unixgram":
		if in.Address == "" {
			v.add(at+".address", "want a socket path")
		}
		if m, err := strconv.ParseUint(in.Mode, 8, 32); err != nil || m > 0o777 {
			v.add(at+".mode", "%q: want octal permission bits such as \"0666\"", in.Mode)
		}
	case "stdin":
	case "":
		v.add(at+".type", "missing: want \"udp\", \"tcp\", \"unix\", \"unixgram\" or \"stdin\"")
	default:
		v.add(at+".type", "%q: want \"udp\", \"tcp\", \"unix\", \"unixgram\" or \"stdin\"", in.Type)
	}
	if in.MaxMessageSize < 480 || in.MaxMessageSize > 64<<20 {
		v.add(at+".max_message_size", "%s is out of range: want 480B to 64MiB", in.MaxMessageSize)
	}
	if in.MaxConnections < 1 {
		v.add(at+".max_connections", "%d: want at least 1", in.MaxConnections)
	}
	if in.ReadBuffer < 0 || in.ReadBuffer > 1<<30 {
		v.add(at+".read_buffer", "%s is out of range: want up to 1GiB", in.ReadBuffer)
	}
}
