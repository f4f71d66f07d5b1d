package ratelimit

import (
	"net/netip"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// DefaultOptions returns the budgets of the built-in configuration; the
// config package builds its defaults on them.
func DefaultOptions() Options {
	return Options{
		Rate:         64 << 10,
		Burst:        1 << 20,
		Protect:      floodgate.Err,
		ProtectRate:  1 << 20,
		ProtectBurst: 16 << 20,
		Key:          []string{"host", "app"},
		MaxSources:   10000,
		Flush:        30 * time.Second,
	}
}

// Options configure one Budgets, with plain types so that this package
// needs nothing of the config package. Fields left at zero take
// DefaultOptions' values, except Protect, whose zero value is emerg.
type Options struct {
	// Rate (bytes per second) and Burst (bytes) are each source's budget
	// for severities less severe than Protect.
	Rate, Burst int64
	// Protect is the least severe severity that uses the protected budget
	// instead, so that an info flood never starves errors.
	Protect floodgate.Severity
	// ProtectRate and ProtectBurst are each source's budget for protected
	// severities: larger, so errors pass during a flood, and still finite,
	// so an error flood is bounded too.
	ProtectRate, ProtectBurst int64
	// Key names the fields that make a source: "host", "app", "procid",
	// "facility", "input" (Message.Input), "peer" (Message.Peer, the
	// sender's IP, which a sender cannot vary the way it can vary the host
	// name in its messages; a message without one, from a unix socket or
	// a replay, is charged to its host instead). Empty means host and app.
	// Unknown names are ignored: config validates them. A summary names
	// the host, app and procid of its first dropped line, so with a key
	// coarser than host and app (["host"], ["input"], ["peer"]) messages are still
	// all accounted for per key, but not per host and app.
	Key []string
	// MaxSources caps the sources this instance tracks; the least recently
	// seen is forgotten, after its pending summaries are emitted (even
	// under DiskFull: nothing else would remember them). A forgotten
	// source comes back with a full burst. The relay divides the
	// configured total by the number of shards.
	MaxSources int
	// Flush is how often a pending suppressed summary is emitted while its
	// source stays over budget, so a long flood stays visible.
	Flush time.Duration
	// Global, when not nil, bounds all sources together; share one among
	// all shards.
	Global *Global
	// Overrides give matching sources their own Rate and Burst; the first
	// match wins.
	Overrides []Override
	// Disk reports the output filesystems' level. It is called once per
	// Handle and Tick, so it should be cheap (an atomic load). Nil means
	// always DiskOK.
	Disk func() floodgate.DiskLevel
	// Observer, when set, is told of every message dropped, under the
	// fingerprint of the suppressed summary that counts it.
	Observer floodgate.Observer
	// Disabled turns budgets off (enabled = false): no budget drops
	// anything, and only the disk policy applies.
	Disabled bool
	// Host is the relay host's name, the host of floodgate's own records
	// (the disk warnings); "" means InternalHost.
	Host string
}

// Override is a budget for the sources that match it, such as a larger one
// for app = "kernel". An empty match field matches anything. A source is
// matched once, with the host and app of its first message (which matter
// only when the source key does not already include them).
type Override struct {
	Host, App   string
	Rate, Burst int64
}

// Reason says which rule dropped a message; each has its own suppressed
// summary per source.
type Reason uint8

// Reasons, in the order Stats reports them.
const (
	// ReasonBudget: the source's budget.
	ReasonBudget Reason = iota
	// ReasonProtected: the source's protected budget (an error flood).
	ReasonProtected
	// ReasonGlobal: the global budget.
	ReasonGlobal
	// ReasonDisk: the disk guard (free space under a watermark).
	ReasonDisk
	numReasons
)

// template names the reason for an Observer's Fate, made once.
func (r Reason) template() string {
	if int(r) < len(reasonTemplates) {
		return reasonTemplates[r]
	}
	return "suppressed: " + r.String()
}

var reasonTemplates = func() (t [numReasons]string) {
	for i := range t {
		t[i] = "suppressed: " + Reason(i).String()
	}
	return t
}()

// String is the reason as suppressed summaries name it in their reason
// field.
func (r Reason) String() string {
	switch r {
	case ReasonBudget:
		return "budget"
	case ReasonProtected:
		return "protected budget"
	case ReasonGlobal:
		return "global budget"
	case ReasonDisk:
		return "disk"
	}
	return "unknown"
}

// Stats are running totals of one Budgets, for metrics.
type Stats struct {
	// Sources is the number of sources tracked now.
	Sources int
	// Passed counts messages passed on verbatim.
	Passed int64
	// Dropped and DroppedBytes count what each Reason withheld (for
	// ReasonDisk, a folded summary counts its Count).
	Dropped, DroppedBytes [numReasons]int64
	// Summaries counts suppressed summaries emitted; Warnings counts disk
	// watermark warnings.
	Summaries, Warnings int64
	// InternalDropped counts floodgate's own records (Syntax Internal,
	// not summaries) that the disk policy withheld. They are no messages
	// received, so no summary counts them.
	InternalDropped int64
}

// key identifies a source; fields not in Options.Key stay empty. A struct
// of strings rather than a joined string, so that looking a source up
// allocates nothing.
type key struct {
	host, app, procid, input string
	facility                 floodgate.Facility
	peer                     netip.Addr
}

// keyFields says which fields make the key.
type keyFields struct {
	host, app, procid, input, facility, peer bool
}

// source is the state of one source: its two buckets and what it has
// pending.
type source struct {
	key  key
	lim  *limit // the default budget or an override
	norm bucket
	prot bucket
	// pend holds what each Reason dropped since its last summary; nil
	// until the first drop, then reused.
	pend [numReasons]*pending
	// listed is set while the source is in Budgets.waiting.
	listed bool
}

// Budgets enforces per-source byte budgets and the disk policy in front of
// next. One per shard, used by one goroutine.
type Budgets struct {
	next     floodgate.Handler
	disabled bool
	protect  floodgate.Severity
	lim      *limit // default budget
	plim     *limit // protected budget
	olims    []*limit
	over     []Override
	global   *Global
	fields   keyFields
	flush    time.Duration
	diskFn   func() floodgate.DiskLevel
	disk     floodgate.DiskLevel
	observer floodgate.Observer
	host     string // of floodgate's own records

	sources *simplelru.LRU[key, *source]
	// last caches the source of the previous record: floods come in runs
	// from one source, and the cached one is already the most recent in
	// the LRU, so a hit skips the map.
	last *source
	// waiting lists the sources that may have pending summaries.
	waiting []*source
	// now is the clock of the Handle or Tick in progress, for summaries
	// emitted from the LRU's eviction callback.
	now   time.Time
	stats Stats
}

var _ floodgate.Handler = (*Budgets)(nil)

// New returns the budget stage for one shard, passing what it lets through
// to next.
func New(opts Options, next floodgate.Handler) *Budgets {
	def := DefaultOptions()
	b := &Budgets{
		next:     next,
		disabled: opts.Disabled,
		protect:  opts.Protect,
		lim:      newLimit(orDefault(opts.Rate, def.Rate), orDefault(opts.Burst, def.Burst)),
		plim:     newLimit(orDefault(opts.ProtectRate, def.ProtectRate), orDefault(opts.ProtectBurst, def.ProtectBurst)),
		global:   opts.Global,
		flush:    opts.Flush,
		diskFn:   opts.Disk,
		observer: opts.Observer,
		over:     append([]Override(nil), opts.Overrides...),
		host:     opts.Host,
	}
	if b.host == "" {
		b.host = InternalHost
	}
	if b.flush <= 0 {
		b.flush = def.Flush
	}
	for _, o := range b.over {
		b.olims = append(b.olims, newLimit(orDefault(o.Rate, def.Rate), orDefault(o.Burst, def.Burst)))
	}
	names := opts.Key
	if len(names) == 0 {
		names = def.Key
	}
	for _, n := range names {
		switch n {
		case "host":
			b.fields.host = true
		case "app":
			b.fields.app = true
		case "procid":
			b.fields.procid = true
		case "input":
			b.fields.input = true
		case "facility":
			b.fields.facility = true
		case "peer":
			b.fields.peer = true
		}
	}
	max := opts.MaxSources
	if max <= 0 {
		max = def.MaxSources
	}
	// NewLRU fails only for a size below 1.
	b.sources, _ = simplelru.NewLRU(max, b.evicted)
	return b
}

func orDefault(v, d int64) int64 {
	if v <= 0 {
		return d
	}
	return v
}

// Stats returns the running totals. Call it from the goroutine that owns b.
func (b *Budgets) Stats() Stats {
	s := b.stats
	s.Sources = b.sources.Len()
	return s
}

// Handle passes r on, or counts it into a pending suppressed summary.
//
// A message is charged r.Size bytes (len(r.Text) when Size is 0) against
// its source's budget, or its protected budget when its severity is
// Protect or worse, then against the Global budget if any (protected
// messages are charged there but never refused by it). Summary records are
// never refused by a budget nor charged. Records of floodgate.Internal
// format skip the budgets. Under DiskLow, only protected messages,
// summaries and protected internal records are written; under DiskFull
// nothing is: a message is counted as dropped for the disk, a summary is
// folded into the source's disk summary by its Count, so every received
// message stays accounted for. An internal record the disk refuses is
// counted in Stats.InternalDropped only: it is no message received, and a
// summary counting it would claim one.
func (b *Budgets) Handle(now time.Time, r *floodgate.Record) {
	b.now = now
	b.readDisk(now)
	if r.Summary != nil {
		if b.disk == floodgate.DiskFull {
			b.drop(now, b.source(now, r), r, ReasonDisk)
			return
		}
		b.next.Handle(now, r)
		return
	}
	protected := r.Severity <= b.protect
	if b.disk == floodgate.DiskFull || b.disk == floodgate.DiskLow && !protected {
		if r.Syntax == floodgate.Internal {
			b.stats.InternalDropped++
			return
		}
		b.drop(now, b.source(now, r), r, ReasonDisk)
		return
	}
	if b.disabled || r.Syntax == floodgate.Internal {
		b.pass(now, r)
		return
	}
	s := b.source(now, r)
	n := size(r)
	if protected {
		s.prot.refill(now, b.plim)
		if s.prot.full(b.plim) {
			// Back under budget: close the previous count first, so it
			// comes before this message.
			b.emit(now, s, ReasonProtected)
		}
		if !s.prot.admits(n, b.plim) {
			b.drop(now, s, r, ReasonProtected)
			return
		}
		s.prot.take(n)
		if b.global != nil {
			b.global.force(now, n)
		}
	} else {
		s.norm.refill(now, s.lim)
		if s.norm.full(s.lim) {
			b.emit(now, s, ReasonBudget)
		}
		if !s.norm.admits(n, s.lim) {
			b.drop(now, s, r, ReasonBudget)
			return
		}
		if b.global != nil && !b.global.allow(now, n) {
			b.drop(now, s, r, ReasonGlobal)
			return
		}
		s.norm.take(n)
	}
	if b.disk == floodgate.DiskOK {
		b.emit(now, s, ReasonDisk)
	}
	b.pass(now, r)
}

func (b *Budgets) pass(now time.Time, r *floodgate.Record) {
	b.stats.Passed++
	b.next.Handle(now, r)
}

// size is what a record is charged: its size on the wire, or its text.
func size(r *floodgate.Record) int64 {
	if r.Size > 0 {
		return int64(r.Size)
	}
	return int64(len(r.Text))
}

// Tick emits the suppressed summaries that are due at now, forgets sources
// whose buckets are full again, then ticks next.
//
// A pending summary is due when its source is back under budget (the
// bucket that refused it has refilled completely; for the disk, the level
// is DiskOK again), or when Flush has passed since its first drop while
// the source stays over budget. Under DiskFull none is due, since none
// could be written, except at final: shutdown must account for everything,
// so then every pending summary is emitted whatever the disk level. The
// output may fail to write them; it counts that itself.
func (b *Budgets) Tick(now time.Time, final bool) {
	b.now = now
	b.readDisk(now)
	keep := b.waiting[:0]
	for _, s := range b.waiting {
		for reason := range numReasons {
			if final || b.due(now, s, reason) {
				b.emit(now, s, reason)
			}
		}
		if s.hasPending() {
			keep = append(keep, s)
		} else {
			s.listed = false
		}
	}
	clear(b.waiting[len(keep):])
	b.waiting = keep
	if !final {
		b.sweep(now)
	}
	b.next.Tick(now, final)
}

// due reports whether s's pending summary for reason should be emitted at
// a Tick at now.
func (b *Budgets) due(now time.Time, s *source, reason Reason) bool {
	p := s.pend[reason]
	if p == nil || p.count == 0 || b.disk == floodgate.DiskFull {
		return false
	}
	if now.Sub(p.since) >= b.flush {
		return true
	}
	switch reason {
	case ReasonBudget:
		s.norm.refill(now, s.lim)
		return s.norm.full(s.lim)
	case ReasonProtected:
		s.prot.refill(now, b.plim)
		return s.prot.full(b.plim)
	case ReasonGlobal:
		return b.global == nil || b.global.full(now)
	case ReasonDisk:
		return b.disk == floodgate.DiskOK
	}
	return false
}

// sweep forgets the least recently seen sources while their buckets are
// full again and nothing is pending: such a source is exactly a new one
// (New sources start full), so forgetting it changes no decision. The
// sweep stops at the first source that must stay; the LRU cap bounds the
// table regardless.
func (b *Budgets) sweep(now time.Time) {
	for {
		_, s, ok := b.sources.GetOldest()
		if !ok || s.hasPending() {
			return
		}
		s.norm.refill(now, s.lim)
		s.prot.refill(now, b.plim)
		if !s.norm.full(s.lim) || !s.prot.full(b.plim) {
			return
		}
		b.sources.RemoveOldest()
	}
}

// source returns the state of r's source, creating it full when new.
func (b *Budgets) source(now time.Time, r *floodgate.Record) *source {
	var k key
	if b.fields.host {
		k.host = r.Host
	}
	if b.fields.app {
		k.app = r.App
	}
	if b.fields.procid {
		k.procid = r.ProcID
	}
	if b.fields.input {
		k.input = r.Input
	}
	if b.fields.facility {
		k.facility = r.Facility
	}
	if b.fields.peer {
		// A message from no network address (a unix socket, a replay)
		// is charged to its host instead.
		k.peer = r.Peer
		if !k.peer.IsValid() {
			k.host = r.Host
		}
	}
	if b.last != nil && b.last.key == k {
		return b.last
	}
	s, ok := b.sources.Get(k)
	if !ok {
		s = &source{key: k, lim: b.match(r.Host, r.App)}
		s.norm.fill(now, s.lim)
		s.prot.fill(now, b.plim)
		b.sources.Add(k, s)
	}
	b.last = s
	return s
}

// match returns the budget of the first override matching host and app,
// or the default one.
func (b *Budgets) match(host, app string) *limit {
	for i, o := range b.over {
		if (o.Host == "" || o.Host == host) && (o.App == "" || o.App == app) {
			return b.olims[i]
		}
	}
	return b.lim
}

// evicted is the LRU's callback: a source leaving the table emits what it
// has pending, whatever the disk level, since nothing else would remember
// it.
func (b *Budgets) evicted(_ key, s *source) {
	for reason := range numReasons {
		b.emit(b.now, s, reason)
	}
	if b.last == s {
		b.last = nil
	}
}

func (s *source) hasPending() bool {
	for _, p := range s.pend {
		if p != nil && p.count > 0 {
			return true
		}
	}
	return false
}
