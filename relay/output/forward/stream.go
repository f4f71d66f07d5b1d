package forward

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// streamDialer connects to a syslog receiver over TCP or TLS.
type streamDialer struct {
	addr    string
	tls     *tls.Config // nil for plain TCP
	timeout time.Duration
}

func newStreamDialer(o Options) (*streamDialer, error) {
	d := &streamDialer{addr: o.Address, timeout: o.Timeout}
	if o.Protocol == "tls" {
		cfg, err := clientTLS(o)
		if err != nil {
			return nil, err
		}
		d.tls = cfg
	}
	return d, nil
}

func (d *streamDialer) maxInflight() (int, int64) { return 0, 0 }

func (d *streamDialer) dial(ctx context.Context, wake chan<- struct{}) (conn, error) {
	var nd net.Dialer
	raw, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", d.addr, err)
	}
	tcp, ok := raw.(*net.TCPConn)
	if !ok {
		raw.Close()
		return nil, fmt.Errorf("connect %s: not a TCP connection", d.addr)
	}
	rc, err := tcp.SyscallConn()
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("connect %s: %w", d.addr, err)
	}
	c := &streamConn{raw: rc, counted: &countingConn{Conn: tcp}, timeout: d.timeout, wake: wake, broken: make(chan struct{})}
	c.c = c.counted
	if d.tls != nil {
		cfg := d.tls.Clone()
		asked := false // the server asked for a client certificate
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked = true
			if len(d.tls.Certificates) > 0 {
				return &d.tls.Certificates[0], nil
			}
			return new(tls.Certificate), nil
		}
		tc := tls.Client(c.counted, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("tls handshake with %s: %w", d.addr, err)
		}
		if asked && tc.ConnectionState().Version >= tls.VersionTLS13 {
			// In TLS 1.3 the client's handshake ends before the server
			// has checked the client's certificate; a server that
			// rejects it says so a round trip later, by which time its
			// TCP stack would have acknowledged records it throws away.
			// Wait for that word before sending anything.
			_ = tc.SetReadDeadline(time.Now().Add(min(d.timeout, certProbe)))
			var b [1]byte
			_, err := tc.Read(b[:])
			if ne, ok := err.(net.Error); err == nil || !ok || !ne.Timeout() {
				raw.Close()
				return nil, fmt.Errorf("tls handshake with %s: client certificate: %w", d.addr, errors.Join(err, errRejected))
			}
			_ = tc.SetReadDeadline(time.Time{})
		}
		c.c = tc
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.watch()
	}()
	return c, nil
}

// certProbe is how long a TLS 1.3 client that sent a certificate waits
// for the server to reject it before it sends records.
const certProbe = 500 * time.Millisecond

var errRejected = errors.New("server closed the connection after the handshake")

// countingConn counts the bytes written to the socket, TLS records and
// all, the same bytes the kernel counts in tcpi_bytes_acked.
type countingConn struct {
	net.Conn
	n atomic.Uint64
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(uint64(n))
	return n, err
}

// streamConn sends RFC 6587 octet-counted frames. A frame counts as
// delivered once the receiver's TCP stack has acknowledged its last
// byte (tcpi_bytes_acked), so a connection that breaks gives back exactly
// what never reached the other side, to be sent again.
type streamConn struct {
	c       net.Conn // what frames are written to: the TCP or TLS connection
	counted *countingConn
	raw     syscall.RawConn
	timeout time.Duration
	wake    chan<- struct{}
	buf     []byte

	pending []sent // written, not acknowledged, oldest first

	broken  chan struct{} // closed when the receiver closed or reset
	readErr error
	wg      sync.WaitGroup
}

// sent is an item written, and the socket byte count at its end.
type sent struct {
	it  *item
	end uint64
	at  time.Time
}

// watch reads what the receiver sends (a syslog receiver sends nothing)
// until the connection ends, and reports its end.
func (c *streamConn) watch() {
	var b [512]byte
	for {
		if _, err := c.c.Read(b[:]); err != nil {
			c.readErr = err
			close(c.broken)
			select {
			case c.wake <- struct{}{}:
			default:
			}
			return
		}
	}
}

func (c *streamConn) send(items []*item) error {
	c.buf = c.buf[:0]
	for _, it := range items {
		c.buf = strconv.AppendInt(c.buf, int64(len(it.data)), 10)
		c.buf = append(c.buf, ' ')
		c.buf = append(c.buf, it.data...)
	}
	_ = c.c.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.c.Write(c.buf)
	end := c.counted.n.Load()
	now := time.Now()
	for _, it := range items {
		c.pending = append(c.pending, sent{it: it, end: end, at: now})
	}
	if cap(c.buf) > 4*batchBytes {
		c.buf = nil
	}
	if err != nil {
		return fmt.Errorf("write upstream: %w", err)
	}
	return nil
}

// acked returns how many bytes written the receiver's TCP stack
// acknowledged.
func (c *streamConn) acked() (uint64, error) {
	var info *unix.TCPInfo
	var ierr error
	err := c.raw.Control(func(fd uintptr) {
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	})
	if err == nil {
		err = ierr
	}
	if err != nil {
		return 0, fmt.Errorf("read tcp_info: %w", err)
	}
	// The count includes the SYN, one sequence number the peer
	// acknowledged that carried no byte.
	return max(info.Bytes_acked, 1) - 1, nil
}

func (c *streamConn) poll() error {
	if len(c.pending) > 0 {
		acked, err := c.acked()
		if err != nil {
			return err
		}
		i := 0
		for i < len(c.pending) && c.pending[i].end <= acked {
			c.pending[i].it.done.Store(true)
			i++
		}
		c.pending = c.pending[i:]
	}
	select {
	case <-c.broken:
		return fmt.Errorf("%w: %v", errClosedByPeer, c.readErr)
	default:
	}
	if len(c.pending) > 0 && time.Since(c.pending[0].at) > c.timeout {
		return fmt.Errorf("%w for %s", errNoAck, c.timeout)
	}
	return nil
}

func (c *streamConn) close() error {
	if len(c.pending) > 0 {
		_ = c.poll() // the last acknowledgements; the connection's fate is known
	}
	err := c.c.Close()
	c.wg.Wait()
	return err
}
