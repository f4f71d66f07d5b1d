package input

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"

	"github.com/floodgate/floodgate/internal/logging"
	"github.com/floodgate/floodgate/internal/tlsconf"
)

// MaxBatch is the most frames one Batch carries.
const MaxBatch = 512

// Batch is a run of frames one connection (or socket, or stream) read
// together.
type Batch struct {
	// Input is the input's name (Options.Name).
	Input string
	// Received is when the batch was read: one time.Now() per batch.
	Received time.Time
	// Frames holds one framed message each, without its terminator. The
	// frames share the reader's buffer: they are valid only during
	// Deliver.
	Frames [][]byte
	// Peer is the source address of a TCP client's frames; Peers, where
	// not nil, holds each datagram's, one per frame. Both are the zero
	// Addr where there is none (unix sockets, stdin).
	Peer  netip.Addr
	Peers []netip.Addr
	// Oversize lists the frames that are only the first bytes of a frame
	// too long, skipped (stream inputs), in order.
	Oversize []Oversize
}

// PeerOf returns the source address of frame i.
func (b *Batch) PeerOf(i int) netip.Addr {
	if i < len(b.Peers) {
		return b.Peers[i]
	}
	return b.Peer
}

// Sink receives batches. Deliver may be called concurrently from many
// goroutines (one per connection) and may block: that holds back only the
// connection it was called for, whose peer then sees TCP back-pressure.
// Deliver must not keep b, its Frames or their bytes after it returns.
type Sink interface {
	Deliver(b *Batch)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(b *Batch)

// Deliver calls f(b).
func (f SinkFunc) Deliver(b *Batch) { f(b) }

// Listener is one bound input: a socket, or stdin, and the goroutines
// that serve it.
type Listener struct {
	opts  Options
	sink  Sink
	stats *Stats
	log   *slog.Logger

	ln      net.Listener    // stream sockets
	pc      net.PacketConn  // datagram sockets
	tls     *tlsconf.Server // a tls input's certificates
	addr    net.Addr
	cleanup func() // removes a unixgram socket file

	wg       sync.WaitGroup
	quit     chan struct{} // closed when accepting stops
	stopOnce sync.Once
	// draining is set by Shutdown: datagram readers stop at the first
	// empty read, stream clients at the first DrainGrace without data.
	draining atomic.Bool
	done     chan struct{} // closed by end
	doneOnce sync.Once

	mu      sync.Mutex
	clients map[*client]struct{}
	peers   map[netip.Addr]int // TCP clients per source address
	closing bool               // new clients are closed at once
	evicted []*client          // closed to make room, to be logged
	// waiters counts the admissions waiting for a slot; while there are
	// any, a freed slot closes gen, which wakes them all.
	waiters atomic.Int64
	gen     chan struct{}
	// peerWaiting counts the connections waiting in a goroutine of their
	// own for a slot of their peer.
	peerWaiting int
}

// client is one stream being read: a connection, or stdin.
type client struct {
	// rc is what is read: the connection, or for tls the TLS session on
	// raw; raw is what is closed (no close_notify: a client that is
	// closed on is going away unheard, and a TLS close could wait on it)
	// and asked for unread bytes.
	rc       io.ReadCloser
	raw      io.ReadCloser
	peer     netip.Addr // a TCP client's source address; zero otherwise
	accepted time.Time
	// delivered is set once the client has delivered a frame: such a
	// client is never closed to make room. busy is set while its frames
	// are with the Sink; last is when it last sent bytes (Unix ns).
	delivered atomic.Bool
	busy      atomic.Bool
	last      atomic.Int64
	// handshaking is set while a tls client's handshake runs.
	handshaking atomic.Bool
}

// evictAge is how long a client that has delivered nothing keeps its slot
// for certain: long enough to read what a client that connected and sent
// at once has in the kernel, short enough that silent clients cannot keep
// a fresh one waiting.
const evictAge = time.Second

// Errors that end a stream client.
var (
	errIdleTimeout  = errors.New("idle timeout")
	errFrameTimeout = errors.New("frame timeout")
)

// Listen binds the socket o describes and serves it in goroutines the
// Listener owns, delivering frames to sink and counting into stats (which
// may be nil). Fields of o left at zero take DefaultOptions' values. log
// (nil for none) is used as given, scoped by the caller with the input's
// name, and rate limited per message to one record every 10 s. Listen
// returns only once the socket is bound, so a bind error reaches the
// caller.
//
// Stream clients (tcp, tls, unix) get a goroutine each, framed by a
// Framer, a tls client once its handshake is done;
// datagram sockets (udp, unixgram) carry one message per datagram; stdin
// is one stream.
func Listen(o Options, sink Sink, stats *Stats, log *slog.Logger) (*Listener, error) {
	l := newListener(o, sink, stats, log)
	o = l.opts
	if o.File != nil {
		if err := l.serveInherited(o.File); err != nil {
			return nil, err
		}
		return l, nil
	}
	switch o.Type {
	case "tcp", "tls":
		if err := l.loadTLS(); err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", o.Address)
		if err != nil {
			return nil, fmt.Errorf("listen tcp %s: %w", o.Address, err)
		}
		l.serveListener(ln)
	case "unix":
		ln, err := listenUnix(o.Address, o.Mode)
		if err != nil {
			return nil, err
		}
		l.serveListener(ln)
	case "udp":
		pc, err := net.ListenPacket("udp", o.Address)
		if err != nil {
			return nil, fmt.Errorf("listen udp %s: %w", o.Address, err)
		}
		l.servePacketConn(pc, o.ReadBuffer)
	case "unixgram":
		pc, cleanup, err := listenUnixgram(o.Address, o.Mode)
		if err != nil {
			return nil, err
		}
		l.cleanup = cleanup
		l.servePacketConn(pc, o.ReadBuffer)
	case "stdin":
		l.addr = stdinAddr{}
		l.serveReader(openStdin())
	default:
		return nil, fmt.Errorf("listen %q: unknown input type", o.Type)
	}
	return l, nil
}

// newListener returns a Listener for o with nothing bound yet.
func newListener(o Options, sink Sink, stats *Stats, log *slog.Logger) *Listener {
	if stats == nil {
		stats = new(Stats)
	}
	var h slog.Handler = slog.DiscardHandler
	if log != nil {
		h = log.Handler()
	}
	return &Listener{
		opts:    o.withDefaults(),
		sink:    sink,
		stats:   stats,
		log:     slog.New(logging.NewLimited(h, rate.Every(logInterval), 1)),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		clients: make(map[*client]struct{}),
		peers:   make(map[netip.Addr]int),
		gen:     make(chan struct{}),
	}
}

// logInterval is how often one kind of log record of an input may be
// written; what is held back is counted on the next.
const logInterval = 10 * time.Second

// Addr returns the bound address: the port chosen for port 0, or the
// socket path.
func (l *Listener) Addr() net.Addr { return l.addr }

// Done returns a channel that is closed when the input has ended: a stdin
// input at the end of its stream, any input once Shutdown or Close has
// returned. A socket input never ends on its own.
func (l *Listener) Done() <-chan struct{} { return l.done }

// end closes Done.
func (l *Listener) end() { l.doneOnce.Do(func() { close(l.done) }) }

// Shutdown stops accepting new connections at once and lets connected
// stream clients keep sending until they close, or until they have sent
// nothing for DrainGrace with no partial frame pending (what the kernel
// held for them has been read by then), or until ctx is done; then it
// closes them. A client in the middle of a frame gets until ctx is done
// to complete it. Everything read is delivered, a frame cut short by the
// close included. Datagram sockets stop reading once the datagrams they
// already hold are read (best effort). Shutdown returns when every
// goroutine of the Listener has exited: nil, or ctx's error when clients
// had to be closed.
func (l *Listener) Shutdown(ctx context.Context) error {
	l.stopAccepting()
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		l.finish()
		return nil
	case <-ctx.Done():
	}
	if l.ln != nil {
		// Still taking a backlog that clients keep filling.
		l.ln.Close()
	}
	if l.pc != nil {
		// A datagram reader still draining a flood, or held by the Sink.
		l.pc.Close()
	}
	l.closeClients()
	<-done
	l.finish()
	return ctx.Err()
}

