package dedupe

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/floodgate/floodgate"
)

var _ floodgate.Handler = (*Engine)(nil)

// maxStreams bounds the blocks assembled at once; starting one more ends
// the oldest.
const maxStreams = 4096

// maxHeldBlocks bounds the bytes held in all blocks being assembled, in
// units of BlockMaxBytes; beyond it the oldest block is ended.
const maxHeldBlocks = 16

// sourceCap is the size of the source table: sources hold cycle state
// (about 1 KiB each once they have a history), so their number is capped
// apart from the patterns.
func sourceCap(maxPatterns int) int { return max(64, min(maxPatterns, 16384)) }

// maxExemplar is how much of a repeated line a repeat summary quotes.
const maxExemplar = 120

// holdMax is the largest count that is written as the lines themselves
// when that is cheaper than a summary: a pattern holds copies of its first
// holdMax counted messages, and no summary ever stands for one message.
const holdMax = 3

// minSummaryCount is the least count a summary is emitted for on the
// flush schedule; a smaller one waits for more, for the pattern to go
// quiet, or for FlushMax. A flood passes it within Flush.
const minSummaryCount = 8

// floodSpan sets a flood's rate on the flush schedule: minSummaryCount
// messages in every floodSpan Flushes of an interval (8 in two minutes
// with the defaults, 64 in the 16 minutes of the second interval). A
// pattern slower than that is a trickle: the early summaries are not for
// it, and its count is written every FlushMax.
const floodSpan = 4

// thinning is how much longer each interval between a pattern's
// summaries is than the one before: with the defaults, 30 s, 16 min, then
// FlushMax (1 h).
const thinning = 32

// maxHeldBytes bounds the text held that way by one engine; past it, a
// message that would be held is written at once instead.
const maxHeldBytes = 4 << 20

// patternKey identifies a pattern within a source: line templates, block
// fingerprints and cycle fingerprints share the table, told apart by the
// hash (block and cycle hashes are seeded differently).
type patternKey struct {
	src, h uint64
}

// streamKey identifies a stream on which blocks are assembled.
type streamKey struct {
	src    uint64
	procid string
}

// pattern is one entry of the pattern table: something written once and
// possibly counted since.
type pattern struct {
	key       patternKey
	kind      floodgate.Kind
	host, app string // the source's, shared
	// Header of the last counted message, for the summary record.
	procid   string
	facility floodgate.Facility
	severity floodgate.Severity
	exemplar string // an excerpt of a counted line (repeats)

	seen  time.Time // pipeline clock at the last occurrence
	since time.Time // pipeline clock when the pending count began
	count int64     // messages counted and not yet summarised
	first time.Time // message times of the pending count
	last  time.Time

	pending bool  // in Engine.pending
	due     int64 // pipeline clock (Unix ns) before which Tick has nothing to do for it
	dead    bool  // evicted; its pending count was emitted
	x       *extra

	// interval is how long the pending count may run before its summary:
	// Flush at first, doubling with every summary up to FlushMax.
	interval time.Duration
	// held are copies of the counted messages while count <= holdMax.
	held []floodgate.Message
	// unheld is set when a count too small for a summary could not be held.
	unheld bool
	vary   *variety // what varied among the counted lines (repeats)
	vars   uint32   // the word places the pattern's template marks
	// With an Observer: the fingerprint and the readable template.
	fp      string
	readTpl string
}

// extra holds what only block and cycle patterns need.
type extra struct {
	bkind  blockKind
	blocks int64
	id     string // the goroutine id of the block written
	states [maxStates]stateCount
	other  int64 // goroutines in states beyond maxStates

	period     int   // units per cycle
	cycleLines int64 // lines per cycle (a block unit has several)
	restarts   int64
	unit       string
}

type stateCount struct {
	state string
	n     int64
}

