package dedupe

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/floodgate/floodgate"
)

// minCyclePeriod is the shortest cycle folded: two units that alternate
// are two repeats (each counted under its own pattern), not a cycle, since
// a cycle's summary stands for all its units under one fingerprint.
const minCyclePeriod = 3

// cycleSeed sets cycle fingerprints apart from line and block ones.
const cycleSeed = 0x9e3779b97f4a7c15

// source is the state of one (host, app) source: its unit history for
// cycle detection and the cycle it is in, if any.
type source struct {
	key       uint64
	host, app string
	blocks    int // streams of this source assembling a block

	// hist is a ring of the last units; runs[p] counts how many units in
	// a row equalled the unit p places before them, so a cycle of period
	// p shows as runs[p] >= p (two whole periods).
	hist  []unit
	hs    []uint64 // the units' hashes, hs[i] == hist[i].h: push reads only these
	n     int
	runs  []uint16
	cycle *pattern // the cycle being counted, nil when none
	seq   []uint64 // the cycle's units, in order
	phase int      // the index in seq of the unit expected next

	restartUnit string // the last systemd unit this source reported restarting

	// The last single line of the source, for runs of indented lines:
	// its pattern hash (0: none), procid hash and pipeline time.
	lastLine, lastProc uint64
	lastAt             time.Time

	// written caches templates known to have been written for the source,
	// direct-mapped, so that block lines skip the pattern table. Having
	// been written stays true when the pattern is evicted, so the cache
	// never needs invalidating.
	written *[64]uint64
}

func (s *source) wasWritten(tmpl uint64) bool {
	return s.written != nil && s.written[tmpl&63] == tmpl
}

func (s *source) noteWritten(tmpl uint64) {
	if s.written == nil {
		s.written = new([64]uint64)
	}
	s.written[tmpl&63] = tmpl
}

// unit is one element of a source's sequence: a line or a block.
type unit struct {
	h       uint64
	lines   int32 // a block's lines (at most BlockMaxLines)
	single  bool  // a line, not a block
	known   bool  // its pattern was written and seen within the window
	counted bool  // counted into a repeat summary (and so transferable)
	restart bool  // a systemd restart line
	// seq and size of a single line's message, for an Observer.
	seq  uint64
	size int32
}

// push appends u to the history and returns the smallest period p
// (1 <= p <= max) that the last 2p units repeat with, or 0.
func (s *source) push(u unit, maxP int) int {
	if s.hist == nil {
		size := 1
		for size <= maxP {
			size <<= 1
		}
		s.hist = make([]unit, size)
		s.hs = make([]uint64, size)
		s.runs = make([]uint16, maxP+1)
	}
	mask := len(s.hist) - 1
	lim := min(maxP, s.n)
	lock := 0
	hs, runs := s.hs, s.runs[:lim+1]
	for p := 1; p < len(runs); p++ {
		if hs[(s.n-p)&mask] == u.h {
			if runs[p] < 0xffff {
				runs[p]++
			}
			if lock == 0 && int(runs[p]) >= p {
				lock = p
			}
		} else {
			runs[p] = 0
		}
	}
	s.hist[s.n&mask] = u
	hs[s.n&mask] = u.h
	s.n++
	return lock
}

// follow reports whether a unit with hash h continues the source's cycle
// and advances its phase. A cycle stands for repetitions of its sequence:
// a unit out of phase ends it, so lines that merely alternate (OK and
// FAILED, UP and DOWN) are never counted as one cycle. A long cycle may
// skip a few units, as when lines are lost on the way; a restart loop
// (loop: systemd said it restarts a unit) re-phases at any of its units,
// as when a capture was pasted out of order: its lines are systemd's own.
func (s *source) follow(h uint64, loop bool) bool {
	p := len(s.seq)
	if s.seq[s.phase] == h {
		s.phase = (s.phase + 1) % p
		return true
	}
	if p < minRephasePeriod {
		return false
	}
	skip := p / 4
	if loop {
		skip = p - 1
	}
	for i := 1; i <= skip; i++ {
		j := (s.phase + i) % p
		if s.seq[j] == h {
			s.phase = (j + 1) % p
			return true
		}
	}
	return false
}

// minRephasePeriod is the shortest cycle that may skip units, a quarter
// of its period at the most.
const minRephasePeriod = 5

// cycleLike reports whether the last p units, which repeat, make a cycle
// worth folding as one: a crash loop, where systemd restarts a unit or a
// block (a stack trace, a config dump) is printed every time, of p
// different units (a restart loop's lines are all different; "Failed,
// Accepted, Failed" is two patterns that happen to alternate), seen three
// times over when the cycle is short. Other lines that recur together (a
// link going down and up) are folded as repeats, each under its own
// fingerprint: a cycle's summary stands for all its lines under one, and
// that must never join two lines that differ in a word that carries
// meaning.
func (s *source) cycleLike(p int) bool {
	if p < minRephasePeriod && int(s.runs[p]) < 2*p {
		return false
	}
	crash := false
	for i := range p {
		v := s.back(i)
		crash = crash || v.restart || !v.single
		for j := range i {
			if v.h == s.back(j).h {
				return false
			}
		}
	}
	return crash
}

