package config

import (
	"os"
	"strconv"
	"strings"

	"github.com/floodgate/floodgate/relay/input"
)

// Input is one [[input]]: a socket floodgate listens on. Its defaults are
// input.DefaultOptions'; Options converts it.
type Input struct {
	// Type is "udp", "tcp", "unix" (stream socket), "unixgram", or
	// "stdin" (an LF or octet-counted stream on standard input, for
	// sidecar use).
	Type string `toml:"type"`
	// Address is host:port, or a socket path for unix and unixgram; it is
	// ignored for stdin.
	Address string `toml:"address"`
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
	if in.Mode == "" && (in.Type == "unix" || in.Type == "unixgram") {
		in.Mode = "0" + strconv.FormatUint(uint64(d.Mode), 8)
	}
	if in.Name == "" {
		in.Name = input.DefaultName(in.Type, in.Address)
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
	}
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
	if in.MaxConnectionsPerPeer < 1 {
		v.add(at+".max_connections_per_peer", "%d: want at least 1", in.MaxConnectionsPerPeer)
	}
	if in.ReadBuffer < 0 || in.ReadBuffer > 1<<30 {
		v.add(at+".read_buffer", "%s is out of range: want up to 1GiB", in.ReadBuffer)
	}
}