// Engine is the dedupe stage for the sources of one shard: it writes the
// first occurrence of every pattern and counts the rest into summaries.
// It is owned by one goroutine and needs no locks.
type Engine struct {
	opts     Options
	next     floodgate.Handler
	patterns *simplelru.LRU[patternKey, *pattern]
	// groups and door hold what is learned of variable places (places.go).
	groups *simplelru.LRU[groupKey, *group]
	door   *[doorkeeperSize]uint64
	pdoor  *[doorSize]doorSlot // line patterns seen once (admit)
	// freeText holds the skeletons found to be free text (freetext.go).
	freeText *freeSet
	pp       *Preparer
	prep     Prepared // the line in progress, where its record carries none
	hbuf     []byte   // learnedHash's
	wbuf     []byte   // word's
	winfo    [maxPlaces]wordInfo
	wdone    uint32 // the word places of the line in progress in winfo
	// The places of the groups learning, bounded by placeBudget, and
	// places and groups kept for reuse.
	livePlaces, placeBudget int
	freePlaces              []*place
	freeGroups              []*group
	copies                  int // bytes of text of the messages patterns hold (take)
	exempt                  map[string]bool
	sources                 *simplelru.LRU[uint64, *source]
	streams                 map[streamKey]*block
	free                    []*block
	due                     []*block
	pending                 []*pattern
	loops                   map[loopKey]*loopState
	seq                     uint64
	now                     time.Time  // the clock of the call in progress, for eviction
	cache                   *block     // the block of the last stream used
	unitLines               []heldLine // the lines of the block unit being counted
	last                    *source    // the last source used
	held                    int        // bytes of text held in blocks being assembled
	buf                     []byte
	out                     floodgate.Record
}

// New returns an Engine that passes what it writes to next. Zero or
// out-of-range durations, sizes and caps take their defaults; each
// detector runs only when its switch is on (DefaultOptions turns all on).
func New(opts Options, next floodgate.Handler) *Engine {
	opts = opts.sane()
	e := &Engine{
		opts:     opts,
		next:     next,
		streams:  make(map[streamKey]*block),
		loops:    make(map[loopKey]*loopState),
		buf:      make([]byte, 0, 1024),
		pp:       NewPreparer(),
		hbuf:     make([]byte, 0, 8*(maxPlaces+1)),
		wbuf:     make([]byte, 0, 256),
		door:     new([doorkeeperSize]uint64),
		pdoor:    new([doorSize]doorSlot),
		freeText: new(freeSet),
	}
	if len(opts.ExemptApps) > 0 {
		e.exempt = make(map[string]bool, len(opts.ExemptApps))
		for _, a := range opts.ExemptApps {
			e.exempt[a] = true
		}
	}
	// NewLRU only fails on a size below 1, which sane rules out.
	e.patterns, _ = simplelru.NewLRU[patternKey, *pattern](opts.MaxPatterns, e.evictPattern)
	e.sources, _ = simplelru.NewLRU[uint64, *source](sourceCap(opts.MaxPatterns), e.evictSource)
	e.groups, _ = simplelru.NewLRU[groupKey, *group](sourceCap(opts.MaxPatterns), e.evictGroup)
	e.placeBudget = learnBudget(opts.MaxPatterns)
	return e
}

// Handle takes one record: it writes it, holds it in a block, or counts
// it.
func (e *Engine) Handle(now time.Time, r *floodgate.Record) {
	if r.Summary != nil || r.Syntax == floodgate.Internal {
		e.next.Handle(now, r)
		return
	}
	if e.isExempt(r) {
		e.write(now, nil, r)
		return
	}
	e.now = now
	src := e.source(r.Host, r.App)
	if e.opts.Blocks {
		if src.blocks > 0 {
			if b := e.stream(src, r.ProcID); b != nil {
				// A line that continues a block is never a header, so the
				// header test is left to lines that do not.
				body, indented := unindent(r.Text)
				if cont, last := continues(b, r.Text, body, indented); cont {
					e.hold(now, b, r, body, indented)
					if last || len(b.lines) >= e.opts.BlockMaxLines || b.bytes >= e.opts.BlockMaxBytes {
						e.endBlock(now, b)
					}
					return
				}
				e.endBlock(now, b)
			}
		}
		if kind := headerKind(r.Text); kind != noBlock {
			e.hold(now, e.startBlock(kind, src, r.ProcID), r, r.Text, false)
			return
		}
		// A line that follows a line of its stream within BlockIdle and
		// is indented (a tab, #011, spaces) starts a run of continuation
		// lines: a block whose fingerprint starts with the line before.
		if body, indented := unindent(r.Text); indented && body != "" && src.lastLine != 0 &&
			src.lastProc == procHash(r.ProcID) && now.Sub(src.lastAt) <= e.opts.BlockIdle {
			b := e.startBlock(indentRun, src, r.ProcID)
			b.writeTemplate(src.lastLine)
			e.hold(now, b, r, body, indented)
			return
		}
	}
	e.line(now, src, r)
}

