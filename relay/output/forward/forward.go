package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/output"
	"github.com/floodgate/floodgate/relay/output/format"
)

// conn is one connection to the upstream, used by the sender goroutine
// alone.
type conn interface {
	// send hands items to the upstream, in order; it returns an error
	// when the connection broke.
	send(items []*item) error
	// poll marks the items the upstream has acknowledged done, and
	// returns an error when the connection broke or the upstream has
	// acknowledged nothing for too long.
	poll() error
	// close ends the connection. Once it returns, no item is marked
	// done any more.
	close() error
}

// dialer opens connections to the upstream. wake is signalled when a
// connection has news for poll (an acknowledgement, a break).
type dialer interface {
	dial(ctx context.Context, wake chan<- struct{}) (conn, error)
	// maxInflight bounds the items, and their bytes, sent and not yet
	// acknowledged; 0: no bound of the output's own (a socket's send
	// buffer bounds a stream).
	maxInflight() (items int, bytes int64)
}

// Errors of a connection.
var (
	errClosedByPeer = errors.New("upstream closed the connection")
	errNoAck        = errors.New("upstream acknowledged nothing")
	errDrain        = errors.New("close timeout: records left unsent")
)

// Output is a network output: it queues every record it is given, in
// memory and then on disk, and one goroutine of its own sends them
// upstream in order, reconnecting with backoff. Write never waits for
// the network.
type Output struct {
	opts   Options
	format format.Format
	dialer dialer
	stats  *output.Stats
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	mem      []*item // queued in memory, oldest first
	inflight []*item // sent, not yet acknowledged, oldest first
	// memBytes is the size of mem, held under MaxBuffer; flightBytes of
	// inflight, held under the socket's send buffer (or maxInflight).
	memBytes, flightBytes int64
	disk                  *diskQueue
	lost                  *output.Losses
	closed                bool
	lastSave              time.Time

	diskFailing bool // the last disk queue write failed: logged once

	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context // canceled by Close, to cut a connect short
	cancel context.CancelFunc

	up       atomic.Bool
	sent     atomic.Int64 // records acknowledged upstream
	dropped  atomic.Int64 // records dropped
	connects atomic.Int64
	failures atomic.Int64 // connects that failed
}

var _ output.Output = (*Output)(nil)

// batchBytes bounds the bytes handed to one send.
const batchBytes = 256 << 10

// New opens the network output o describes, with its disk queue when
// o.QueueDir is set, and starts its sender. log may be nil; stats may be
// nil when nobody reads them.
func New(o Options, log *slog.Logger, stats *output.Stats) (*Output, error) {
	o = o.filled()
	if err := o.check(); err != nil {
		return nil, err
	}
	var d dialer
	var fm format.Format
	switch o.Type {
	case TypeForward:
		sd, err := newStreamDialer(o)
		if err != nil {
			return nil, err
		}
		d, fm = sd, format.RFC5424
	case TypeKafka:
		kd, err := newKafkaDialer(o)
		if err != nil {
			return nil, err
		}
		d, fm = kd, format.JSON
	}
	return newOutput(o, fm, d, log, stats)
}

func newOutput(o Options, fm format.Format, d dialer, log *slog.Logger, stats *output.Stats) (*Output, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if stats == nil {
		stats = new(output.Stats)
	}
	f := &Output{
		opts: o, format: fm, dialer: d, stats: stats, log: log, now: time.Now,
		lost: newLosses(), wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	if o.QueueDir != "" {
		dq, err := openDisk(o.QueueDir, o.QueueMax)
		if err != nil {
			return nil, fmt.Errorf("%s output: %w", o.Type, err)
		}
		f.disk = dq
		if dq.unread > 0 {
			log.Info("queue found on disk", logRecords, dq.unread, logBytes, dq.bytes, logDir, o.QueueDir)
			// The head of the queue is in memory, as it is while running,
			// so that its age is known before the upstream is.
			if err := f.refill(); err != nil {
				dq.lock.Close()
				return nil, fmt.Errorf("%s output: %w", o.Type, err)
			}
		}
	}
	go f.run()
	return f, nil
}

// signal wakes the sender.
func (f *Output) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// encode renders r in the output's format, without the line's LF.
func (f *Output) encode(r *floodgate.Record) []byte {
	b := format.Append(make([]byte, 0, 256+len(r.Text)), f.format, r)
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	return b
}

// Write implements output.Output: it queues r and returns at once.
func (f *Output) Write(r *floodgate.Record) error {
	it := newItem(r, f.encode(r), f.now())
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return output.ErrClosed
	}
	if (f.disk == nil || f.disk.unread == 0) && f.memBytes+it.size() <= f.opts.MaxBuffer {
		f.mem = append(f.mem, it)
		f.memBytes += it.size()
		f.signal()
		return nil
	}
	if f.disk != nil && f.disk.room(len(it.data)) {
		err := f.disk.push(it)
		if err == nil {
			if f.diskFailing {
				f.diskFailing = false
				f.log.Info("disk queue writes again")
			}
			f.signal()
			return nil
		}
		f.stats.WriteErrors.Add(1)
		if !f.diskFailing { // once per failing spell: a failing disk must not flood the log
			f.diskFailing = true
			f.log.Error("disk queue write failed", logErr, err)
		}
	}
	addLoss(f.lost, it)
	f.stats.Lost.Add(it.msgs)
	f.dropped.Add(1)
	return output.ErrDropped
}

