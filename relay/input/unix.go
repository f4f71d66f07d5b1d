package input

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

var noDeadline time.Time

// ErrSocketInUse is returned when a unix socket path belongs to a live
// server.
var ErrSocketInUse = errors.New("socket in use by another process")

// listenUnix binds a unix stream socket at path with the given mode,
// replacing a stale socket file.
func listenUnix(path string, mode os.FileMode) (net.Listener, error) {
	if err := removeStale(path, "unix"); err != nil {
		return nil, fmt.Errorf("listen unix %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen unix %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen unix %s: %w", path, err)
	}
	return ln, nil
}

// listenUnixgram binds a unix datagram socket at path with the given mode,
// replacing a stale socket file. cleanup removes the file if it is still
// this socket's.
func listenUnixgram(path string, mode os.FileMode) (pc net.PacketConn, cleanup func(), err error) {
	if err := removeStale(path, "unixgram"); err != nil {
		return nil, nil, fmt.Errorf("listen unixgram %s: %w", path, err)
	}
	pc, err = net.ListenPacket("unixgram", path)
	if err != nil {
		return nil, nil, fmt.Errorf("listen unixgram %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		pc.Close()
		os.Remove(path)
		return nil, nil, fmt.Errorf("listen unixgram %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		pc.Close()
		return nil, nil, fmt.Errorf("listen unixgram %s: %w", path, err)
	}
	cleanup = func() {
		// Another relay may have replaced the file since; leave its
		// socket alone.
		if now, err := os.Stat(path); err == nil && os.SameFile(fi, now) {
			os.Remove(path)
		}
	}
	return pc, cleanup, nil
}

// removeStale removes the socket file at path when no server answers on
// it, the way rsyslog and systemd replace a socket left by a crash. Any
// other file is left alone, and an error.
func removeStale(path, network string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout(network, path, time.Second)
	if err == nil {
		c.Close()
		return ErrSocketInUse
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		// Not provably stale (a wrong socket type answers EPROTOTYPE,
		// for instance): do not take it over.
		return fmt.Errorf("probe existing socket: %w", err)
	}
	return os.Remove(path)
}

// openStdin returns standard input in a form that Close interrupts: a
// duplicate descriptor in non-blocking mode, so that Go's poller can wake
// a pending read. Where that is impossible (a regular file, which never
// blocks anyway) it is a plain duplicate or os.Stdin itself.
func openStdin() io.ReadCloser {
	fd, err := syscall.Dup(int(os.Stdin.Fd()))
	if err != nil {
		return io.NopCloser(os.Stdin)
	}
	// O_NONBLOCK belongs to the open file description, which other
	// processes (a shell) may share: it is restored on Close.
	if err := syscall.SetNonblock(fd, true); err != nil {
		return os.NewFile(uintptr(fd), "stdin")
	}
	return &stdinFile{File: os.NewFile(uintptr(fd), "stdin"), fd: fd}
}

type stdinFile struct {
	*os.File
	fd int
}

func (f *stdinFile) Close() error {
	err := f.File.Close()
	syscall.SetNonblock(int(os.Stdin.Fd()), false)
	return err
}