// Close aborts: it closes the socket and every connection now, and waits
// for the goroutines to exit. Frames already read are still delivered.
func (l *Listener) Close() error {
	l.stopAccepting()
	if l.ln != nil {
		l.ln.Close() // abort: no backlog grace
	}
	if l.pc != nil {
		l.pc.Close()
	}
	l.closeClients()
	l.wg.Wait()
	l.finish()
	return nil
}

// stopAccepting stops the listening socket, after taking the connections
// already waiting in its backlog, asks datagram readers to drain and stop,
// and stream clients to end at their first DrainGrace without data.
func (l *Listener) stopAccepting() {
	l.stopOnce.Do(func() {
		l.draining.Store(true)
		close(l.quit)
		if l.ln != nil {
			if d, ok := l.ln.(interface{ SetDeadline(time.Time) error }); ok && d.SetDeadline(time.Now()) == nil {
				// Accept returns at once; the accept loop takes the
				// backlog and closes the socket.
			} else {
				l.ln.Close()
			}
		}
		if l.pc != nil {
			// Wake a reader waiting for datagrams; it drains what the
			// socket holds without waiting and stops.
			l.pc.SetReadDeadline(time.Now())
		}
		// Wake every stream client waiting for data, so that it waits
		// again with the drain grace.
		// A tls client still handshaking is left to finish, under its
		// handshake deadline: the drain's deadlines are set by its reads.
		l.mu.Lock()
		for c := range l.clients {
			if d, ok := c.rc.(deadlineReader); ok && !c.handshaking.Load() {
				d.SetReadDeadline(time.Now())
			}
		}
		l.mu.Unlock()
	})
}