// Flush implements output.Output: it writes the disk queue's buffer out
// and, once a second, the position of what the upstream acknowledged.
// It never waits for the network.
func (f *Output) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.disk == nil || f.closed {
		return nil
	}
	err := f.disk.flush()
	if now := f.now(); now.Sub(f.lastSave) >= time.Second {
		f.lastSave = now
		err = errors.Join(err, f.disk.save())
	}
	if err != nil {
		f.stats.WriteErrors.Add(1)
		return fmt.Errorf("%s output: %w", f.opts.Type, err)
	}
	return nil
}

// Close implements output.Output. It keeps sending for up to
// CloseTimeout while the upstream is up; what is left then, or at once
// when the upstream is down, spills to the disk queue, ahead of what
// waits there already, with a suppressed summary for what was dropped.
// Without a disk queue what is left is lost, counted and reported.
func (f *Output) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	f.mu.Unlock()
	close(f.stop)
	if !f.up.Load() {
		f.cancel() // a connect in progress would only delay the spill
	}
	<-f.done
	f.cancel()

	f.mu.Lock()
	defer f.mu.Unlock()
	pending := f.mem
	f.mem = nil
	for _, r := range f.lost.Take() {
		pending = append(pending, newItem(&r, f.encode(&r), f.now()))
	}
	if f.disk != nil {
		err := f.disk.close(pending)
		if err == nil {
			if len(pending) > 0 {
				f.log.Info("queue spilled to disk", logRecords, len(pending), logDir, f.opts.QueueDir)
			}
			return nil
		}
		f.stats.WriteErrors.Add(1)
		f.log.Error("spill queue to disk", logErr, err)
	}
	var msgs int64
	for _, it := range pending {
		msgs += it.msgs
	}
	if len(pending) == 0 {
		return nil
	}
	f.stats.Lost.Add(msgs)
	f.log.Error("records not forwarded at close", logRecords, len(pending), logMessages, msgs)
	return fmt.Errorf("%s output: %d records (%d messages) not forwarded", f.opts.Type, len(pending), msgs)
}

// stopping reports whether Close was called.
func (f *Output) stopping() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

// run is the sender: connect, send until the connection breaks, put back
// what was not acknowledged, back off, again.
func (f *Output) run() {
	defer close(f.done)
	backoff := f.opts.ReconnectMin
	var down error // why the upstream is down, logged once
	for {
		if f.stopping() && !f.up.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(f.ctx, f.opts.Timeout)
		c, err := f.dialer.dial(ctx, f.wake)
		cancel()
		if err != nil {
			if down == nil || down.Error() != err.Error() {
				f.log.Warn("upstream unreachable", logErr, err, logRetry, backoff)
			}
			down = err
			f.up.Store(false)
			f.failures.Add(1)
			if f.stopping() {
				return
			}
			// Jitter keeps a fleet of relays from reconnecting in step.
			d := backoff/2 + rand.N(backoff/2+1)
			select {
			case <-f.stop:
				return
			case <-time.After(d):
			}
			backoff = min(2*backoff, f.opts.ReconnectMax)
			continue
		}
		f.up.Store(true)
		f.connects.Add(1)
		f.log.Info("upstream connected")
		down, backoff = nil, f.opts.ReconnectMin
		err = f.serve(c)
		cerr := c.close()
		f.requeue()
		f.up.Store(false)
		if err == nil {
			return
		}
		if errors.Is(err, errDrain) {
			f.log.Warn("upstream too slow to drain at close", logErr, err)
			return
		}
		f.log.Warn("upstream connection lost", logErr, errors.Join(err, cerr))
		down = err
		if f.stopping() {
			return
		}
	}
}

// serve sends over c until it breaks (an error), or Close was called and
// everything is acknowledged (nil) or the close timeout passed (errDrain).
func (f *Output) serve(c conn) error {
	var deadline <-chan time.Time
	stop := f.stop
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	for {
		if deadline == nil && f.stopping() {
			deadline, stop = time.After(f.opts.CloseTimeout), nil
		}
		batch, empty, err := f.next()
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := c.send(batch); err != nil {
				return err
			}
		}
		if err := c.poll(); err != nil {
			return err
		}
		f.release()
		f.mu.Lock()
		inflight := len(f.inflight)
		f.mu.Unlock()
		if empty && inflight == 0 && deadline != nil {
			return nil
		}
		if len(batch) > 0 {
			continue
		}
		// Nothing to send: wait for a record, an acknowledgement, or a
		// moment to poll again.
		wait := time.Second
		if inflight > 0 {
			wait = time.Millisecond // acknowledgements take a round trip
		}
		idle.Reset(wait)
		select {
		case <-f.wake:
		case <-idle.C:
		case <-stop:
		case <-deadline:
			return errDrain
		}
	}
}

