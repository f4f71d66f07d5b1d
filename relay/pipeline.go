package relay

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/dedupe"
	"github.com/floodgate/floodgate/internal/bytesize"
	"github.com/floodgate/floodgate/relay/input"
	"github.com/floodgate/floodgate/relay/parse"
)

// clockKind says where the pipeline's time comes from.
type clockKind int

const (
	// wallClock: wall time; stages are ticked on a wall-clock interval.
	wallClock clockKind = iota
	// messageClock: the messages' own timestamps, never going backwards; stages
	// are ticked as message time passes.
	messageClock
)

// pipelineOptions configure a pipeline.
type pipelineOptions struct {
	// number gives every message its Seq, in the order delivered.
	number bool
	Shards int
	// Queue is how many batches a shard may have waiting before Deliver
	// blocks the input that feeds it.
	Queue int
	// Tick is how often stages are ticked (wall time live, message time
	// in replay).
	Tick  time.Duration
	clock clockKind
	Parse parse.Options
	// Chain builds shard i's handler chain; it is called once per shard.
	Chain func(shard int) floodgate.Handler
	// hooks, when set, returns shard i's checkpoint hooks; it is called
	// after Chain(i).
	hooks func(shard int) shardHooks
	// shardBy returns the hash that picks a message's shard. Every
	// message of one (host, app) must hash alike, since dedupe keeps a
	// source's state in one shard; so must every message that one budget
	// bucket charges. Nil means shardByHostApp.
	shardBy func(m *floodgate.Message) uint64
	// prepare has every message prepared for dedupe where it was parsed
	// (dedupe.Prepared), off the shard's core.
	prepare bool
	// LocalHost names, per input, the host of messages that carry none:
	// what arrives on a local socket (logger -u, /dev/log, journald's
	// forwarding socket) comes without a hostname, and is this machine's,
	// as rsyslog's imuxsock says.
	LocalHost map[string]string
}

// pipeline parses framed messages in the goroutine that delivers them,
// spreads them over shards by source and runs each shard's chain in a
// goroutine of its own. It implements input.Sink.
//
// Parsing where the frames are read, and the stages in the shard, makes
// the two a pipeline across cores: a flood from one source on one
// connection (the incident's dockerd) uses one core to read and parse and
// another to dedupe, where parsing in the shard would put both on one.
type pipeline struct {
	shards  []*shard
	pool    sync.Pool // *work
	parsers sync.Pool // *parser: not safe for concurrent use
	prepare bool
	// local is LocalHost; a reload that adds a local input replaces it.
	local   atomic.Pointer[map[string]string]
	shardBy func(m *floodgate.Message) uint64
	wg      sync.WaitGroup
	closed  atomic.Bool

	messages, unparsed atomic.Int64
	number             bool
	seq                atomic.Uint64
}

var _ input.Sink = (*pipeline)(nil)

// work is one batch of parsed messages for one shard, with their
// Prepareds when the pipeline prepares them, or a control message: ctl,
// when set, is run by the shard's goroutine between two batches, the one
// safe point to change its chain (a reload).
type work struct {
	msgs  []floodgate.Message
	preps []dedupe.Prepared
	prep  bool // the messages are prepared: preps[i] is msgs[i]'s
	// oversize lists the messages that are only the first bytes of a
	// frame too long (input.Oversize), by index in msgs.
	oversize []input.Oversize
	ctl      func()
}

// parser is what one delivering goroutine parses and prepares with.
type parser struct {
	*parse.Parser
	prep *dedupe.Preparer
}

