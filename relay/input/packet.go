package input

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"unsafe"
)

// Datagram sizes.
const (
	// maxDatagram bounds the room read for one datagram: nothing larger
	// reaches a syslog socket in practice (UDP stops at 64 KiB).
	maxDatagram = 1 << 20
	// packetBuffer is the size of the arena a batch of datagrams is
	// copied into (at least one maximum datagram).
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
		l.log.Warn("socket receive buffer not set", "read_buffer", readBuffer, "err", err)
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
		l.log.Warn("datagram socket unusable", "err", err)
		return
	}
	// A datagram is read into room for one byte more than the maximum,
	// so that a longer one shows as filling it.
	slot := min(l.opts.MaxMessageSize, maxDatagram) + 1
	r := newPacketReader(slot, l.stats)
	b := &Batch{Input: l.opts.Name, Frames: make([][]byte, 0, MaxBatch)}
	wait := true
	for {
		frames, empty, err := r.read(rc, b.Frames[:0], wait)
		b.Peers = r.peers
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
			l.log.Warn("read failed", "err", err)
		}
	}
}

// packetReader reads batches of datagrams with recvmmsg(2): up to
// ringSlots datagrams per system call into a ring of slots as large as
// the largest datagram accepted, copied from there into one arena per
// batch, so that a batch of hundreds of small datagrams fits in little
// memory.
type packetReader struct {
	arena []byte // the frames of one batch
	slot  int
	stats *Stats

	ring  []byte // ringSlots slots of slot bytes each
	msgs  []mmsghdr
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrAny // each slot's source address
	// peers holds the source address of each frame of the batch read.
	peers []netip.Addr
	// ring[next:got] are datagrams received and not yet copied out.
	next, got int

	// The state of one read call, kept here so the callback given to
	// RawConn.Read is allocated once.
	dst   [][]byte
	off   int
	wait  bool
	empty bool
	err   error
	fn    func(fd uintptr) bool
}

// mmsghdr is struct mmsghdr of recvmmsg(2).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32 // msg_len: the bytes received
}

// ringSlots is how many datagrams one recvmmsg call takes at most.
const ringSlots = 64

func newPacketReader(slot int, stats *Stats) *packetReader {
	n := max(1, min(ringSlots, (4<<20)/slot))
	r := &packetReader{
		arena: make([]byte, max(packetBuffer, slot)),
		slot:  slot,
		stats: stats,
		ring:  make([]byte, n*slot),
		msgs:  make([]mmsghdr, n),
		iovs:  make([]syscall.Iovec, n),
		names: make([]syscall.RawSockaddrAny, n),
		peers: make([]netip.Addr, 0, MaxBatch),
	}
	for i := range r.msgs {
		r.iovs[i].Base = &r.ring[i*slot]
		r.iovs[i].SetLen(slot)
		r.msgs[i].hdr.Iov = &r.iovs[i]
		r.msgs[i].hdr.Iovlen = 1
		r.msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	r.fn = r.recv
	return r
}

// read appends datagrams to dst until the socket has none left, the
// arena is full or the batch is. With wait, it first waits for one.
// empty reports that the socket held nothing more.
func (r *packetReader) read(rc syscall.RawConn, dst [][]byte, wait bool) ([][]byte, bool, error) {
	r.dst, r.off, r.wait, r.empty, r.err = dst, 0, wait, false, nil
	r.peers = r.peers[:0]
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
	for len(r.dst) < MaxBatch {
		if r.next == r.got {
			k := min(len(r.msgs), MaxBatch-len(r.dst))
			for i := range k {
				r.msgs[i].hdr.Namelen = syscall.SizeofSockaddrAny
			}
			n, _, errno := syscall.Syscall6(syscall.SYS_RECVMMSG, fd,
				uintptr(unsafe.Pointer(&r.msgs[0])), uintptr(k), syscall.MSG_DONTWAIT, 0, 0)
			switch errno {
			case 0:
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				if len(r.dst) == 0 && r.wait {
					return false
				}
				r.empty = true
				return true
			default:
				r.err = errno
				return true
			}
			r.next, r.got = 0, int(n)
		}
		for ; r.next < r.got && len(r.dst) < MaxBatch; r.next++ {
			m := &r.msgs[r.next]
			n := int(m.n)
			if len(r.arena)-r.off < n {
				return true // the rest waits in the ring for the next batch
			}
			frame := r.ring[r.next*r.slot : r.next*r.slot+n]
			if n == r.slot || m.hdr.Flags&syscall.MSG_TRUNC != 0 {
				r.stats.Truncated.Add(1)
				frame = frame[:r.slot-1]
			}
			// Senders differ on whether a datagram ends in LF, CRLF or
			// NUL; none of them is part of the message.
			frame = bytes.TrimRight(frame, "\n\r\x00")
			if len(frame) == 0 {
				continue
			}
			out := r.arena[r.off : r.off+len(frame)]
			copy(out, frame)
			r.off += len(frame)
			r.dst = append(r.dst, out)
			r.peers = append(r.peers, sourceAddr(&r.names[r.next], m.hdr.Namelen))
		}
	}
	return true
}

// sourceAddr returns the IP address of a datagram's source, the zero Addr
// for any other kind of address (a unix datagram socket's).
func sourceAddr(sa *syscall.RawSockaddrAny, n uint32) netip.Addr {
	switch {
	case sa.Addr.Family == syscall.AF_INET && n >= syscall.SizeofSockaddrInet4:
		return netip.AddrFrom4((*syscall.RawSockaddrInet4)(unsafe.Pointer(sa)).Addr)
	case sa.Addr.Family == syscall.AF_INET6 && n >= syscall.SizeofSockaddrInet6:
		return netip.AddrFrom16((*syscall.RawSockaddrInet6)(unsafe.Pointer(sa)).Addr).Unmap()
	}
	return netip.Addr{}
}
