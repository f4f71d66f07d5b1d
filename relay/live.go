package relay

import (
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/dedupe"
)

// The live table: what the relay has seen lately, per source (host, app)
// and per pattern (fingerprint), for /api/v1/ and `floodgate top`.
//
// Each shard keeps its own part (liveShard) and only the shard's
// goroutine touches it: a head stage counts what arrives, the stages'
// Observer says what became of it (written, folded, suppressed), and a
// tap after dedupe lends the text of the first written line of a pattern
// as its exemplar. On every tick the shard copies its tables, under a
// lock held only for the copy, into a published snapshot. The liveTable
// merges those snapshots on request and once a second, when it also keeps
// per-second history (rates, sparklines) and the per-source metrics.
//
// Memory is bounded: a shard's tables hold at most its share of
// liveCapTotal rows each;
// when one is full, the half that sent the fewest bytes lately (and in
// all) is rolled up into the shard's "other", so a new flood always finds
// room and the totals stay whole.

// liveCounts are a row's cumulative counts.
type liveCounts struct {
	Messages   int64 // received
	Bytes      int64 // received
	Written    int64 // written verbatim
	Folded     int64 // counted into a dedupe summary
	Suppressed int64 // withheld by a budget or the disk guard
	// First and Last are the pipeline's clock when the first and the last
	// message arrived.
	First, Last time.Time
	mark        int64 // Bytes at the last pruning
}

func (c *liveCounts) add(o *liveCounts) {
	c.Messages += o.Messages
	c.Bytes += o.Bytes
	c.Written += o.Written
	c.Folded += o.Folded
	c.Suppressed += o.Suppressed
	if !o.First.IsZero() && (c.First.IsZero() || o.First.Before(c.First)) {
		c.First = o.First
	}
	if o.Last.After(c.Last) {
		c.Last = o.Last
	}
}

// score ranks a row for pruning: the bytes it sent since the last
// pruning, plus a sixteenth of all it sent, so that a flood that has
// just paused keeps its row against a crowd of newcomers.
func (c *liveCounts) score() int64 { return c.Bytes - c.mark + c.Bytes/16 }

func (c *liveCounts) seen(now time.Time) {
	if c.First.IsZero() {
		c.First = now
	}
	c.Last = now
}

type liveSource struct {
	Host, App string
	liveCounts
	// told remembers the last messages told counted into a repeat, so
	// that when dedupe moves them into a cycle it has just recognised
	// (telling their fate again) they are moved, not counted twice.
	told *toldRing
}

// toldRing holds enough for a cycle of 16 lines whose patterns each
// release three held copies on the way (a longer cycle may count a few
// of its first messages twice in the table).
type toldRing struct {
	seq [64]uint64
	pat [64]*livePattern
	n   int
}

func (t *toldRing) add(seq uint64, p *livePattern) {
	i := t.n % len(t.seq)
	t.seq[i], t.pat[i] = seq, p
	t.n++
}

// take returns and forgets the pattern seq was told counted into.
func (t *toldRing) take(seq uint64) *livePattern {
	for i, v := range t.seq {
		if v == seq {
			t.seq[i] = 0
			return t.pat[i]
		}
	}
	return nil
}

type livePattern struct {
	FP       string
	Kind     floodgate.Kind
	Template string
	Exemplar string
	// Host and App are the first source the pattern was seen from.
	Host, App string
	liveCounts
}

// maxExemplar bounds an exemplar's bytes.
const maxExemplar = 240