// newPipeline starts the shards' goroutines; Close stops them.
func newPipeline(o pipelineOptions) *pipeline {
	if o.Shards < 1 {
		o.Shards = 1
	}
	if o.Queue < 1 {
		o.Queue = config.Default().Relay.Queue
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	p := &pipeline{shardBy: o.shardBy, number: o.number, prepare: o.prepare}
	p.setLocal(o.LocalHost)
	if p.shardBy == nil {
		p.shardBy = shardByHostApp
	}
	p.pool.New = func() any { return &work{msgs: make([]floodgate.Message, 0, 256)} }
	p.parsers.New = func() any { return &parser{Parser: parse.New(o.Parse), prep: dedupe.NewPreparer()} }
	for i := 0; i < o.Shards; i++ {
		s := &shard{
			in:    make(chan *work, o.Queue),
			head:  o.Chain(i),
			clock: o.clock,
			tick:  o.Tick,
			pool:  &p.pool,
		}
		if o.hooks != nil {
			s.hooks = o.hooks(i)
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

// Deliver parses the batch's frames and queues them on their sources'
// shards. It blocks while a shard's queue is full, which slows only the
// caller's connection.
func (p *pipeline) Deliver(b *input.Batch) {
	if len(b.Frames) == 0 || p.closed.Load() {
		return
	}
	pr := p.parsers.Get().(*parser)
	defer p.parsers.Put(pr)
	local, isLocal := (*p.local.Load())[b.Input]
	n := uint64(len(p.shards))
	var small [16]*work
	var ws []*work
	if n <= uint64(len(small)) {
		ws = small[:n]
	} else {
		ws = make([]*work, n)
	}
	var unparsed int64
	var m floodgate.Message
	var seq uint64
	if p.number {
		seq = p.seq.Add(uint64(len(b.Frames))) - uint64(len(b.Frames))
	}
	over := b.Oversize
	for j, f := range b.Frames {
		m = floodgate.Message{Input: b.Input}
		pr.Parse(f, b.Received, &m)
		m.Peer = b.PeerOf(j)
		if p.number {
			seq++
			m.Seq = seq
		}
		if m.Syntax == floodgate.Unparsed {
			unparsed++
		} else if isLocal && m.Host == "-" {
			m.Host = local
		}
		i := uint64(0)
		if n > 1 {
			i = p.shardBy(&m) % n
		}
		if ws[i] == nil {
			ws[i] = p.pool.Get().(*work)
			ws[i].prep = p.prepare && p.shards[i].behind()
		}
		w := ws[i]
		w.msgs = append(w.msgs, m)
		if w.prep {
			// What dedupe computes of a line without the shard's state,
			// computed here, so that one source's flood uses two cores.
			if n := len(w.preps); n < cap(w.preps) {
				w.preps = w.preps[:n+1]
			} else {
				w.preps = append(w.preps, dedupe.Prepared{})
			}
			pr.prep.Prepare(m.Text, &w.preps[len(w.preps)-1])
		}
		if len(over) > 0 && over[0].Frame == j {
			w.oversize = append(w.oversize, input.Oversize{Frame: len(w.msgs) - 1, Size: over[0].Size})
			over = over[1:]
		}
	}
	p.messages.Add(int64(len(b.Frames)))
	if unparsed > 0 {
		p.unparsed.Add(unparsed)
	}
	for i, w := range ws {
		if w != nil {
			p.shards[i].in <- w
		}
	}
}

// sourceHash hashes a (host, app) pair to pick its shard; (a, b) and
// (b, a) hash apart.
func sourceHash(host, app string) uint64 {
	h := xxhash.Sum64String(host)
	return bits.RotateLeft64(h*0x9e3779b97f4a7c15, 31) ^ xxhash.Sum64String(app)
}

// shardByHostApp keeps each source, a (host, app) pair, on one shard.
func shardByHostApp(m *floodgate.Message) uint64 { return sourceHash(m.Host, m.App) }

// shardByKey returns the shardBy for a budget key (config ratelimit.key):
// a key coarser than (host, app), such as ["host"], must keep all it
// charges on one shard, or each shard's bucket would grant the whole
// budget again. Only host, app and peer take part: fields finer than a
// source (procid, facility, input) must not split one.
//
// A key with peer keeps each peer on one shard, whatever host names its
// messages carry (a message without a peer is charged to its host, and
// goes by its host). A (host, app) that arrives from two addresses may
// then be folded in two shards: written and counted apart, never lost.
func shardByKey(key []string) func(m *floodgate.Message) uint64 {
	host, app, peer := false, false, false
	for _, k := range key {
		host = host || k == "host"
		app = app || k == "app"
		peer = peer || k == "peer"
	}
	switch {
	case peer:
		return shardByPeer
	case host && app:
		return shardByHostApp
	case host:
		return func(m *floodgate.Message) uint64 { return sourceHash(m.Host, "") }
	case app:
		return func(m *floodgate.Message) uint64 { return sourceHash("", m.App) }
	}
	// A key of neither (["input"], ["facility"]): one bucket may charge
	// messages of any source, so they all share one shard.
	return func(*floodgate.Message) uint64 { return 0 }
}

// shardByPeer keeps each peer on one shard, and each host where a message
// has no peer.
func shardByPeer(m *floodgate.Message) uint64 {
	if !m.Peer.IsValid() {
		return sourceHash(m.Host, "")
	}
	a := m.Peer.As16()
	return xxhash.Sum64(a[:])
}

// setLocal sets LocalHost; Deliver may run meanwhile.
func (p *pipeline) setLocal(m map[string]string) { p.local.Store(&m) }

// control runs fn(i) in each shard i's goroutine, after the batches
// queued before it and before those queued after, and returns when every
// shard has run it. It passes through the queues the batches take, so
// the hot path takes no lock; fn may change the shard's chain. It must
// not be called concurrently with or after Close.
func (p *pipeline) control(fn func(shard int)) {
	var wg sync.WaitGroup
	for i, s := range p.shards {
		wg.Add(1)
		s.in <- &work{ctl: func() {
			defer wg.Done()
			fn(i)
		}}
	}
	wg.Wait()
}

// Stats returns the messages parsed so far and how many of them fit no
// syslog format.
func (p *pipeline) Stats() (messages, unparsed int64) {
	return p.messages.Load(), p.unparsed.Load()
}

// Close stops taking batches, lets every shard process what it has
// queued, ticks every stage one last time with final set (every pending
// summary is emitted), and waits for the shards to exit. Deliver must not
// be called concurrently with or after Close.
func (p *pipeline) Close() {
	if p.closed.Swap(true) {
		return
	}
	for _, s := range p.shards {
		close(s.in)
	}
	p.wg.Wait()
}

// behind reports whether the shard has batches waiting: it is the
// slower of the two, so the input goroutine that feeds it takes on the
// work that needs no shard state (dedupe.Prepare). A shard that keeps up
// is left all of it: preparing where the input is the slower side would
// only slow the input.
func (s *shard) behind() bool { return len(s.in) >= max(1, cap(s.in)/4) }

// shard owns the state of the sources hashed to it.
type shard struct {
	in    chan *work
	head  floodgate.Handler
	clock clockKind
	tick  time.Duration
	pool  *sync.Pool

	hooks    shardHooks
	rec      floodgate.Record
	now      time.Time // message clock: the latest message time seen
	lastTick time.Time // message clock: message time of the last tick
}

// shardHooks are what a shard's loop does for the checkpoint (relay's
// checkpoint.go): on ack, write what the checkpoint on disk no longer
// holds; snapshot, every checkpointEvery when ticks are further apart.
type shardHooks struct {
	ack      <-chan struct{}
	onAck    func()
	snapshot func()
}

func (s *shard) loop() {
	var tc, sc <-chan time.Time
	if s.clock == wallClock {
		t := time.NewTicker(s.tick)
		defer t.Stop()
		tc = t.C
		if s.hooks.snapshot != nil && s.tick > checkpointEvery {
			st := time.NewTicker(checkpointEvery)
			defer st.Stop()
			sc = st.C
		}
	}
	for {
		select {
		case <-s.hooks.ack:
			s.hooks.onAck()
		case <-sc:
			s.hooks.snapshot()
		case w, ok := <-s.in:
			if !ok {
				s.head.Tick(s.finalTime(), true)
				return
			}
			if w.ctl != nil {
				w.ctl()
				continue
			}
			s.process(w)
			clear(w.msgs) // drop the strings, so the pool pins nothing
			w.msgs = w.msgs[:0]
			w.oversize = w.oversize[:0]
			for i := range w.preps {
				w.preps[i].Forget()
			}
			w.preps, w.prep = w.preps[:0], false
			s.pool.Put(w)
		case now := <-tc:
			s.head.Tick(now, false)
		}
	}
}

func (s *shard) finalTime() time.Time {
	if s.clock == messageClock {
		return s.now
	}
	return time.Now()
}

func (s *shard) process(w *work) {
	r := &s.rec
	var wall time.Time
	if s.clock == wallClock && len(w.msgs) > 0 {
		// One clock read per batch: time.Now costs as much as a budget
		// check.
		wall = time.Now()
	}
	over := w.oversize
	for i := range w.msgs {
		r.Message, r.Summary, r.Prep = w.msgs[i], nil, nil
		if len(over) > 0 && over[0].Frame == i {
			oversizeSummary(r, over[0].Size)
			over = over[1:]
		} else if w.prep {
			r.Prep = &w.preps[i]
		}
		now := wall
		if s.clock == messageClock {
			if r.Syntax == floodgate.Unparsed {
				// A line without a timestamp of its own takes the
				// message clock's, so it cannot throw the clock ahead
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
		if s.clock == messageClock && !s.lastTick.IsZero() && now.Sub(s.lastTick) >= s.tick {
			s.head.Tick(now, false)
			s.lastTick = now
		}
	}
	*r = floodgate.Record{}
}

// oversizeSummary turns r, the first bytes of an octet-counted frame of
// size bytes that was too long and skipped, into the suppressed summary
// that counts it under its source (host and app "-" when its header could
// not be parsed from those bytes): one received message, not written.
func oversizeSummary(r *floodgate.Record, size int) {
	text := fmt.Sprintf("skipped a message of %s over the maximum message size; it began: %s",
		bytesize.Human(int64(size)), sampleText(r.Text))
	r.Summary = &floodgate.Summary{
		Kind:  floodgate.Suppressed,
		FP:    reasonFP(r.Host, r.App, reasonOversize),
		Count: 1,
		First: r.Time,
		Last:  r.Time,
		Fields: []floodgate.Field{
			{Key: "bytes", Value: int64(size)},
			{Key: "reason", Value: reasonOversize},
			{Key: "sample", Value: sampleText(r.Text)},
		},
	}
	r.Text, r.Size, r.Syntax = text, len(text), floodgate.Internal
	r.StructuredData, r.MsgID = "", ""
}

// sampleText cuts text to 256 bytes at a rune boundary.
func sampleText(text string) string {
	const n = 256
	if len(text) <= n {
		return text
	}
	i := n
	for i > 0 && text[i]&0xC0 == 0x80 {
		i--
	}
	return text[:i] + "..."
}
