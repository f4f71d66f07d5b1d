package gen

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/floodgate/floodgate"
)

// The newer kinds (sshd, nginx, kubelet ...) share one engine, flood: a
// set of sources (a process on a host) that each emit events (one or
// several lines, such as an sshd connection or a crash with its stack
// trace) at times their behaviour chooses. Lines come from templates
// compiled once, whose Truth is known, so every message can say which
// template and which block it came from.

// line is one template of a flood, with its truth.
type line struct {
	t     tmpl
	app   string // the app that logs it; "": the source's
	truth string // app + ": " + template with "<*>" places
	alt   bool   // logged by the source's second process (pid2)
	sev   int8   // -1: the source's severity
	near  string // near-miss group
	free  bool
	// text, when set, renders the line instead of t (free text).
	text func(g *flood, s *source, dst []byte) []byte
}

// ln compiles a line of app.
func ln(app, spec string) *line {
	t := compile(spec)
	return &line{t: t, app: app, truth: app + ": " + t.truth(), sev: -1}
}

// param marks word as a parameter of l's template: a unit name that other
// lines of the source put at the same place in the same wording (as
// "docker-<id>.scope: Deactivated successfully." does), and so a place
// where many values turn up.
func (l *line) param(word string) *line {
	l.truth = strings.Replace(l.truth, word, "<*>", 1)
	return l
}

// lsev compiles a line of app logged at severity sev.
func lsev(app string, sev floodgate.Severity, spec string) *line {
	l := ln(app, spec)
	l.sev = int8(sev)
	return l
}

// lalt compiles a line of app, the source's second process.
func lalt(app, spec string) *line {
	l := ln(app, spec)
	l.alt = true
	return l
}

// blockDef is a multi-line block: lines that belong together (a stack
// trace), with the identity of its frames.
type blockDef struct {
	lines []*line
	tmpl  string
}

func newBlock(name string, lines ...*line) *blockDef {
	return &blockDef{lines: lines, tmpl: name}
}

// step is one line of an event being emitted.
type step struct {
	l     *line
	b     *blockDef // nil for a single line
	first bool      // the first line of a block instance
	alt   bool      // logged by the source's second process
	id    int       // when nonzero, put in slot 5 before the line renders
	gap   time.Duration
}

// source is one process on one host. Its behaviour plans its events.
type source struct {
	at    time.Time // when its next line is due
	start time.Time // when its current event started
	id    int       // breaks ties in time order

	host string
	app  string // of lines that do not name theirs
	pid  string
	pid2 string // of the second process's lines
	fac  floodgate.Facility
	sev  floodgate.Severity

	r     *rand.Rand // the source's own, so its events do not depend on others'
	steps []step
	si    int
	slots [16][]byte
	block uint64
	next  time.Duration // from the start of this event to the next one, before pacing

	b behaviour
}

// behaviour plans a source's events.
type behaviour interface {
	// event fills s.steps (emptied before the call), the slots its lines
	// use and s.next, for an event starting at s.at.
	event(g *flood, s *source)
}

// add appends a single line to the event, gap after the previous one.
func (s *source) add(l *line, gap time.Duration) {
	s.steps = append(s.steps, step{l: l, gap: gap})
}

// addBlock appends every line of b, gap apart.
func (s *source) addBlock(b *blockDef, gap time.Duration) {
	for i, l := range b.lines {
		s.steps = append(s.steps, step{l: l, b: b, first: i == 0, gap: gap})
	}
}

// addAlt appends a single line of the source's second process.
func (s *source) addAlt(l *line, gap time.Duration) {
	s.steps = append(s.steps, step{l: l, alt: true, gap: gap})
}

// addBlockAlt appends every line of b, from the second process.
func (s *source) addBlockAlt(b *blockDef, gap time.Duration) {
	for i, l := range b.lines {
		s.steps = append(s.steps, step{l: l, b: b, first: i == 0, alt: true, gap: gap})
	}
}

// set puts v in slot i.
func (s *source) set(i int, v string) {
	s.slots[i] = append(s.slots[i][:0], v...)
}

// setInt puts the decimal v in slot i.
func (s *source) setInt(i int, v int) {
	s.slots[i] = strconv.AppendInt(s.slots[i][:0], int64(v), 10)
}

// flood generates the messages of a set of sources in time order.
type flood struct {
	kind  string
	seed  uint64
	r     *rand.Rand
	a     arena
	buf   []byte
	n     int
	limit int
	// pace stretches (above 1) or shrinks the time between events, so a
	// flood of n messages spans the time it was asked to.
	pace  float64
	srcs  []*source // a min-heap by at, then id
	truth Truth
	block uint64
}