// finish releases what outlives the goroutines.
func (l *Listener) finish() {
	if l.pc != nil {
		l.pc.Close()
	}
	if l.cleanup != nil {
		l.cleanup()
	}
	l.end()
}

// Admission verdicts (place, admit).
const (
	admitted = iota
	refused
	waitGlobal // every slot is taken by clients that deliver
	waitPeer   // the peer's slots are, and it is sending
)

// peerWaitMax bounds how long a connection waits for a slot of its
// peer before it is refused.
const peerWaitMax = 30 * time.Second

// admit gives c a slot, waiting while every slot is held by clients that
// deliver, or reports that c must be closed: while shutting down for good,
// or when c's peer is at MaxConnectionsPerPeer with every one of its
// clients delivering and idle. Where c's peer is at its limit but sending,
// the accept loop (fromAccept) does not wait: admit says waitPeer, and c
// waits in a goroutine of its own (waitForPeer), up to peerWaitMax.
func (l *Listener) admit(c *client, fromAccept bool) int {
	var deadline <-chan time.Time
	for {
		forced := false
		select {
		case <-l.quit:
			// Shutting down: c came from the backlog with what it sent;
			// read it whatever the limits.
			forced = true
		default:
		}
		// Counted before looking, so that a slot freed after the look
		// still wakes the wait.
		l.waiters.Add(1)
		l.mu.Lock()
		v, wait := admitted, time.Duration(0)
		switch {
		case l.closing:
			v = refused
		case !forced:
			v, wait = l.place(c, time.Now())
		}
		if v == admitted {
			l.clients[c] = struct{}{}
			if c.peer.IsValid() {
				l.peers[c.peer]++
			}
		}
		gen := l.gen
		l.mu.Unlock()
		l.logEvicted()
		if v == admitted || v == refused || (v == waitPeer && fromAccept) {
			l.waiters.Add(-1)
			return v
		}
		if deadline == nil && v == waitPeer {
			t := time.NewTimer(peerWaitMax)
			defer t.Stop()
			deadline = t.C
		}
		t := time.NewTimer(wait)
		select {
		case <-gen:
		case <-t.C:
		case <-l.quit:
		case <-deadline:
			v = refused
		}
		t.Stop()
		l.waiters.Add(-1)
		if v == refused {
			return refused
		}
	}
}

// waitForPeer lets c wait for a slot of its peer in a goroutine of its own,
// so that the accept loop serves other peers meanwhile. At most
// MaxConnections connections wait so at once; past that, the accept loop
// itself waits for one of them to finish, leaving new connections in the
// kernel's accept queue, which slows their senders down.
func (l *Listener) waitForPeer(c *client) {
	for {
		forced := false
		select {
		case <-l.quit:
			forced = true
		default:
		}
		l.waiters.Add(1)
		l.mu.Lock()
		if forced || l.peerWaiting < l.opts.MaxConnections {
			l.peerWaiting++
			l.mu.Unlock()
			l.waiters.Add(-1)
			break
		}
		gen := l.gen
		l.mu.Unlock()
		select {
		case <-gen:
		case <-l.quit:
		}
		l.waiters.Add(-1)
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		v := l.admit(c, false)
		l.mu.Lock()
		l.peerWaiting--
		l.mu.Unlock()
		l.signal()
		if v != admitted {
			l.refuse(c)
			return
		}
		l.serveClient(c)
	}()
}