// Tick ends idle blocks, emits the summaries that are due (everything
// when final), reports continuing restart loops, and ticks next.
func (e *Engine) Tick(now time.Time, final bool) {
	e.now = now
	e.due = e.due[:0]
	for _, b := range e.streams {
		if final || now.Sub(b.last) >= e.opts.BlockIdle {
			e.due = append(e.due, b)
		}
	}
	slices.SortFunc(e.due, func(a, b *block) int { return cmp.Compare(a.seq, b.seq) })
	for _, b := range e.due {
		e.endBlock(now, b)
	}
	clear(e.due)

	kept := e.pending[:0]
	nowNs := now.UnixNano()
	for _, p := range e.pending {
		if !final && !p.dead && p.count > 0 && nowNs < p.due {
			// Not due yet: a trickle waiting for FlushMax among
			// thousands costs one compare a tick.
			kept = append(kept, p)
			continue
		}
		switch {
		case p.dead || p.count == 0:
			p.pending = false
		case final || now.Sub(p.seen) >= e.opts.Window:
			// Quiet (or the end): the episode is over.
			e.emit(now, p)
			p.interval = e.opts.Flush
			p.pending = false
		case now.Sub(p.since) >= p.interval && (e.floods(p) || now.Sub(p.since) >= e.opts.FlushMax):
			// The next summary of a long-lived pattern comes later than
			// the last.
			e.emit(now, p)
			p.interval = min(thinning*p.interval, e.opts.FlushMax)
			p.pending = false
		case now.Sub(p.since) >= p.interval:
			// No flood, a trickle: it waits for the next step of the
			// schedule, as if it had had its summary, and at FlushMax
			// whatever it counted is emitted. A pattern that recurs every
			// few seconds among thousands (an access log's) so costs a
			// summary an hour, not one per step.
			p.interval = min(thinning*p.interval, e.opts.FlushMax)
			e.setDue(p)
			kept = append(kept, p)
		default:
			kept = append(kept, p)
		}
	}
	clear(e.pending[len(kept):])
	e.pending = kept

	e.tickLoops(now)
	e.next.Tick(now, final)
}

// stream returns the block being assembled on src's procid stream, or nil.
// The last stream used is cached: dumps arrive a stream at a time.
func (e *Engine) stream(src *source, procid string) *block {
	if c := e.cache; c != nil && c.src == src && c.procid == procid {
		return c
	}
	b := e.streams[streamKey{src.key, procid}]
	if b != nil {
		e.cache = b
	}
	return b
}

// source returns the state of the (host, app) source, creating it.
func (e *Engine) source(host, app string) *source {
	// Floods come a source at a time: the last one is kept at hand.
	if s := e.last; s != nil && s.host == host && s.app == app {
		return s
	}
	if e.last != nil {
		// Touch the source being left, so that a source served from
		// e.last is not the least recently used in the table.
		e.sources.Get(e.last.key)
		e.last = nil
	}
	e.buf = append(append(append(e.buf[:0], host...), 0), app...)
	key := xxhash.Sum64(e.buf)
	s, ok := e.sources.Get(key)
	if !ok {
		s = &source{key: key, host: strings.Clone(host), app: strings.Clone(app)}
		e.sources.Add(key, s)
	}
	e.last = s
	return s
}

// evictSource ends the blocks of a source that leaves the table, so that
// their held lines are not orphaned.
func (e *Engine) evictSource(_ uint64, s *source) {
	if e.last == s {
		e.last = nil
	}
	if s.blocks == 0 {
		return
	}
	due := make([]*block, 0, s.blocks)
	for _, b := range e.streams {
		if b.src == s {
			due = append(due, b)
		}
	}
	slices.SortFunc(due, func(a, b *block) int { return cmp.Compare(a.seq, b.seq) })
	for _, b := range due {
		e.endBlock(b.last, b)
	}
}

// evictPattern emits the pending summary of a pattern leaving the table,
// so that nothing counted is lost.
func (e *Engine) evictPattern(_ patternKey, p *pattern) {
	if p.count > 0 {
		e.emit(e.now, p)
	}
	p.dead = true
}

// template computes the masked template hash of text into e.buf.
func (e *Engine) template(text string) uint64 {
	e.buf = appendTemplate(e.buf[:0], text)
	return xxhash.Sum64(e.buf)
}