func newFlood(seed int64, n int) *flood {
	return &flood{r: newRand(seed), seed: uint64(seed), buf: make([]byte, 0, 1024), limit: n, pace: 1}
}

// addSource adds s, its first event starting within first of start.
func (g *flood) addSource(s *source, start time.Time, first time.Duration) {
	s.id = len(g.srcs)
	s.r = rand.New(rand.NewPCG(g.seed, uint64(s.id)+0x9e3779b97f4a7c15))
	s.at = start
	if first > 0 {
		s.at = start.Add(time.Duration(g.r.Int64N(int64(first))))
	}
	g.srcs = append(g.srcs, s)
	for i := len(g.srcs) - 1; i > 0; {
		p := (i - 1) / 2
		if !g.less(i, p) {
			break
		}
		g.srcs[i], g.srcs[p] = g.srcs[p], g.srcs[i]
		i = p
	}
}

func (g *flood) less(i, j int) bool {
	a, b := g.srcs[i], g.srcs[j]
	if a.at.Equal(b.at) {
		return a.id < b.id
	}
	return a.at.Before(b.at)
}

func (g *flood) down() {
	n := len(g.srcs)
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && g.less(r, l) {
			c = r
		}
		if !g.less(c, i) {
			return
		}
		g.srcs[i], g.srcs[c] = g.srcs[c], g.srcs[i]
		i = c
	}
}

// paced scales an inter-event delay by the flood's pace.
func (g *flood) paced(d time.Duration) time.Duration {
	if g.pace == 1 {
		return d
	}
	return time.Duration(float64(d) * g.pace)
}

// pacedGap scales a gap inside an event by the flood's pace when it is
// a wait of a second or more (a restart delay, a session's length), and
// keeps the short ones (the lines of a block) as they are.
func (g *flood) pacedGap(d time.Duration) time.Duration {
	if d < time.Second {
		return d
	}
	return g.paced(d)
}

func (g *flood) Next(m *floodgate.Message) bool {
	if g.n >= g.limit || len(g.srcs) == 0 {
		return false
	}
	g.n++
	s := g.srcs[0]
	if s.si >= len(s.steps) {
		s.steps, s.si, s.start = s.steps[:0], 0, s.at
		s.b.event(g, s)
	}
	st := &s.steps[s.si]
	l := st.l
	if st.id != 0 {
		s.setInt(5, st.id)
	}
	b := g.buf[:0]
	if l.text != nil {
		b = l.text(g, s, b)
	} else {
		b = l.t.renderSlots(b, s.r, &s.slots, s.at)
	}
	g.buf = b
	m.Time = s.at
	m.Host = s.host
	m.App, m.ProcID = l.app, s.pid
	if l.app == "" {
		m.App = s.app
	}
	if l.alt || st.alt {
		m.ProcID = s.pid2
	}
	m.Facility, m.Severity = s.fac, s.sev
	if l.sev >= 0 {
		m.Severity = floodgate.Severity(l.sev)
	}
	m.Text = g.a.string(b)
	finish(m)
	g.truth = Truth{Kind: g.kind, Template: l.truth, Free: l.free, NearMiss: l.near}
	if st.b != nil {
		if st.first {
			g.block++
			s.block = g.block
		}
		g.truth.Block, g.truth.BlockTemplate = s.block, st.b.tmpl
	}
	s.si++
	if s.si < len(s.steps) {
		s.at = s.at.Add(g.pacedGap(s.steps[s.si].gap))
	} else {
		next := s.start.Add(g.paced(s.next))
		if !next.After(s.at) {
			next = s.at.Add(time.Millisecond)
		}
		s.at = next
	}
	g.down()
	return true
}

// Truth describes the message the last Next produced.
func (g *flood) Truth() Truth { return g.truth }