// refuse closes c, which got no slot, and says so.
func (l *Listener) refuse(c *client) {
	// Counted before the close, so that a client that sees its
	// connection closed finds the count already moved.
	if l.draining.Load() {
		c.raw.Close()
		return // closed by shutdown, not refused
	}
	l.stats.ConnectionsRejected.Add(1)
	c.raw.Close()
	l.log.Warn("connection refused: its peer has max_connections_per_peer open, all idle",
		"max_connections_per_peer", l.opts.MaxConnectionsPerPeer, "remote", addrString(c.rc))
}

// forever stands for a wait that only a freed slot ends.
const forever = time.Hour

// activeWindow: a peer whose clients sent bytes this recently, or are
// with the Sink, is sending, and its new connections wait for a slot.
const activeWindow = time.Second

// place decides, with l.mu held, whether c can have a slot now, making
// room from clients that delivered nothing if need be. It returns the
// verdict, and for a wait how long before asking again.
func (l *Listener) place(c *client, now time.Time) (int, time.Duration) {
	if c.peer.IsValid() && l.peers[c.peer] >= l.opts.MaxConnectionsPerPeer {
		v, wait := l.victim(now, c.peer)
		switch {
		case v != nil:
			l.evict(v)
		case wait > 0:
			return waitPeer, wait
		case l.peerActive(c.peer, now):
			// Short-lived clients in a storm, or a flood held back by
			// the Sink: their slots free soon.
			return waitPeer, recheck
		default:
			return refused, 0
		}
	}
	if len(l.clients) >= l.opts.MaxConnections {
		v, wait := l.victim(now, netip.Addr{})
		switch {
		case v != nil:
			l.evict(v)
		case wait > 0:
			return waitGlobal, wait
		default:
			return waitGlobal, forever
		}
	}
	return admitted, 0
}

// victim returns the client to close for room: of peer's clients when
// peer is valid, the one that has delivered nothing for longest, provided
// it has had evictAge to deliver and the kernel holds nothing unread for
// it (a client whose goroutine has not caught up with what it sent is not
// silent). Failing that, it returns how long to wait before a client may
// qualify, or 0 when none ever will.
func (l *Listener) victim(now time.Time, peer netip.Addr) (*client, time.Duration) {
	var cands []*client
	for c := range l.clients {
		if !c.delivered.Load() && (!peer.IsValid() || c.peer == peer) {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, 0
	}
	slices.SortFunc(cands, func(a, b *client) int { return a.accepted.Compare(b.accepted) })
	for _, c := range cands {
		if at := c.accepted.Add(evictAge); now.Before(at) {
			return nil, at.Sub(now)
		}
		if unread(c.raw) == 0 {
			return c, 0
		}
	}
	// Every candidate has bytes waiting: it is about to deliver.
	return nil, recheck
}

// recheck is how soon a full listener looks again for a client to close
// when every candidate still had bytes to read.
const recheck = 50 * time.Millisecond

// unread returns the bytes the kernel holds for a connection that have
// not been read (SIOCINQ), or 1 where that cannot be told.
func unread(rc io.ReadCloser) int {
	sc, ok := rc.(syscall.Conn)
	if !ok {
		return 1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 1
	}
	n := 1
	if err := raw.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
			n = v
		}
	}); err != nil {
		return 1
	}
	return n
}

// peerActive reports whether a client of peer is with the Sink or sent
// bytes within activeWindow.
func (l *Listener) peerActive(peer netip.Addr, now time.Time) bool {
	since := now.Add(-activeWindow).UnixNano()
	for c := range l.clients {
		if c.peer == peer && (c.busy.Load() || c.last.Load() >= since) {
			return true
		}
	}
	return false
}

// evict closes c, with l.mu held, and gives its slot up at once. What it
// sent of a frame is delivered, as when it closes itself.
func (l *Listener) evict(c *client) {
	l.release(c)
	l.stats.ConnectionsEvicted.Add(1) // before the close, as in refuse
	c.raw.Close()
	l.evicted = append(l.evicted, c) // logged once l.mu is released
}

// logEvicted logs the clients evict closed; l.mu must not be held, so
// that a slow log never holds up the connections.
func (l *Listener) logEvicted() {
	l.mu.Lock()
	ev := l.evicted
	l.evicted = nil
	l.mu.Unlock()
	for _, c := range ev {
		l.log.Warn("connection closed to make room: it delivered nothing",
			"age", time.Since(c.accepted).Round(time.Millisecond), "remote", addrString(c.rc))
	}
}

