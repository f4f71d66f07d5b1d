package input

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// Datagram sizes.
const (
	// maxDatagram bounds the room read for one datagram: nothing larger
	// reaches a syslog socket in practice (UDP stops at 64 KiB).
	maxDatagram = 1 << 20
	// packetBuffer is the least a datagram reader reads a batch into.
	packetBuffer = 1 << 20
)

// servePacketConn reads datagrams, one message each, until the socket is
// closed or drained.
func (l *Listener) servePacketConn(pc net.PacketConn, readBuffer int) {
	l.pc = pc
	l.addr = pc.LocalAddr()
	if err := setReadBuffer(pc, readBuffer); err != nil {
		// Deliberately not fatal: the relay works with a smaller buffer,
		// it only drops sooner during a burst.
		l.log.warn("socket receive buffer not set", "read_buffer", readBuffer, "err", err)
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.readPackets()
	}()
}

// setReadBuffer asks for SO_RCVBUF of n bytes: first with SO_RCVBUFFORCE,
// which may exceed net.core.rmem_max when the process has CAP_NET_ADMIN,
// then within the limit. It reports an error when the kernel gave less.
func setReadBuffer(pc net.PacketConn, n int) error {
	sc, ok := pc.(syscall.Conn)
	if !ok {
		return errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var got int
	var serr error
	err = rc.Control(func(fd uintptr) {
		if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n) != nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		}
		// Linux reports twice what it grants (the other half is its
		// bookkeeping).
		got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		got /= 2
	})
	if err == nil {
		err = serr
	}
	if err == nil && got < n {
		err = fmt.Errorf("kernel granted %d bytes (raise net.core.rmem_max)", got)
	}
	return err
}

func (l *Listener) readPackets() {
	sc, ok := l.pc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		l.log.warn("datagram socket unusable", "err", err)
		return
	}
	// A datagram is read into room for one byte more than the maximum,
	// so that a longer one shows as filling it.
	slot := min(l.maxSize, maxDatagram) + 1
	r := packetReader{
		buf:   make([]byte, max(packetBuffer, 4*slot)),
		slot:  slot,
		stats: l.stats,
	}
	b := &Batch{Input: l.name, Frames: make([][]byte, 0, MaxBatch)}
	wait := true
	for {
		frames, empty, err := r.read(rc, b.Frames[:0], wait)
		if len(frames) > 0 {
			deliver(l.sink, l.stats, b, frames)
		}
		switch {
		case err == nil:
			if empty && !wait {
				return // drained
			}
		case errors.Is(err, os.ErrDeadlineExceeded) && l.draining.Load():
			// Shutdown: read what the socket holds without waiting.
			l.pc.SetReadDeadline(noDeadline)
			wait = false
		case errors.Is(err, net.ErrClosed):
			return
		default:
			l.stats.ReadErrors.Add(1)
			l.log.warn("read failed", "err", err)
		}
	}
}

// packetReader reads batches of datagrams into one buffer.
type packetReader struct {
	buf   []byte
	slot  int
	stats *Stats

	// The state of one read call, kept here so the callback given to
	// RawConn.Read is allocated once.
	dst   [][]byte
	off   int
	wait  bool
	empty bool
	err   error
	fn    func(fd uintptr) bool
}

// read appends datagrams to dst until the socket has none left, the
// buffer is full or the batch is. With wait, it first waits for one.
// empty reports that the socket held nothing more.
func (r *packetReader) read(rc syscall.RawConn, dst [][]byte, wait bool) ([][]byte, bool, error) {
	if r.fn == nil {
		r.fn = r.recv
	}
	r.dst, r.off, r.wait, r.empty, r.err = dst, 0, wait, false, nil
	err := rc.Read(r.fn)
	if err == nil {
		err = r.err
	}
	dst = r.dst
	r.dst = nil
	return dst, r.empty, err
}

// recv runs on the socket's file descriptor, non-blocking: it returns
// false to wait for readability and be called again.
func (r *packetReader) recv(fd uintptr) bool {
	for len(r.dst) < MaxBatch && r.off+r.slot <= len(r.buf) {
		n, err := syscall.Read(int(fd), r.buf[r.off:r.off+r.slot])
		switch err {
		case nil:
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if len(r.dst) == 0 && r.wait {
				return false
			}
			r.empty = true
			return true
		default:
			r.err = err
			return true
		}
		frame := r.buf[r.off : r.off+n]
		r.off += n
		if n == r.slot {
			r.stats.Truncated.Add(1)
			frame = frame[:n-1]
		}
		// Senders differ on whether a datagram ends in LF, CRLF or
		// NUL; none of them is part of the message.
		frame = bytes.TrimRight(frame, "\n\r\x00")
		if len(frame) > 0 {
			r.dst = append(r.dst, frame)
		}
	}
	return true
}