// clip returns a copy of at most maxExemplar bytes of s, cut at a rune.
func clip(s string) string {
	if len(s) > maxExemplar {
		n := maxExemplar
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return strings.Clone(s)
}

// liveShard is one shard's part of the live table.
type liveShard struct {
	cap int

	// Owned by the shard's goroutine.
	now    time.Time
	cur    *liveSource // the source of the message being handled
	recent [64]*liveSource
	curPat *livePattern
	pend   bool // a budget dropped the line a stage after it is about to call written
	// lastWritten is the last line told written, which a budget after
	// dedupe may drop next: its Seq, pattern and source.
	lastWritten struct {
		seq uint64
		p   *livePattern
		src *liveSource
	}
	dirty    bool
	lastPub  time.Time
	sources  map[[2]string]*liveSource
	patterns map[string]*livePattern
	byHash   map[uint64]*livePattern // without dedupe: patterns by hash
	// seen admits a pattern without dedupe on its second line: a hash
	// per slot, of the last new pattern that fell there. A flood of
	// unique lines then costs no row, string or allocation per line.
	seen     [4096]uint64
	srcOther liveCounts // sources pruned
	patOther liveCounts // patterns pruned
	total    liveCounts // everything, pruned or not
	scratch  []int64
	sampled  uint64 // lines liveLabels saw

	mu  sync.Mutex
	pub liveSnapshot
}

// liveSnapshot is a shard's tables as of its last tick.
type liveSnapshot struct {
	at       time.Time
	sources  []liveSource
	patterns []livePattern
	srcOther liveCounts
	patOther liveCounts
	total    liveCounts
}

func newLiveShard(capacity int) *liveShard {
	return &liveShard{
		cap:      max(capacity, 4),
		sources:  map[[2]string]*liveSource{},
		patterns: map[string]*livePattern{},
	}
}

var _ floodgate.Observer = (*liveShard)(nil)

// source returns the row of (host, app), making room for it if need be.
func (s *liveShard) source(host, app string) *liveSource {
	if c := s.cur; c != nil && c.Host == host && c.App == app {
		return c
	}
	// A few sources take turns in a shard: a small cache by a cheap hash
	// spares hashing both strings for the map.
	slot := &s.recent[cheapHash(host, app)%uint(len(s.recent))]
	if c := *slot; c != nil && c.Host == host && c.App == app {
		s.cur = c
		return c
	}
	k := [2]string{host, app}
	src := s.sources[k]
	if src == nil {
		if len(s.sources) >= s.cap {
			s.pruneSources()
		}
		src = &liveSource{Host: strings.Clone(host), App: strings.Clone(app)}
		s.sources[[2]string{src.Host, src.App}] = src
	}
	s.cur, *slot = src, src
	return src
}

func cheapHash(host, app string) uint {
	h := uint(len(host))*31 + uint(len(app))*17
	if n := len(host); n > 0 {
		h += uint(host[n-1]) + uint(host[n/2])*7
	}
	if n := len(app); n > 0 {
		h += uint(app[n-1]) * 3
	}
	return h
}

// arrive counts a message received, at the head of the chain.
func (s *liveShard) arrive(now time.Time, m *floodgate.Message) {
	s.now = now
	s.pend = false
	src := s.source(m.Host, m.App)
	src.Messages++
	src.Bytes += int64(m.Size)
	src.seen(now)
	s.total.Messages++
	s.total.Bytes += int64(m.Size)
	s.total.seen(now)
	s.dirty = true
}

// Observe takes a stage's word on a message's fate. Dedupe tells a line
// written before it passes it on, so a budget that drops the line tells
// next: its word moves the line from written to suppressed. (A budget's
// word that comes first, before a stage that tells afterwards, marks the
// written fate that follows as withheld instead.)
func (s *liveShard) Observe(f floodgate.Fate) {
	s.dirty = true
	src := s.source(f.Host, f.App)
	if f.Kind == floodgate.Suppressed {
		src.Suppressed++
		s.total.Suppressed++
		if lw := &s.lastWritten; f.Seq != 0 && lw.seq == f.Seq && lw.src == src {
			lw.p.Written--
			lw.p.Suppressed++
			src.Written--
			s.total.Written--
			lw.seq = 0
			return
		}
		s.pend = true
		return
	}
	p := s.curPat
	if p == nil || p.FP != f.FP {
		p = s.patterns[f.FP]
		if p == nil {
			p = s.newPattern(f.FP, f.Kind, f.Template, src)
		}
	}
	if !f.Verbatim && f.Seq != 0 {
		switch f.Kind {
		case floodgate.Repeat:
			if src.told == nil {
				src.told = &toldRing{}
			}
			src.told.add(f.Seq, p)
		case floodgate.Cycle:
			if src.told != nil {
				if rp := src.told.take(f.Seq); rp != nil {
					rp.Messages--
					rp.Bytes -= int64(f.Size)
					rp.Folded--
					s.curPat = p
					p.Messages++
					p.Bytes += int64(f.Size)
					p.Folded++
					p.seen(s.now)
					return
				}
			}
		}
	}
	if s.fate(p, src, f.Size, f.Verbatim) {
		s.lastWritten.seq, s.lastWritten.p, s.lastWritten.src = f.Seq, p, src
	}
}

func (s *liveShard) newPattern(fp string, kind floodgate.Kind, template string, src *liveSource) *livePattern {
	if len(s.patterns) >= s.cap {
		s.prunePatterns()
	}
	p := &livePattern{FP: fp, Kind: kind, Template: template, Host: src.Host, App: src.App}
	s.patterns[fp] = p
	return p
}

// fate counts a message of p and src and reports whether it counted it
// written.
func (s *liveShard) fate(p *livePattern, src *liveSource, size int, verbatim bool) bool {
	s.curPat = p
	p.Messages++
	p.Bytes += int64(size)
	p.seen(s.now)
	switch {
	case !verbatim:
		p.Folded++
		src.Folded++
		s.total.Folded++
		return false
	case s.pend:
		s.pend = false
		p.Suppressed++
		return false
	default:
		p.Written++
		src.Written++
		s.total.Written++
	}
	return true
}

// pruneSources rolls the half of the sources with the lowest score into
// srcOther.
func (s *liveShard) pruneSources() {
	pruneHalf(s, s.sources, &s.srcOther, func(v *liveSource) *liveCounts { return &v.liveCounts })
	s.cur = nil
	clear(s.recent[:])
}

// prunePatterns rolls the half of the patterns with the lowest score into
// patOther.
func (s *liveShard) prunePatterns() {
	pruneHalf(s, s.patterns, &s.patOther, func(v *livePattern) *liveCounts { return &v.liveCounts })
	for h, p := range s.byHash {
		if s.patterns[p.FP] != p {
			delete(s.byHash, h)
		}
	}
	s.curPat = nil
}

// pruneHalf rolls the rows of m that score at most the median into other,
// while more than half the shard's cap are left, and marks the bytes of
// the rows it keeps, so that their next score counts what came since.
func pruneHalf[K comparable, V any](s *liveShard, m map[K]V, other *liveCounts, counts func(V) *liveCounts) {
	s.scratch = s.scratch[:0]
	for _, v := range m {
		s.scratch = append(s.scratch, counts(v).score())
	}
	cut := s.median()
	for k, v := range m {
		c := counts(v)
		if c.score() <= cut && len(m) > s.cap/2 {
			other.add(c)
			delete(m, k)
			continue
		}
		c.mark = c.Bytes
	}
}

// median returns the median of the scores in scratch.
func (s *liveShard) median() int64 {
	slices.Sort(s.scratch)
	return s.scratch[len(s.scratch)/2]
}

// publish copies the tables into the snapshot readers take.
func (s *liveShard) publish(now time.Time) {
	if !s.dirty && !s.lastPub.IsZero() {
		return
	}
	s.dirty, s.lastPub = false, now
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &s.pub
	p.at = now
	p.sources = p.sources[:0]
	for _, v := range s.sources {
		p.sources = append(p.sources, *v)
	}
	p.patterns = p.patterns[:0]
	for _, v := range s.patterns {
		p.patterns = append(p.patterns, *v)
	}
	p.srcOther, p.patOther, p.total = s.srcOther, s.patOther, s.total
}

// liveHead is the first stage of a chain: it counts what arrives.
type liveHead struct {
	next floodgate.Handler
	s    *liveShard
}

func (h liveHead) Handle(now time.Time, r *floodgate.Record) {
	if r.Summary == nil && r.Syntax != floodgate.Internal {
		h.s.arrive(now, &r.Message)
	}
	h.next.Handle(now, r)
}

func (h liveHead) Tick(now time.Time, final bool) {
	h.s.now = now
	h.next.Tick(now, final)
	h.s.publish(now)
}

// liveTap sits after dedupe: the first line dedupe writes of a pattern,
// which it told written just before, becomes the pattern's exemplar.
type liveTap struct {
	next floodgate.Handler
	s    *liveShard
}

func (t liveTap) Handle(now time.Time, r *floodgate.Record) {
	t.next.Handle(now, r)
	// Dedupe told the line written before passing it on; unless a budget
	// dropped it since, its text is its pattern's exemplar.
	if lw := &t.s.lastWritten; r.Summary == nil && lw.seq != 0 && lw.seq == r.Seq && lw.p.Exemplar == "" {
		lw.p.Exemplar = clip(r.Text)
	}
}

func (t liveTap) Tick(now time.Time, final bool) { t.next.Tick(now, final) }

// liveLabels stands for dedupe where it is off: every message that
// reaches it is written, as an occurrence of its template. Like dedupe,
// it passes the message on before it tells the fate.
//
// Fingerprinting a line costs as much as the rest of the chain without
// dedupe, so only one line in labelSample is fingerprinted, and it stands
// for labelSample lines in its pattern's row: without dedupe the patterns
// are an estimate, the sources stay exact.
type liveLabels struct {
	next floodgate.Handler
	s    *liveShard
}

const labelSample = 16

func (l liveLabels) Handle(now time.Time, r *floodgate.Record) {
	l.next.Handle(now, r)
	if r.Summary != nil || r.Syntax == floodgate.Internal {
		return
	}
	s := l.s
	src := s.source(r.Host, r.App)
	dropped := s.pend // a budget's word came while next handled it
	s.pend = false
	if !dropped {
		src.Written++
		s.total.Written++
	}
	s.sampled++
	if s.sampled%labelSample != 0 {
		return
	}
	h := dedupe.Fingerprint(r.Text)
	p := s.byHash[h]
	if p == nil {
		if slot := &s.seen[h%uint64(len(s.seen))]; *slot != h {
			// A pattern's first line: other's, until it comes again.
			*slot = h
			weigh(&s.patOther, s.now, r.Size, dropped)
			return
		}
		fp := dedupe.FormatFP(h)
		if p = s.patterns[fp]; p == nil {
			p = s.newPattern(fp, floodgate.Repeat, dedupe.Template(r.Text), src)
		}
		if s.byHash == nil {
			s.byHash = map[uint64]*livePattern{}
		}
		s.byHash[h] = p
	}
	weigh(&p.liveCounts, s.now, r.Size, dropped)
	if p.Exemplar == "" && !dropped {
		p.Exemplar = clip(r.Text)
	}
}

// weigh counts a sampled line into c as labelSample lines.
func weigh(c *liveCounts, now time.Time, size int, dropped bool) {
	c.Messages += labelSample
	c.Bytes += labelSample * int64(size)
	c.seen(now)
	if dropped {
		c.Suppressed += labelSample
	} else {
		c.Written += labelSample
	}
}

func (l liveLabels) Tick(now time.Time, final bool) { l.next.Tick(now, final) }

// teeObserver tells two observers.
type teeObserver [2]floodgate.Observer

func (t teeObserver) Observe(f floodgate.Fate) {
	t[0].Observe(f)
	t[1].Observe(f)
}