// severityMix makes a line's severity part of its pattern: the first err
// of a wording is written even when the same wording flooded at info, so
// an error never hides in a summary of harmless lines.
func severityMix(s floodgate.Severity) uint64 {
	return uint64(s) * 0x9e3779b97f4a7c15
}

// addPattern puts a new pattern into the table; the caller has just
// written its first occurrence.
func (e *Engine) addPattern(key patternKey, kind floodgate.Kind, src *source, now time.Time) *pattern {
	p := &pattern{key: key, kind: kind, host: src.host, app: src.app, seen: now, interval: e.opts.Flush}
	e.patterns.Add(key, p)
	return p
}

// count adds n messages, the last of them m, to p's pending summary.
// The caller has held or released what holdMax asks (take).
func (e *Engine) count(p *pattern, now time.Time, m *floodgate.Message, n int64, first time.Time) {
	if p.count == 0 {
		p.first = first
		p.last = m.Time
		p.since = now
		if !p.pending {
			// Compact first: compaction drops patterns whose count is
			// 0, as p's still is.
			if len(e.pending) >= 2*e.opts.MaxPatterns+64 {
				e.compactPending()
			}
			p.pending = true
			e.pending = append(e.pending, p)
		}
	}
	p.count += n
	if p.count > holdMax && len(p.held) > 0 {
		e.release(p, true)
	}
	if first.Before(p.first) {
		p.first = first
	}
	if m.Time.After(p.last) {
		p.last = m.Time
	}
	if p.procid != m.ProcID {
		p.procid = strings.Clone(m.ProcID)
	}
	p.facility, p.severity = m.Facility, m.Severity
	p.seen = now
	e.setDue(p)
}

// setDue notes when Tick next has something to do for p: its interval
// ends, or it has been quiet for Window. p.seen and p.interval only grow
// while a count is pending, so a due noted earlier is never late.
func (e *Engine) setDue(p *pattern) {
	p.due = min(p.since.Add(p.interval).UnixNano(), p.seen.Add(e.opts.Window).UnixNano())
}

// take prepares to count message m into p: while p's count is small, a
// copy of m is held, so that a count of a few can be written as the lines
// themselves. It reports false when m should rather be written at once
// (the engine holds all it may): the caller writes it.
func (e *Engine) take(p *pattern, m *floodgate.Message) bool {
	if p.count >= holdMax {
		e.counted(p, m)
		return true
	}
	if e.copies+len(m.Text) > maxHeldBytes {
		return false
	}
	c := *m
	c.Host, c.App = p.host, p.app
	c.Text = strings.Clone(m.Text)
	c.ProcID = strings.Clone(m.ProcID)
	c.MsgID = strings.Clone(m.MsgID)
	c.StructuredData = strings.Clone(m.StructuredData)
	p.held = append(p.held, c)
	e.copies += len(c.Text)
	return true
}

// takeUnheld notes that n messages are counted into p without copies
// (the lines of a block unit in a cycle): a count this small then ends in
// a summary.
func (e *Engine) takeUnheld(p *pattern, m *floodgate.Message, n int64) {
	if p.count+n <= holdMax {
		p.unheld = true
	}
	if len(e.unitLines) == int(n) {
		for i := range e.unitLines {
			e.counted(p, &e.unitLines[i].msg)
		}
		return
	}
	for range n {
		e.counted(p, m)
	}
}

// release forgets the held copies of p; counted says they are counted
// for good (they were written otherwise).
func (e *Engine) release(p *pattern, counted bool) {
	for i := range p.held {
		e.copies -= len(p.held[i].Text)
		if counted {
			e.counted(p, &p.held[i])
		}
	}
	clear(p.held)
	p.held = p.held[:0]
	p.unheld = false
}

// counted tells the Observer, if any, that m is counted into p's summary
// for good.
func (e *Engine) counted(p *pattern, m *floodgate.Message) {
	if o := e.opts.Observer; o != nil {
		o.Observe(floodgate.Fate{Host: p.host, App: p.app, Seq: m.Seq, Size: m.Size, Kind: p.kind, FP: e.fpOf(p), Template: p.readTpl})
	}
}