// release frees c's slot, with l.mu held.
func (l *Listener) release(c *client) {
	if _, ok := l.clients[c]; !ok {
		return
	}
	delete(l.clients, c)
	if c.peer.IsValid() {
		if l.peers[c.peer]--; l.peers[c.peer] <= 0 {
			delete(l.peers, c.peer)
		}
	}
}

func (l *Listener) untrack(c *client) {
	l.mu.Lock()
	l.release(c)
	l.mu.Unlock()
	l.signal()
}

// signal wakes the admissions waiting for a slot, if any.
func (l *Listener) signal() {
	if l.waiters.Load() == 0 {
		return
	}
	l.mu.Lock()
	close(l.gen)
	l.gen = make(chan struct{})
	l.mu.Unlock()
}

// closeClients closes every stream client; their goroutines deliver what
// they read and exit.
func (l *Listener) closeClients() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closing = true
	for c := range l.clients {
		c.raw.Close()
	}
}

// serveListener accepts stream clients until the listener is closed.
func (l *Listener) serveListener(ln net.Listener) {
	l.ln = ln
	l.addr = ln.Addr()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.accept()
	}()
}

func (l *Listener) accept() {
	var backoff time.Duration
	for {
		var conn net.Conn
		var err error
		select {
		case <-l.quit:
			// Shutting down: take what the backlog holds, to its end,
			// without waiting for more.
			conn, err = l.fromBacklog()
			if conn == nil && err == nil {
				l.ln.Close()
				return
			}
		default:
			conn, err = l.ln.Accept()
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // woken by Shutdown: take the backlog
			}
			// Out of file descriptors, most likely: wait a little, as
			// net/http does, rather than spin.
			l.stats.ReadErrors.Add(1)
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.log.Warn("accept failed", "err", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.quit:
				t.Stop()
				l.ln.Close()
				return
			}
			continue
		}
		backoff = 0
		c := &client{rc: conn, raw: conn, peer: peerOf(conn), accepted: time.Now()}
		if l.tls != nil {
			c.rc = tls.Server(conn, l.tls.Config())
		}
		switch l.admit(c, true) {
		case admitted:
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				l.serveClient(c)
			}()
		case waitPeer:
			l.waitForPeer(c)
		default:
			l.refuse(c)
		}
	}
}

// serveClient serves an admitted stream client until it ends.
func (l *Listener) serveClient(c *client) {
	l.stats.ConnectionsAccepted.Add(1)
	l.stats.ConnectionsOpen.Add(1)
	defer l.stats.ConnectionsOpen.Add(-1)
	defer l.untrack(c)
	defer c.raw.Close()
	if tc, ok := c.rc.(*tls.Conn); ok && !l.handshake(c, tc) {
		return
	}
	l.serveStream(c, l.opts.IdleTimeout, l.opts.FrameTimeout)
}

// fromBacklog accepts the next connection the kernel has completed, without
// waiting: nil and no error when the backlog is empty. Shutdown takes the
// backlog this way, since a deadline on Accept would also end it for a
// goroutine that was merely late.
func (l *Listener) fromBacklog() (net.Conn, error) {
	sc, ok := l.ln.(syscall.Conn)
	if !ok {
		return nil, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("take backlog: %w", err)
	}
	for {
		nfd := -1
		var aerr error
		if err := raw.Control(func(fd uintptr) {
			nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		}); err != nil {
			return nil, fmt.Errorf("take backlog: %w", err)
		}
		switch {
		case aerr == nil:
		case errors.Is(aerr, unix.EAGAIN):
			return nil, nil
		case errors.Is(aerr, unix.EINTR), errors.Is(aerr, unix.ECONNABORTED):
			continue
		default:
			return nil, fmt.Errorf("take backlog: %w", aerr)
		}
		f := os.NewFile(uintptr(nfd), "backlog")
		c, err := net.FileConn(f)
		f.Close() // FileConn has its own descriptor
		if err != nil {
			return nil, fmt.Errorf("take backlog: %w", err)
		}
		return c, nil
	}
}

// peerOf returns a TCP connection's source address.
func peerOf(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// serveReader reads one stream (stdin) until it ends or is closed; at its
// end the input is done.
func (l *Listener) serveReader(rc io.ReadCloser) {
	c := &client{rc: rc, raw: rc, accepted: time.Now()}
	c.delivered.Store(true) // never made room from
	l.mu.Lock()
	l.clients[c] = struct{}{}
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer l.end()
		defer l.untrack(c)
		defer rc.Close()
		l.serveStream(c, 0, 0)
	}()
}

