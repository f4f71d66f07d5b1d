package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate/floodgate/config"
)

// MaxBatch is the most frames one Batch carries.
const MaxBatch = 512

// Batch is a run of frames one connection (or socket, or stream) read
// together.
type Batch struct {
	// Input is the input's name (config Input.Name).
	Input string
	// Received is when the batch was read: one time.Now() per batch.
	Received time.Time
	// Frames holds one framed message each, without its terminator. The
	// frames share the reader's buffer: they are valid only during
	// Deliver.
	Frames [][]byte
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
	name     string
	maxSize  int
	maxConns int
	idle     time.Duration
	sink     Sink
	stats    *Stats
	log      *rateLog

	ln      net.Listener   // stream sockets
	pc      net.PacketConn // datagram sockets
	addr    net.Addr
	cleanup func() // removes a unixgram socket file

	wg       sync.WaitGroup
	quit     chan struct{} // closed when accepting stops
	stopOnce sync.Once
	draining atomic.Bool // datagram readers stop at the first empty read

	mu      sync.Mutex
	conns   map[io.Closer]struct{}
	closing bool // new conns are closed at once
}

// Listen binds the socket cfg describes and serves it in goroutines the
// Listener owns, delivering frames to sink and counting into stats (which
// may be nil). log is used as given (the caller scopes it with the input's
// name), at most one record per 10 s, and may be nil. It returns only once the socket is bound, so a bind error
// reaches the caller. cfg is expected to be validated and filled; a zero
// max_message_size, max_connections or read_buffer gets the config
// package's default, a zero idle_timeout means none.
//
// Stream clients (tcp, unix) get a goroutine each, framed by a Framer;
// datagram sockets (udp, unixgram) carry one message per datagram; stdin
// is one stream.
func Listen(cfg config.Input, sink Sink, stats *Stats, log *slog.Logger) (*Listener, error) {
	l := newListener(cfg, sink, stats, log)
	readBuffer := int(cfg.ReadBuffer)
	if readBuffer <= 0 {
		readBuffer = config.DefaultReadBuffer
	}
	mode := os.FileMode(cfg.FileMode())
	if cfg.Mode == "" {
		mode = 0o666
	}

	switch cfg.Type {
	case "tcp":
		ln, err := net.Listen("tcp", cfg.Address)
		if err != nil {
			return nil, fmt.Errorf("listen tcp %s: %w", cfg.Address, err)
		}
		l.serveListener(ln)
	case "unix":
		ln, err := listenUnix(cfg.Address, mode)
		if err != nil {
			return nil, err
		}
		l.serveListener(ln)
	case "udp":
		pc, err := net.ListenPacket("udp", cfg.Address)
		if err != nil {
			return nil, fmt.Errorf("listen udp %s: %w", cfg.Address, err)
		}
		l.servePacketConn(pc, readBuffer)
	case "unixgram":
		pc, cleanup, err := listenUnixgram(cfg.Address, mode)
		if err != nil {
			return nil, err
		}
		l.cleanup = cleanup
		l.servePacketConn(pc, readBuffer)
	case "stdin":
		l.addr = stdinAddr{}
		l.serveReader(openStdin())
	default:
		return nil, fmt.Errorf("listen %q: unknown input type", cfg.Type)
	}
	return l, nil
}

// newListener returns a Listener for cfg with nothing bound yet.
func newListener(cfg config.Input, sink Sink, stats *Stats, log *slog.Logger) *Listener {
	if stats == nil {
		stats = new(Stats)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := cfg.Name
	if name == "" {
		name = cfg.Type + " " + cfg.Address
	}
	l := &Listener{
		name:     name,
		maxSize:  int(cfg.MaxMessageSize),
		maxConns: cfg.MaxConnections,
		idle:     cfg.IdleTimeout.D(),
		sink:     sink,
		stats:    stats,
		log:      newRateLog(log),
		quit:     make(chan struct{}),
		conns:    make(map[io.Closer]struct{}),
	}
	if l.maxSize <= 0 {
		l.maxSize = config.DefaultMaxMessageSize
	}
	if l.maxConns <= 0 {
		l.maxConns = config.DefaultMaxConnections
	}
	return l
}

// Addr returns the bound address: the port chosen for port 0, or the
// socket path.
func (l *Listener) Addr() net.Addr { return l.addr }

// Name returns the input's name, as batches carry it.
func (l *Listener) Name() string { return l.name }

// Shutdown stops accepting new connections at once and lets connected
// stream clients keep sending until they close or ctx is done; then it
// closes them. Everything read is delivered, a frame cut short by the
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
	if l.pc != nil {
		// A datagram reader still draining a flood, or held by the Sink.
		l.pc.Close()
	}
	l.closeConns()
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
	l.closeConns()
	l.wg.Wait()
	l.finish()
	return nil
}

// backlogGrace is how long shutdown goes on accepting: a client whose
// connection the kernel completed before the signal, but that was not
// accepted yet, is a connected client with data already sent. Accept
// takes what the backlog holds at once; the grace only bounds the wait
// for it to say it is empty.
const backlogGrace = 20 * time.Millisecond