// next moves the next batch from the queue to the items in flight,
// refilling memory from disk on the way, with a suppressed summary first
// for what was dropped. empty reports that nothing is left to send.
func (f *Output) next() (batch []*item, empty bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lost.Len() > 0 {
		var front []*item
		for _, r := range f.lost.Take() {
			it := newItem(&r, f.encode(&r), f.now())
			f.memBytes += it.size()
			f.stats.Summaries.Add(1)
			front = append(front, it)
		}
		f.mem = append(front, f.mem...)
	}
	if f.disk != nil && f.disk.unread > 0 && f.memBytes < f.opts.MaxBuffer/2 {
		if err := f.refill(); err != nil {
			return nil, false, err
		}
	}
	limit, limitBytes := f.dialer.maxInflight()
	var size int
	i := 0
	for i < len(f.mem) && size < batchBytes &&
		(limit == 0 || len(f.inflight)+i < limit) &&
		(limitBytes == 0 || len(f.inflight)+i == 0 || f.flightBytes+f.mem[i].size() <= limitBytes) {
		size += len(f.mem[i].data)
		f.memBytes -= f.mem[i].size()
		f.flightBytes += f.mem[i].size()
		i++
	}
	batch = f.mem[:i:i]
	f.inflight = append(f.inflight, batch...)
	f.mem = f.mem[i:]
	if len(f.mem) == 0 {
		f.mem = nil // let the backing array go
	}
	empty = len(f.mem) == 0 && (f.disk == nil || f.disk.unread == 0)
	return batch, empty, nil
}

// refillChunk bounds what one refill reads from disk, so that Write never
// waits long for the lock.
const refillChunk = 256 << 10

// refill moves records from the disk queue into memory, up to
// refillChunk bytes and while memory has room. Its caller locks f.mu.
func (f *Output) refill() error {
	var n int64
	for f.disk.unread > 0 && f.memBytes < f.opts.MaxBuffer && n < refillChunk {
		it, err := f.disk.pop()
		if err != nil {
			return fmt.Errorf("read disk queue: %w", err)
		}
		if it == nil {
			break
		}
		f.mem = append(f.mem, it)
		f.memBytes += it.size()
		n += it.size()
	}
	return nil
}

// release forgets the acknowledged items at the front of the items in
// flight, and moves the disk queue's committed position past them.
func (f *Output) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := 0
	for i < len(f.inflight) && f.inflight[i].done.Load() {
		f.forget(f.inflight[i])
		i++
	}
	f.inflight = f.inflight[i:]
}

// forget counts it as sent.
func (f *Output) forget(it *item) {
	f.flightBytes -= it.size()
	f.sent.Add(1)
	f.stats.Records.Add(1)
	f.stats.Bytes.Add(int64(len(it.data)))
	if f.disk != nil && it.disk.seg != 0 {
		f.disk.commit(it.disk)
	}
}

// requeue puts the items in flight that were not acknowledged back at the
// front of the queue, to be sent again.
func (f *Output) requeue() {
	f.mu.Lock()
	defer f.mu.Unlock()
	var back []*item
	for _, it := range f.inflight {
		if it.done.Load() {
			f.forget(it)
			continue
		}
		back = append(back, it)
		f.flightBytes -= it.size()
		f.memBytes += it.size()
	}
	f.inflight = nil
	f.mem = append(back, f.mem...)
}

// QueueStats are a network output's queue figures.
type QueueStats struct {
	MemRecords, MemBytes   int64
	DiskRecords, DiskBytes int64
	// Oldest is when the oldest record still queued or in flight was
	// queued; zero when none is.
	Oldest time.Time
	Up     bool
	// Sent and Dropped count records acknowledged upstream and records
	// dropped for want of room; Connects counts connections made and
	// ConnectErrors attempts that failed.
	Sent, Dropped, Connects, ConnectErrors int64
}

// Queue returns the output's queue figures now.
func (f *Output) Queue() QueueStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := QueueStats{
		MemRecords: int64(len(f.mem) + len(f.inflight)), MemBytes: f.memBytes + f.flightBytes,
		Up: f.up.Load(), Sent: f.sent.Load(), Dropped: f.dropped.Load(), Connects: f.connects.Load(),
		ConnectErrors: f.failures.Load(),
	}
	if f.disk != nil {
		q.DiskRecords, q.DiskBytes = f.disk.unread, f.disk.bytes
	}
	switch {
	case len(f.inflight) > 0:
		q.Oldest = time.Unix(0, f.inflight[0].queued)
	case len(f.mem) > 0:
		q.Oldest = time.Unix(0, f.mem[0].queued)
	}
	return q
}

// Log keys.
const (
	logErr      = "err"
	logRecords  = "records"
	logMessages = "messages"
	logBytes    = "bytes"
	logDir      = "queue_dir"
	logRetry    = "retry_in"
)