// observe tells the Observer, if any, that m was written as an occurrence
// of p (nil: a message written without a pattern).
func (e *Engine) observe(p *pattern, m *floodgate.Message) {
	if e.opts.Observer == nil {
		return
	}
	f := floodgate.Fate{Host: m.Host, App: m.App, Seq: m.Seq, Size: m.Size, Verbatim: true, Kind: floodgate.Repeat}
	if p != nil {
		f.FP, f.Template, f.Kind = e.fpOf(p), p.readTpl, p.kind
	} else {
		// Exempt from folding: its template names it.
		f.FP, f.Template = FormatFP(Fingerprint(m.Text)), Template(m.Text)
	}
	e.opts.Observer.Observe(f)
}

// fpOf returns p's fingerprint as summaries carry it, made once.
func (e *Engine) fpOf(p *pattern) string {
	if p.fp == "" {
		p.fp = FormatFP(p.key.h)
	}
	return p.fp
}

// write passes r on verbatim as an occurrence of p.
func (e *Engine) write(now time.Time, p *pattern, r *floodgate.Record) {
	// Told first: a later stage that drops it then has the last word.
	e.observe(p, &r.Message)
	e.next.Handle(now, r)
}

// isExempt reports whether r is never folded: its app is exempt, or its
// severity is ExemptSeverity or worse.
func (e *Engine) isExempt(r *floodgate.Record) bool {
	if e.opts.ExemptBySeverity && r.Severity <= e.opts.ExemptSeverity {
		return true
	}
	return e.exempt != nil && e.exempt[r.App]
}

// floods reports whether p's pending count shows a flood's rate over the
// interval it was given: minSummaryCount in every floodSpan Flushes of it,
// and minSummaryCount at least. Summaries before FlushMax are for floods;
// a slower pattern's count waits for FlushMax (or for it to go quiet).
func (e *Engine) floods(p *pattern) bool {
	return p.count >= minSummaryCount*max(1, int64(p.interval/(floodSpan*e.opts.Flush)))
}

// compactPending drops evicted and emptied patterns from the pending
// list, so that a flood of short-lived patterns between two ticks cannot
// grow it beyond the table.
func (e *Engine) compactPending() {
	kept := e.pending[:0]
	for _, p := range e.pending {
		if p.dead || p.count == 0 {
			p.pending = false
			continue
		}
		kept = append(kept, p)
	}
	clear(e.pending[len(kept):])
	e.pending = kept
}

// line handles a single line that is not part of a block.
func (e *Engine) line(now time.Time, src *source, r *floodgate.Record) {
	sev := severityMix(r.Severity)
	prep := e.prepared(r)
	e.wdone = 0
	h := prep.tmpl
	var vars uint32
	if g := e.learn(src, sev, prep); g != nil && g.masks {
		if lh, v := e.learnedHash(g, prep); v != 0 {
			h, vars = lh, v
		}
	}
	tmpl := h ^ sev
	if e.opts.Blocks {
		src.lastLine, src.lastProc, src.lastAt = tmpl|1, procHash(r.ProcID), now
	}
	restart := e.noteSystemd(now, src, r)
	key := patternKey{src.key, tmpl}
	p, ok := e.patterns.Get(key)
	if !ok && e.admit(key, now) {
		// Seen once before, within the window: a pattern from now on.
		p, ok = e.addLinePattern(key, src, now, vars, r.Text), true
	}
	recent := ok && now.Sub(p.seen) <= e.opts.Window
	if e.opts.Cycles {
		if e.cycleStep(now, src, unit{h: tmpl, single: true, known: recent, restart: restart != "", seq: r.Seq, size: int32(r.Size)}, &r.Message, 1, r.Time, restart) {
			if ok && !p.dead {
				p.seen = now
			}
			return
		}
		if ok && p.dead {
			p, ok = nil, false
		}
	}
	if recent && ok && e.opts.Repeats && e.take(p, &r.Message) {
		if p.exemplar == "" {
			p.exemplar = strings.Clone(r.Text[:min(len(r.Text), maxExemplar)])
		}
		if p.vary == nil {
			p.vary = new(variety)
			p.vary.track(prep, p.vars)
		}
		p.vary.add(prep)
		e.count(p, now, &r.Message, 1, r.Time)
		if restart != "" {
			// A restart loop folded as repeats (cycles off, or broken by
			// other lines) still names its unit.
			if p.x == nil {
				p.x = &extra{}
			}
			p.x.restarts++
			p.x.unit = src.restartUnit
		}
		return
	}
	if ok && p.count > 0 && !recent {
		e.emit(now, p) // stale: close the old run before the new exemplar
		p.interval = e.opts.Flush
	}
	if !ok {
		// A first sighting: written, and remembered by the doorkeeper
		// (admit) rather than the pattern table.
		if o := e.opts.Observer; o != nil {
			o.Observe(floodgate.Fate{Host: r.Host, App: r.App, Seq: r.Seq, Size: r.Size, Kind: floodgate.Repeat,
				FP: FormatFP(key.h), Template: e.pp.readableTemplate(r.Text, vars), Verbatim: true})
		}
		e.next.Handle(now, r)
		return
	}
	e.write(now, p, r)
	p.seen = now
}