// stopAccepting stops the listening socket, after taking the connections
// already waiting in its backlog, and asks datagram readers to drain and
// stop.
func (l *Listener) stopAccepting() {
	l.stopOnce.Do(func() {
		close(l.quit)
		if l.ln != nil {
			if d, ok := l.ln.(interface{ SetDeadline(time.Time) error }); ok && d.SetDeadline(time.Now().Add(backlogGrace)) == nil {
				// The accept loop closes the socket when the deadline
				// ends its last Accept.
			} else {
				l.ln.Close()
			}
		}
		if l.pc != nil {
			l.draining.Store(true)
			// Wake a reader waiting for datagrams; it drains what the
			// socket holds without waiting and stops.
			l.pc.SetReadDeadline(time.Now())
		}
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
}

// track registers a stream client, or reports that it must be closed:
// ok is false while shutting down, full when max_connections are open.
func (l *Listener) track(c io.Closer) (ok, full bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false, false
	}
	if len(l.conns) >= l.maxConns {
		return false, true
	}
	l.conns[c] = struct{}{}
	return true, false
}

func (l *Listener) untrack(c io.Closer) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// closeConns closes every stream client; their goroutines deliver what
// they read and exit.
func (l *Listener) closeConns() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closing = true
	for c := range l.conns {
		c.Close()
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
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// Shutting down, and the backlog is empty.
				l.ln.Close()
				return
			}
			// Out of file descriptors, most likely: wait a little, as
			// net/http does, rather than spin.
			l.stats.ReadErrors.Add(1)
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.log.warn("accept failed", "err", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.quit:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		ok, full := l.track(c)
		if !ok {
			if full {
				l.stats.ConnectionsRejected.Add(1)
				l.log.warn("connection rejected: max_connections open", "max_connections", l.maxConns, "remote", addrString(c.RemoteAddr()))
			}
			c.Close()
			continue
		}
		l.stats.ConnectionsAccepted.Add(1)
		l.stats.ConnectionsOpen.Add(1)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer l.stats.ConnectionsOpen.Add(-1)
			defer l.untrack(c)
			defer c.Close()
			var r io.Reader = c
			if l.idle > 0 {
				r = &idleReader{c: c, idle: l.idle}
			}
			l.serveStream(r)
		}()
	}
}

// serveReader reads one stream (stdin) until it ends or is closed.
func (l *Listener) serveReader(rc io.ReadCloser) {
	l.track(rc)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer l.untrack(rc)
		defer rc.Close()
		l.serveStream(rc)
	}()
}

// serveStream frames r and delivers batches until r ends.
func (l *Listener) serveStream(r io.Reader) {
	f := NewFramer(r, l.maxSize)
	f.SetStats(l.stats)
	b := &Batch{Input: l.name, Frames: make([][]byte, 0, MaxBatch)}
	for {
		frames, err := f.ReadBatch(b.Frames[:0], MaxBatch)
		if len(frames) > 0 {
			deliver(l.sink, l.stats, b, frames)
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
	case errors.Is(err, os.ErrDeadlineExceeded):
		l.stats.IdleTimeouts.Add(1)
	default:
		l.stats.ReadErrors.Add(1)
		l.log.debug("read failed", "err", err)
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

// idleReader closes the read side of a client that sends nothing for idle:
// each read gets a fresh deadline.
type idleReader struct {
	c    net.Conn
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	if err := r.c.SetReadDeadline(time.Now().Add(r.idle)); err != nil {
		return 0, err
	}
	return r.c.Read(p)
}

// addrString renders a peer address for a log; unix peers often have
// none.
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

type stdinAddr struct{}

func (stdinAddr) Network() string { return "stdin" }
func (stdinAddr) String() string  { return "-" }

// rateLog keeps the input's own logs from flooding: at most one record per
// interval, with the number of records dropped before it.
type rateLog struct {
	log *slog.Logger

	mu      sync.Mutex
	next    time.Time
	dropped int
}

const logInterval = 10 * time.Second

func newRateLog(log *slog.Logger) *rateLog { return &rateLog{log: log} }

func (r *rateLog) warn(msg string, args ...any)  { r.emit(slog.LevelWarn, msg, args) }
func (r *rateLog) debug(msg string, args ...any) { r.emit(slog.LevelDebug, msg, args) }

func (r *rateLog) emit(level slog.Level, msg string, args []any) {
	if !r.log.Enabled(context.Background(), level) {
		return
	}
	r.mu.Lock()
	now := time.Now()
	if now.Before(r.next) {
		r.dropped++
		r.mu.Unlock()
		return
	}
	r.next = now.Add(logInterval)
	dropped := r.dropped
	r.dropped = 0
	r.mu.Unlock()
	if dropped > 0 {
		args = append(args, "dropped_logs", dropped)
	}
	r.log.Log(context.Background(), level, msg, args...)
}