// serveStream frames c and delivers batches until c ends. idle and frame
// are the client's IdleTimeout and FrameTimeout (0 for none).
func (l *Listener) serveStream(c *client, idle, frame time.Duration) {
	f := NewFramer(c.rc, l.opts.MaxMessageSize)
	if d, ok := c.rc.(deadlineReader); ok {
		f.rd = &clientReader{l: l, cl: c, c: d, f: f, idle: idle, frame: frame}
	}
	f.SetStats(l.stats)
	b := &Batch{Input: l.opts.Name, Peer: c.peer, Frames: make([][]byte, 0, MaxBatch)}
	for {
		frames, err := f.ReadBatch(b.Frames[:0], MaxBatch)
		b.Oversize = f.Oversized()
		if len(frames) > 0 {
			c.delivered.Store(true)
			c.busy.Store(true)
			deliver(l.sink, l.stats, b, frames)
			c.busy.Store(false)
		}
		if err != nil {
			l.streamEnded(err)
			return
		}
	}
}

// streamEnded counts why a stream client went away.
func (l *Listener) streamEnded(err error) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, os.ErrClosed):
	case errors.Is(err, errIdleTimeout):
		l.stats.IdleTimeouts.Add(1)
	case errors.Is(err, errFrameTimeout):
		l.stats.FrameTimeouts.Add(1)
	default:
		l.stats.ReadErrors.Add(1)
		l.log.Debug("read failed", "err", err)
	}
}

// deliver hands frames to sink as b, counting them first.
func deliver(sink Sink, stats *Stats, b *Batch, frames [][]byte) {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	stats.Messages.Add(uint64(len(frames)))
	stats.Bytes.Add(uint64(n))
	b.Received = time.Now()
	b.Frames = frames
	sink.Deliver(b)
}

// deadlineReader is a stream whose reads can be given a deadline: a
// connection, or stdin where it is a pipe or terminal.
type deadlineReader interface {
	io.Reader
	SetReadDeadline(t time.Time) error
}

// clientReader gives each read of a stream client its deadline: between
// frames, IdleTimeout from the read, or while draining DrainGrace; in the
// middle of a frame, FrameTimeout from when the frame began, which bytes
// dribbled in do not move. A read cut short by Shutdown's wake-up waits
// again with the drain's deadline.
type clientReader struct {
	l           *Listener
	cl          *client
	c           deadlineReader
	f           *Framer
	idle, frame time.Duration
	since       time.Time // when the pending frame began
	done        uint64    // f.done then: a new frame is pending when it moved
}

func (r *clientReader) Read(p []byte) (int, error) {
	for {
		draining := r.l.draining.Load()
		now := time.Now()
		var deadline time.Time
		var why error
		if r.f.pending() {
			if r.since.IsZero() || r.done != r.f.done {
				// A frame begun since the last read: its time
				// starts now, not when the one before it began.
				r.since, r.done = now, r.f.done
			}
			if r.frame > 0 {
				deadline, why = r.since.Add(r.frame), errFrameTimeout
			}
		} else {
			r.since = time.Time{}
			switch {
			case draining && r.l.opts.DrainGrace > 0:
				// Nothing for the grace: the client has sent what it
				// will, and what the kernel held has been read.
				deadline, why = now.Add(r.l.opts.DrainGrace), io.EOF
			case r.idle > 0:
				deadline, why = now.Add(r.idle), errIdleTimeout
			}
		}
		if r.c.SetReadDeadline(deadline) != nil {
			// A stream without deadlines (stdin from a file) never
			// blocks for long.
			deadline = time.Time{}
		}
		if !draining && r.l.draining.Load() {
			continue // Shutdown began: take its deadline
		}
		n, err := r.c.Read(p)
		if n > 0 {
			r.cl.last.Store(time.Now().UnixNano())
		}
		if n > 0 || err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		if deadline.IsZero() || time.Now().Before(deadline) {
			continue // woken by Shutdown
		}
		return 0, why
	}
}

// addrString renders a client's peer address for a log; unix peers often
// have none.
func addrString(rc io.ReadCloser) string {
	c, ok := rc.(net.Conn)
	if !ok || c.RemoteAddr() == nil {
		return ""
	}
	return c.RemoteAddr().String()
}

type stdinAddr struct{}

func (stdinAddr) Network() string { return "stdin" }
func (stdinAddr) String() string  { return "-" }
