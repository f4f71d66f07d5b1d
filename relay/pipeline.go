package relay

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/input"
	"github.com/floodgate/floodgate/relay/parse"
)

// Clock says where the pipeline's time comes from.
type Clock int

const (
	// WallClock: wall time; stages are ticked on a wall-clock interval.
	WallClock Clock = iota
	// MessageClock: the messages' own timestamps, never going backwards; stages
	// are ticked as message time passes.
	MessageClock
)

// PipelineOptions configure a Pipeline.
type PipelineOptions struct {
	Shards int
	// Queue is how many batches a shard may have waiting before Deliver
	// blocks the input that feeds it.
	Queue int
	// Tick is how often stages are ticked (wall time live, message time
	// in replay).
	Tick  time.Duration
	Clock Clock
	Parse parse.Options
	// Chain builds shard i's handler chain; it is called once per shard.
	Chain func(shard int) floodgate.Handler
	// LocalHost names, per input, the host of messages that carry none:
	// what arrives on a local socket (logger -u, /dev/log, journald's
	// forwarding socket) comes without a hostname, and is this machine's,
	// as rsyslog's imuxsock says.
	LocalHost map[string]string
}

// Pipeline spreads framed messages over shards by source and runs each
// shard's chain in a goroutine of its own. It implements input.Sink.
type Pipeline struct {
	shards []*shard
	pool   sync.Pool
	wg     sync.WaitGroup
	closed atomic.Bool
}

var _ input.Sink = (*Pipeline)(nil)

// work is one batch of frames for one shard: the frames copied end to end
// into buf, ends[i] the end of frame i.
type work struct {
	input    string
	received time.Time
	buf      []byte
	ends     []int
}

// NewPipeline starts the shards' goroutines; Close stops them.
func NewPipeline(o PipelineOptions) *Pipeline {
	if o.Shards < 1 {
		o.Shards = 1
	}
	if o.Queue < 1 {
		o.Queue = 64
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	p := &Pipeline{}
	p.pool.New = func() any { return &work{buf: make([]byte, 0, 64<<10), ends: make([]int, 0, 512)} }
	for i := 0; i < o.Shards; i++ {
		s := &shard{
			in:     make(chan *work, o.Queue),
			parser: parse.New(o.Parse),
			head:   o.Chain(i),
			clock:  o.Clock,
			tick:   o.Tick,
			pool:   &p.pool,
			local:  o.LocalHost,
		}
		p.shards = append(p.shards, s)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			s.loop()
		}()
	}
	return p
}

// Deliver copies the batch's frames into per-shard work and queues it. It
// blocks while a shard's queue is full, which slows only the caller's
// connection.
func (p *Pipeline) Deliver(b *input.Batch) {
	if len(b.Frames) == 0 || p.closed.Load() {
		return
	}
	n := len(p.shards)
	if n == 1 {
		w := p.get(b)
		for _, f := range b.Frames {
			w.add(f)
		}
		p.shards[0].in <- w
		return
	}
	var small [16]*work
	ws := small[:0]
	if n <= len(small) {
		ws = small[:n]
	} else {
		ws = make([]*work, n)
	}
	for _, f := range b.Frames {
		i := parse.SourceKey(f) % uint64(n)
		if ws[i] == nil {
			ws[i] = p.get(b)
		}
		ws[i].add(f)
	}
	for i, w := range ws {
		if w != nil {
			p.shards[i].in <- w
		}
	}
}

func (p *Pipeline) get(b *input.Batch) *work {
	w := p.pool.Get().(*work)
	w.input, w.received = b.Input, b.Received
	w.buf, w.ends = w.buf[:0], w.ends[:0]
	return w
}

func (w *work) add(f []byte) {
	w.buf = append(w.buf, f...)
	w.ends = append(w.ends, len(w.buf))
}

// Stats returns the messages each shard has parsed so far, summed.
func (p *Pipeline) Stats() (messages, unparsed int64) {
	for _, s := range p.shards {
		messages += s.messages.Load()
		unparsed += s.unparsed.Load()
	}
	return messages, unparsed
}

// Close stops taking batches, lets every shard process what it has
// queued, ticks every stage one last time with final set (every pending
// summary is emitted), and waits for the shards to exit. Deliver must not
// be called concurrently with or after Close.
func (p *Pipeline) Close() {
	if p.closed.Swap(true) {
		return
	}
	for _, s := range p.shards {
		close(s.in)
	}
	p.wg.Wait()
}

// shard owns the state of the sources hashed to it.
type shard struct {
	in     chan *work
	parser *parse.Parser
	head   floodgate.Handler
	clock  Clock
	tick   time.Duration
	pool   *sync.Pool
	local  map[string]string

	rec      floodgate.Record
	now      time.Time // replay: the latest message time seen
	lastTick time.Time // replay: message time of the last tick

	messages, unparsed atomic.Int64
}

func (s *shard) loop() {
	var tc <-chan time.Time
	if s.clock == WallClock {
		t := time.NewTicker(s.tick)
		defer t.Stop()
		tc = t.C
	}
	for {
		select {
		case w, ok := <-s.in:
			if !ok {
				s.head.Tick(s.finalTime(), true)
				return
			}
			s.process(w)
			s.pool.Put(w)
		case now := <-tc:
			s.head.Tick(now, false)
		}
	}
}

func (s *shard) finalTime() time.Time {
	if s.clock == MessageClock {
		return s.now
	}
	return time.Now()
}

func (s *shard) process(w *work) {
	r := &s.rec
	start, unparsed := 0, int64(0)
	now := w.received
	for _, end := range w.ends {
		*r = floodgate.Record{}
		s.parser.Parse(w.buf[start:end], w.received, &r.Message)
		start = end
		r.Input = w.input
		if r.Format == floodgate.Unparsed {
			unparsed++
		} else if r.Host == "-" {
			if h, ok := s.local[w.input]; ok {
				r.Host = h
			}
		}
		if s.clock == MessageClock {
			if r.Format == floodgate.Unparsed {
				// A line without a timestamp of its own takes the
				// replay clock's, so it cannot throw the clock ahead
				// to the wall time.
				if !s.now.IsZero() {
					r.Time = s.now
				}
			} else if r.Time.After(s.now) {
				s.now = r.Time
			}
			now = s.now
			if now.IsZero() {
				now = r.Time
			} else if s.lastTick.IsZero() {
				s.lastTick = now
			}
		}
		s.head.Handle(now, r)
		if s.clock == MessageClock && !s.lastTick.IsZero() && now.Sub(s.lastTick) >= s.tick {
			s.head.Tick(now, false)
			s.lastTick = now
		}
	}
	s.messages.Add(int64(len(w.ends)))
	if unparsed > 0 {
		s.unparsed.Add(unparsed)
	}
}