// addLinePattern puts a single line's pattern into the table.
func (e *Engine) addLinePattern(key patternKey, src *source, now time.Time, vars uint32, text string) *pattern {
	p := e.addPattern(key, floodgate.Repeat, src, now)
	p.vars = vars
	if e.opts.Observer != nil {
		p.readTpl = e.pp.readableTemplate(text, vars)
	}
	return p
}

// doorSize is the number of slots of the doorkeeper of line patterns.
const doorSize = 1 << 15

// doorSlot remembers a line pattern seen once.
type doorSlot struct {
	key patternKey
	at  int64 // the pipeline clock, in Unix nanoseconds
}

// admit reports whether a line pattern that is not in the table was seen
// once before within Window, and otherwise remembers this sighting. Lines
// that never repeat (free text) so cost no insertion into the pattern
// table, and cannot push out the patterns that do repeat (the admission
// policy of TinyLFU's doorkeeper). A slot holds the whole key: a slot
// taken over by another pattern only makes a second sighting look like a
// first, which writes the line again; it never folds a line.
func (e *Engine) admit(key patternKey, now time.Time) bool {
	slot := &e.pdoor[(key.h^key.src*0x9e3779b97f4a7c15)&(doorSize-1)]
	at := now.UnixNano()
	if slot.key == key && at-slot.at <= int64(e.opts.Window) {
		*slot = doorSlot{}
		return true
	}
	*slot = doorSlot{key: key, at: at}
	return false
}

// startBlock begins assembling a block on r's stream.
func (e *Engine) startBlock(kind blockKind, src *source, procid string) *block {
	if len(e.streams) >= maxStreams {
		e.endOldest(nil)
	}
	var b *block
	if n := len(e.free); n > 0 {
		b, e.free = e.free[n-1], e.free[:n-1]
	} else {
		b = new(block)
	}
	b.reset(kind, src)
	e.seq++
	b.seq = e.seq
	b.procid = procid
	e.streams[streamKey{src.key, procid}] = b
	e.cache = b
	src.blocks++
	return b
}

// endOldest ends the block that started first, other than keep: the
// blocks being assembled are bounded in number and in bytes together.
func (e *Engine) endOldest(keep *block) {
	var oldest *block
	for _, b := range e.streams {
		if b != keep && (oldest == nil || b.seq < oldest.seq) {
			oldest = b
		}
	}
	if oldest != nil {
		e.endBlock(oldest.last, oldest)
	}
}

// hold adds r's line to block b.
func (e *Engine) hold(now time.Time, b *block, r *floodgate.Record, body string, indented bool) {
	var tmpl uint64
	if p, ok := r.Prep.(*Prepared); ok && p.For(r.Text) {
		tmpl = p.tmpl
	} else {
		tmpl = e.template(r.Text)
	}
	tmpl ^= severityMix(r.Severity)
	if len(b.lines) == 0 && b.kind == goroutine {
		b.id, b.state = goroutineHeader(r.Text)
	}
	b.addFrame(r.Text, body, indented, tmpl)
	b.lines = append(b.lines, heldLine{msg: r.Message, tmpl: tmpl})
	// Novelty is decided on arrival: another stream of the source may
	// release a block with the same template before this one ends, and
	// the first occurrence must still be written.
	if !b.fresh && !b.src.wasWritten(tmpl) {
		if _, ok := e.patterns.Get(patternKey{b.src.key, tmpl}); ok {
			b.src.noteWritten(tmpl)
		} else {
			b.fresh = true
		}
	}
	b.bytes += len(r.Text)
	b.last = now
	e.held += len(r.Text)
	if e.held > maxHeldBlocks*e.opts.BlockMaxBytes {
		e.endOldest(b)
	}
}