// back returns the unit i places before the newest (0 is the newest).
func (s *source) back(i int) *unit {
	return &s.hist[(s.n-1-i)&(len(s.hist)-1)]
}

// cycleStep feeds one unit (a line, or a block of n lines) to the cycle
// detector of src. It returns true when the unit was counted into a
// cycle; otherwise the caller writes or counts it as usual.
func (e *Engine) cycleStep(now time.Time, src *source, u unit, m *floodgate.Message, n int64, first time.Time, restartUnit string) bool {
	maxP := e.opts.CycleMaxPeriod
	if c := src.cycle; c != nil {
		if !c.dead && u.known && now.Sub(c.seen) <= e.opts.Window && src.follow(u.h, c.x.unit != "") {
			u.counted = false
			src.push(u, maxP)
			e.countCycle(c, now, m, n, first, u.restart, src, true)
			return true
		}
		src.cycle = nil
	}
	u.counted = u.known && (!u.single || e.opts.Repeats)
	p := src.push(u, maxP)
	if p < minCyclePeriod || !u.known || !src.cycleLike(p) {
		return false
	}
	// Two whole periods seen: fold from here on, as a cycle whose
	// fingerprint does not depend on the phase it was caught in.
	start := 0
	for i := 1; i < p; i++ {
		if src.back(i).h < src.back(start).h {
			start = i
		}
	}
	var d xxhash.Digest
	d.Reset()
	var b [8]byte
	var lines int64
	for i := range p {
		v := src.back((start - i + p) % p)
		for j := range b {
			b[j] = byte(v.h >> (8 * j))
		}
		d.Write(b[:])
		lines += int64(max(v.lines, 1))
	}
	key := patternKey{src.key, d.Sum64() ^ cycleSeed}
	c, ok := e.patterns.Get(key)
	if !ok {
		c = e.addPattern(key, floodgate.Cycle, src, now)
		c.x = &extra{period: p}
		if e.opts.Observer != nil {
			c.readTpl = e.cycleTemplate(src, start, p, lines)
		}
	}
	c.x.period = p
	c.x.cycleLines = lines
	// The units since the first period were counted as repeats: move
	// them into the cycle, so that the cycle stands for them too.
	for i := 1; i < min(int(src.runs[p]), src.n-p, len(src.hist)-1); i++ {
		v := src.back(i)
		if !v.counted || !v.single {
			continue
		}
		v.counted = false
		rp, ok := e.patterns.Peek(patternKey{src.key, v.h})
		if !ok || rp.dead || rp.count == 0 {
			continue
		}
		e.moveOne(rp, c, now, m, v, src)
	}
	src.back(0).counted = false
	e.countCycle(c, now, m, n, first, u.restart, src, true)
	src.cycle = c
	src.seq = src.seq[:0]
	for i := p - 1; i >= 0; i-- {
		src.seq = append(src.seq, src.back(i).h)
	}
	src.phase = 0 // the unit just counted ends a period
	return true
}

// moveOne moves the message of unit v, counted as a repeat of rp, into
// cycle c.
func (e *Engine) moveOne(rp, c *pattern, now time.Time, m *floodgate.Message, v *unit, src *source) {
	last := rp.last
	rp.count--
	if k := len(rp.held); k > 0 {
		// Held: hand its copy over (the one of v's message, or the last).
		i := k - 1
		for j := range rp.held {
			if v.seq != 0 && rp.held[j].Seq == v.seq {
				i = j
			}
		}
		hm := rp.held[i]
		rp.held = slices.Delete(rp.held, i, i+1)
		e.copies -= len(hm.Text)
		if !e.take(c, &hm) {
			e.takeUnheld(c, &hm, 1)
		}
		e.countCycle(c, now, m, 1, last, v.restart, src, false)
		return
	}
	if c.count+1 <= holdMax {
		c.unheld = true
	}
	// It was told counted into rp: it is the cycle's now.
	e.counted(c, &floodgate.Message{Seq: v.seq, Size: int(v.size)})
	e.countCycle(c, now, m, 1, last, v.restart, src, false)
}

// countCycle counts n messages into cycle c, the last of them m; take says
// whether m (a single line) still needs holding (take).
func (e *Engine) countCycle(c *pattern, now time.Time, m *floodgate.Message, n int64, first time.Time, restart bool, src *source, take bool) {
	if take {
		if n != 1 || !e.take(c, m) {
			e.takeUnheld(c, m, n)
		}
	}
	e.count(c, now, m, n, first)
	if restart {
		c.x.restarts++
		if c.x.unit != src.restartUnit {
			c.x.unit = src.restartUnit
		}
	}
}

// loopKey identifies a systemd unit on a host.
type loopKey struct {
	host, unit string
}

