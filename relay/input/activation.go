package input

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// serveInherited serves a socket passed by systemd (socket activation)
// in place of one Listen would bind: a listening stream socket for tcp,
// tls and unix, a datagram socket for udp and unixgram, each of the
// family its type names. The socket stays f's: Listen works on a
// duplicate, and a unix socket's file is left in place (it is the
// socket unit's to remove).
func (l *Listener) serveInherited(f *os.File) error {
	o := l.opts
	bad := func(err error) error {
		return fmt.Errorf("%s input %s: inherited socket %s: %w", o.Type, o.Name, f.Name(), err)
	}
	switch o.Type {
	case "tcp", "tls", "unix":
		if err := l.loadTLS(); err != nil {
			return err
		}
		ln, err := net.FileListener(f)
		if err != nil {
			return bad(fmt.Errorf("not a listening stream socket: %w", err))
		}
		_, isTCP := ln.(*net.TCPListener)
		if isTCP != (o.Type != "unix") {
			ln.Close()
			return bad(fmt.Errorf("a %s socket, not what a %s input takes", ln.Addr().Network(), o.Type))
		}
		l.serveListener(ln)
	case "udp", "unixgram":
		if typ, err := sockType(f); err != nil || typ != unix.SOCK_DGRAM {
			return bad(fmt.Errorf("not a datagram socket (%v)", err))
		}
		pc, err := net.FilePacketConn(f)
		if err != nil {
			return bad(fmt.Errorf("not a datagram socket: %w", err))
		}
		_, isUDP := pc.(*net.UDPConn)
		if isUDP != (o.Type == "udp") {
			pc.Close()
			return bad(fmt.Errorf("a %s socket, not what a %s input takes", pc.LocalAddr().Network(), o.Type))
		}
		l.servePacketConn(pc, o.ReadBuffer)
	default:
		return fmt.Errorf("%s input %s: cannot take an inherited socket", o.Type, o.Name)
	}
	return nil
}

// sockType returns a socket's SO_TYPE (SOCK_STREAM, SOCK_DGRAM).
func sockType(f *os.File) (int, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	typ := 0
	var serr error
	if err := raw.Control(func(fd uintptr) {
		typ, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE)
	}); err != nil {
		return 0, err
	}
	return typ, serr
}