// endBlock decides a finished block: written whole when its fingerprint
// is new or stale or when it holds a line whose template was never written
// for the source; counted otherwise.
func (e *Engine) endBlock(now time.Time, b *block) {
	// Decide at the time of the block's last line, not of the tick that
	// found it idle: a block is as recent as its lines.
	at := b.last
	delete(e.streams, streamKey{b.src.key, b.procid})
	if e.cache == b {
		e.cache = nil
	}
	src := b.src
	src.blocks--
	e.held -= b.bytes
	fp := b.fp.Sum64()
	key := patternKey{src.key, fp}
	p, ok := e.patterns.Get(key)
	// A block holding a line whose template had not been written for the
	// source when the line arrived is written whole (hold checks).
	fresh := b.fresh
	recent := ok && at.Sub(p.seen) <= e.opts.Window && !fresh
	n := int64(len(b.lines))
	lastMsg := &b.lines[len(b.lines)-1].msg
	firstTime := b.lines[0].msg.Time
	// Goroutines are left out of cycles: a dump is told best by its
	// block summaries and their states.
	if e.opts.Cycles && b.kind != goroutine {
		u := unit{h: fp, known: recent, lines: int32(n)}
		e.unitLines = b.lines
		counted := e.cycleStep(at, src, u, lastMsg, n, firstTime, "")
		e.unitLines = nil
		if counted {
			if ok && !p.dead {
				p.seen = at
			}
			e.freeBlock(b)
			return
		}
		if ok && p.dead {
			p, ok, recent = nil, false, false
		}
	}
	if recent {
		for i := range b.lines {
			if p.count+n > holdMax || !e.take(p, &b.lines[i].msg) {
				e.unitLines = b.lines[i:]
				e.takeUnheld(p, lastMsg, int64(len(b.lines)-i))
				e.unitLines = nil
				break
			}
		}
		e.count(p, at, lastMsg, n, firstTime)
		p.x.blocks++
		if b.kind == goroutine {
			p.x.addState(b.state)
		}
		e.freeBlock(b)
		return
	}
	if ok && p.count > 0 && at.Sub(p.seen) > e.opts.Window {
		e.emit(now, p) // stale: close the old run before the new exemplar
		p.interval = e.opts.Flush
	}
	if !ok {
		p = e.addPattern(key, floodgate.Block, src, at)
		p.x = &extra{bkind: b.kind, id: strings.Clone(b.id)}
		if e.opts.Observer != nil {
			p.readTpl = fmt.Sprintf("%s (a block of %d lines, %s)", Template(b.lines[0].msg.Text), len(b.lines), b.kind.noun())
		}
	}
	for i := range b.lines {
		e.out = floodgate.Record{Message: b.lines[i].msg}
		e.write(now, p, &e.out)
	}
	e.out = floodgate.Record{}
	// Remember every template written, so that a later block holding it
	// can be counted; then the block itself, last, so that adding
	// templates cannot evict it.
	for i := range b.lines {
		tk := patternKey{src.key, b.lines[i].tmpl}
		if t, ok := e.patterns.Get(tk); ok {
			t.seen = at
		} else {
			e.addPattern(tk, floodgate.Repeat, src, at)
		}
	}
	if _, ok = e.patterns.Get(key); !ok {
		// The block's templates pushed it out: put it back.
		e.patterns.Add(key, p)
		p.dead = false
	}
	p.seen = at
	e.freeBlock(b)
}

func (e *Engine) freeBlock(b *block) {
	clear(b.lines)
	b.lines = b.lines[:0]
	b.src = nil
	if cap(b.lines) > 4*e.opts.BlockMaxLines {
		b.lines = nil
	}
	e.free = append(e.free, b)
}

// addState counts one more goroutine in state.
func (x *extra) addState(state string) {
	for i := range x.states {
		s := &x.states[i]
		if s.n > 0 && s.state == state {
			s.n++
			return
		}
	}
	for i := range x.states {
		s := &x.states[i]
		if s.n == 0 {
			if s.state != state {
				s.state = strings.Clone(state)
			}
			s.n = 1
			return
		}
	}
	x.other++
}

// procHash identifies a procid without keeping its string.
func procHash(procid string) uint64 { return xxhash.Sum64String(procid) }