// loopState is a RestartLoop with the engine's bookkeeping.
type loopState struct {
	RestartLoop
	seen       time.Time // pipeline clock at the last restart
	reported   time.Time // pipeline clock at the last OnRestartLoop call
	recognised bool
}

// loopMinRestarts is how many restarts, each within the window of the
// previous, make a restart loop.
const loopMinRestarts = 3

// maxLoops bounds the units tracked; the quietest is forgotten first.
const maxLoops = 1024

// noteSystemd recognises systemd's restart-loop messages, in the old
// wording ("Service hold-off time over, scheduling restart.") and the new
// ("Scheduled restart job, restart counter is at 5.", "Start request
// repeated too quickly."), and the exit status it reports. It returns the
// unit when r is a restart.
func (e *Engine) noteSystemd(now time.Time, src *source, r *floodgate.Record) string {
	if r.App != "systemd" {
		return ""
	}
	unitName, msg, ok := strings.Cut(r.Text, ": ")
	if !ok || strings.IndexByte(unitName, '.') < 0 || strings.IndexByte(unitName, ' ') >= 0 {
		return ""
	}
	const (
		restart = iota + 1
		gaveUp
		exited
	)
	ev := 0
	switch {
	case strings.HasPrefix(msg, "Service hold-off time over, scheduling restart"),
		strings.HasPrefix(msg, "Scheduled restart job"):
		ev = restart
	case strings.HasPrefix(msg, "Start request repeated too quickly"):
		ev = gaveUp
	case strings.HasPrefix(msg, "Main process exited, "):
		ev = exited
	default:
		return ""
	}
	ls := e.loops[loopKey{r.Host, unitName}]
	if ls == nil {
		if len(e.loops) >= maxLoops {
			var quiet loopKey
			var q *loopState
			for k, v := range e.loops {
				if q == nil || v.seen.Before(q.seen) {
					quiet, q = k, v
				}
			}
			delete(e.loops, quiet)
		}
		ls = &loopState{RestartLoop: RestartLoop{Host: strings.Clone(r.Host), Unit: strings.Clone(unitName)}}
		e.loops[loopKey{ls.Host, ls.Unit}] = ls
	}
	switch ev {
	case exited:
		if i := strings.Index(msg, "status="); i >= 0 {
			st := msg[i+len("status="):]
			if j := strings.IndexAny(st, ", "); j >= 0 {
				st = st[:j]
			}
			if st != ls.ExitStatus {
				ls.ExitStatus = strings.Clone(st)
			}
		}
		return ""
	case gaveUp:
		ls.GaveUp = true
		if ls.Restarts > 0 && !ls.recognised {
			ls.recognised = true
			e.report(now, ls)
		}
		return ""
	}
	if ls.Restarts > 0 && now.Sub(ls.seen) > e.opts.Window {
		ls.Restarts, ls.recognised, ls.GaveUp = 0, false, false
	}
	ls.Restarts++
	if ls.Restarts == 1 {
		ls.First = r.Time
	}
	ls.Last = r.Time
	ls.seen = now
	if !ls.recognised && ls.Restarts >= loopMinRestarts {
		ls.recognised = true
		e.report(now, ls)
	}
	if src.restartUnit != ls.Unit {
		src.restartUnit = ls.Unit
	}
	return ls.Unit
}

func (e *Engine) report(now time.Time, ls *loopState) {
	ls.reported = now
	if e.opts.OnRestartLoop != nil {
		e.opts.OnRestartLoop(ls.RestartLoop)
	}
}

// tickLoops reports continuing loops every flush interval and forgets
// loops quiet for the window.
func (e *Engine) tickLoops(now time.Time) {
	for k, ls := range e.loops {
		switch {
		case now.Sub(ls.seen) > e.opts.Window:
			delete(e.loops, k)
		case ls.recognised && now.Sub(ls.reported) >= e.opts.Flush:
			e.report(now, ls)
		}
	}
}

// restartLoops returns the restart loops going on now, by host and unit.
// Call it only from the goroutine that owns the engine.
func (e *Engine) restartLoops() []RestartLoop {
	var out []RestartLoop
	for _, ls := range e.loops {
		if ls.recognised {
			out = append(out, ls.RestartLoop)
		}
	}
	sortLoops(out)
	return out
}

// cycleTemplate describes a cycle for people: its length and the templates
// of its first units, as far as the pattern table still knows them.
func (e *Engine) cycleTemplate(src *source, start, p int, lines int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "a %d-line cycle:", lines)
	for i := range min(p, 3) {
		v := src.back((start - i + p) % p)
		if up, ok := e.patterns.Peek(patternKey{src.key, v.h}); ok && up.readTpl != "" {
			if i > 0 {
				b.WriteString(" |")
			}
			b.WriteString(" ")
			b.WriteString(up.readTpl)
		}
	}
	if p > 3 {
		b.WriteString(" | …")
	}
	return b.String()
}