// spanned sets g's pace so that its n messages span about span. A run
// lasts U + pace*S: waits scale with the pace, the short gaps inside
// events (U) do not. It runs copies of the flood, built by mk, for all
// its messages or a large sample of them, at pace 1 and at the pace that
// would be right if everything scaled, and solves for U and S.
func spanned(g *flood, span time.Duration, mk func() *flood) {
	if span <= 0 {
		return
	}
	sample := min(g.limit, 200_000)
	want := float64(span) * float64(sample) / float64(g.limit)
	d1 := probe(mk, sample, 1)
	if d1 <= 0 || sample < 2 {
		return
	}
	p1 := min(max(want/d1, 1e-4), 1e4)
	g.pace = p1
	if p1 > 0.95 && p1 < 1.05 {
		return
	}
	d2 := probe(mk, sample, p1)
	scaled := (d2 - d1) / (p1 - 1)
	fixed := d1 - scaled
	if scaled <= 0 || want <= fixed {
		return
	}
	g.pace = (want - fixed) / scaled
	// A flood too small to measure (a few events) must not be stretched
	// past what time.Duration holds.
	g.pace = min(max(g.pace, 1e-4), 1e4)
}

// probe returns how long, in nanoseconds, the first n messages of a
// flood built by mk last at pace p.
func probe(mk func() *flood, n int, p float64) float64 {
	f := mk()
	f.limit, f.pace = n, p
	var m floodgate.Message
	var first, last time.Time
	for i := 0; f.Next(&m); i++ {
		if i == 0 {
			first = m.Time
		}
		last = m.Time
	}
	return float64(last.Sub(first))
}

// pool draws values with a Zipf-like law: a few values most of the time,
// a long tail rarely, as user names, paths and addresses turn up in real
// logs. The weight of the k-th value is 1/(v+k)^s. It holds no random
// source of its own, so sources can share one pool and still draw from
// their own.
type pool struct {
	vals []string
	cdf  []float64
}

// newPool draws from vals, the earlier ones the more often; s above 1
// sets how steep (1.1: a long tail; 2: a few values dominate).
func newPool(s float64, vals []string) *pool {
	return newPoolV(s, 1, vals)
}

// newPoolV is newPool with the offset v: above 1, a flatter head.
func newPoolV(s, v float64, vals []string) *pool {
	return &pool{vals: vals, cdf: zipfCDF(s, v, len(vals))}
}

// cdfs caches the distributions pools share: floods are built several
// times over (probes), and each has pools of thousands of values.
var cdfs struct {
	sync.Mutex
	m map[[3]float64][]float64
}

// zipfCDF returns the cumulative distribution of n values weighted
// 1/(v+k)^s. The slice is shared: read only.
func zipfCDF(s, v float64, n int) []float64 {
	key := [3]float64{s, v, float64(n)}
	cdfs.Lock()
	defer cdfs.Unlock()
	if c, ok := cdfs.m[key]; ok {
		return c
	}
	c := make([]float64, n)
	sum := 0.0
	for k := range c {
		sum += math.Pow(v+float64(k), -s)
		c[k] = sum
	}
	for k := range c {
		c[k] /= sum
	}
	if cdfs.m == nil {
		cdfs.m = map[[3]float64][]float64{}
	}
	cdfs.m[key] = c
	return c
}

// index draws the index of a value.
func (p *pool) index(r *rand.Rand) int {
	x := r.Float64()
	i, _ := slices.BinarySearch(p.cdf, x)
	return min(i, len(p.vals)-1)
}

// pick draws a value.
func (p *pool) pick(r *rand.Rand) string { return p.vals[p.index(r)] }

// exp returns an exponentially distributed delay of mean d: the gaps of a
// Poisson process.
func exp(r *rand.Rand, d time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(d))
}

// between returns a delay uniformly in [lo, hi).
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// publicIPs returns n distinct addresses spread over the public IPv4
// space (no 10/8, 127/8 or multicast), as attackers and clients come from.
func publicIPs(r *rand.Rand, n int) []string {
	seen := make(map[uint32]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		v := r.Uint32()
		a := v >> 24
		if a == 0 || a == 10 || a == 127 || a >= 224 || a == 192 || a == 172 || a == 100 {
			continue
		}
		if seen[v] || v&0xff == 0 || v&0xff == 255 {
			continue
		}
		seen[v] = true
		b := strconv.AppendUint(nil, uint64(a), 10)
		for _, sh := range []uint{16, 8, 0} {
			b = append(b, '.')
			b = strconv.AppendUint(b, uint64(v>>sh&0xff), 10)
		}
		out = append(out, string(b))
	}
	return out
}

// shuffled returns vals in an order drawn from r, so a pool's most
// frequent values are not simply the first of a list.
func shuffled(r *rand.Rand, vals []string) []string {
	out := append([]string(nil), vals...)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// hostNames returns prefix-01 ... prefix-n.
func hostNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + "-" + strconv.Itoa(101 + i)[1:]
	}
	return out
}
