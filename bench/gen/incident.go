package gen

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
)

// IncidentConfig shapes the flood of docs/incident.md: dockerd printing
// goroutine dumps into syslog while systemd restarts protokube forever.
// Zero fields take DefaultIncident's values, so a caller sets only what it
// varies.
type IncidentConfig struct {
	// Seed makes the flood reproducible: the same config gives the same
	// bytes.
	Seed int64
	// Messages is how many messages the flood has in all.
	Messages int
	// Start is the timestamp of the first message.
	Start time.Time
	// Hosts is how many sick nodes flood at once, each with its own
	// dockerd, dumps and restart loop (the incident had one); two healthy
	// nodes add background traffic.
	Hosts int
	// GoroutinesPerDump is how many goroutines one dump prints.
	GoroutinesPerDump int
	// Stacks is how many distinct stacks the goroutines of a dump share.
	Stacks int
	// DumpEvery is the time from the start of one dump to the next (the
	// callers that triggered them polled every few seconds).
	DumpEvery time.Duration
	// RestartEvery is the period of the systemd restart loop.
	RestartEvery time.Duration
	// BackgroundEvery puts one templated background line (cron, sshd,
	// kubelet, kernel ...) in every BackgroundEvery messages; negative for
	// none.
	BackgroundEvery int
}

// DefaultIncident returns the incident at a size that makes a benchmark:
// a million messages, dumps of 3,000 goroutines sharing 5 stacks every
// 5 s, the 9-line protokube restart cycle every 2 s, and one background
// line in 1,000.
func DefaultIncident() IncidentConfig {
	return IncidentConfig{
		Seed:              1,
		Messages:          1_000_000,
		Start:             time.Date(2018, time.September, 11, 1, 23, 58, 0, time.UTC),
		Hosts:             1,
		GoroutinesPerDump: 3000,
		Stacks:            5,
		DumpEvery:         5 * time.Second,
		RestartEvery:      2 * time.Second,
		BackgroundEvery:   1000,
	}
}

func (c IncidentConfig) withDefaults() IncidentConfig {
	d := DefaultIncident()
	if c.Messages <= 0 {
		c.Messages = d.Messages
	}
	if c.Start.IsZero() {
		c.Start = d.Start
	}
	if c.Hosts <= 0 {
		c.Hosts = d.Hosts
	}
	if c.GoroutinesPerDump <= 0 {
		c.GoroutinesPerDump = d.GoroutinesPerDump
	}
	if c.Stacks <= 0 {
		c.Stacks = d.Stacks
	}
	if c.DumpEvery <= 0 {
		c.DumpEvery = d.DumpEvery
	}
	if c.RestartEvery <= 0 {
		c.RestartEvery = d.RestartEvery
	}
	if c.BackgroundEvery == 0 {
		c.BackgroundEvery = d.BackgroundEvery
	}
	return c
}

// stack is a stackDef compiled for rendering.
type stack struct {
	state   string
	minutes bool
	frames  []frame
	created frame // fn empty: the goroutine has no "created by" (goroutine 1)
	lines   int
}

type frame struct {
	call tmpl   // "pkg.func(args)"
	fn   string // for "created by"
	loc  string // "#011/path/file.go:NN +0x"
	off  uint32
}

// buildStacks returns n distinct stacks: the library first, then variants
// whose deepest docker frame is renamed with a word (not a number, which a
// fingerprint would mask) and moved to another line.
func buildStacks(n int) ([]stack, []int) {
	out := make([]stack, 0, n)
	weights := make([]int, 0, n)
	for i := 0; i < n; i++ {
		def := stackLibrary[i%len(stackLibrary)]
		v := i / len(stackLibrary)
		s := stack{state: def.state, minutes: def.minutes}
		for j, f := range def.frames {
			fn, file := f.fn, f.file
			if v > 0 && j == len(def.frames)-1 {
				fn, file = variant(fn, file, v)
			}
			s.frames = append(s.frames, frame{call: compile(fn), loc: "#011" + file + " +0x", off: f.off})
		}
		if def.created.fn != "" {
			s.created = frame{fn: "created by " + def.created.fn, loc: "#011" + def.created.file + " +0x", off: def.created.off}
		}
		s.lines = 1 + 2*len(s.frames)
		if s.created.fn != "" {
			s.lines += 2
		}
		out = append(out, s)
		w := def.weight
		if v > 0 {
			w = max(1, w/(v+1))
		}
		weights = append(weights, w)
	}
	return out, weights
}

// variant renames fn (before its argument list) with the word for v and
// shifts the line of file by v.
func variant(fn, file string, v int) (string, string) {
	paren := len(fn)
	for i := range len(fn) {
		if fn[i] == '(' && i > 0 && fn[i-1] != '.' {
			paren = i
			break
		}
	}
	w := appendWord(nil, uint64(v))
	w[0] -= 'a' - 'A'
	fn = fn[:paren] + string(w) + fn[paren:]
	colon := len(file)
	for i := len(file) - 1; i >= 0; i-- {
		if file[i] == ':' {
			colon = i
			break
		}
	}
	line, _ := strconv.Atoi(file[colon+1:])
	return fn, file[:colon+1] + strconv.Itoa(line+7*v)
}

// restartLine is one line of the protokube restart cycle and its delay
// from the start of the cycle.
type restartLine struct {
	at     time.Duration
	docker bool // logged by the new docker[PID], not systemd[1]
	sev    floodgate.Severity
	text   string
}

var restartCycle = [...]restartLine{
	{0, false, floodgate.Notice, "protokube.service: Service hold-off time over, scheduling restart."},
	{2 * time.Millisecond, false, floodgate.Info, "Stopped Kubernetes Protokube Service."},
	{3 * time.Millisecond, false, floodgate.Info, "Starting Kubernetes Protokube Service..."},
	{5 * time.Millisecond, false, floodgate.Info, "Started Kubernetes Protokube Service."},
	{60 * time.Millisecond, true, floodgate.Info, "/usr/bin/docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?."},
	{61 * time.Millisecond, true, floodgate.Info, "See '/usr/bin/docker run --help'."},
	{90 * time.Millisecond, false, floodgate.Notice, "protokube.service: Main process exited, code=exited, status=125/n/a"},
	{91 * time.Millisecond, false, floodgate.Notice, "protokube.service: Unit entered failed state."},
	{91 * time.Millisecond, false, floodgate.Warning, "protokube.service: Failed with result 'exit-code'."},
}

// sickHost is the state of one flooding node: where its dump and its
// restart cycle are.
type sickHost struct {
	name       string
	dockerdPID string

	dumpAt    time.Time // next dump line (dumping) or next dump start
	dumpStart time.Time // start of the current dump
	dumping   bool
	left      int    // goroutines left in the dump, the current one included
	gid       uint64 // current goroutine id
	cur       *stack
	li        int // next line of the current goroutine
	delta     uint32

	cycleAt   time.Time // start of the current cycle
	ci        int       // next line of the cycle
	dockerPID int
	dockerStr string
}

type incident struct {
	c       IncidentConfig
	r       *rand.Rand
	a       arena
	buf     []byte
	n       int
	now     time.Time
	boot    time.Time
	gap     time.Duration // between lines of a dump
	stacks  []stack
	cum     []int // cumulative weights of stacks
	hosts   []sickHost
	bgHosts []string
	bg      *background
}

// NewIncident returns the generator of c's flood. Messages come in
// timestamp order: per host a dump spreads its lines over at most half of
// DumpEvery, the restart cycle's nine lines over 91 ms, and background
// lines take the time of the message they follow.
func NewIncident(c IncidentConfig) Generator {
	c = c.withDefaults()
	g := &incident{c: c, r: newRand(c.Seed), buf: make([]byte, 0, 512)}
	g.stacks, g.cum = buildStacks(c.Stacks)
	sum := 0
	lines := 0
	for i, w := range g.cum {
		sum += w
		lines += w * g.stacks[i].lines
		g.cum[i] = sum
	}
	perDump := c.GoroutinesPerDump * lines / sum
	g.gap = min(20*time.Microsecond, c.DumpEvery/2/time.Duration(perDump+1))
	g.gap = max(g.gap, time.Microsecond)
	g.now = c.Start
	g.boot = c.Start.Add(-37 * time.Minute)
	for i := range c.Hosts {
		name := "ip-10-18-39-" + strconv.Itoa(127+i)
		h := sickHost{
			name:       name,
			dockerdPID: strconv.Itoa(12436 + 97*i),
			dumpAt:     c.Start.Add(time.Duration(g.r.Int64N(int64(c.DumpEvery)))),
			cycleAt:    c.Start.Add(time.Duration(g.r.Int64N(int64(c.RestartEvery)))),
			dockerPID:  29354 + 1000*i,
		}
		h.dockerStr = strconv.Itoa(h.dockerPID)
		g.hosts = append(g.hosts, h)
		g.bgHosts = append(g.bgHosts, name)
	}
	g.bgHosts = append(g.bgHosts, "ip-10-18-40-12", "ip-10-18-41-200")
	g.bg = newBackground(g.bgHosts)
	return g
}

func (g *incident) Next(m *floodgate.Message) bool {
	if g.n >= g.c.Messages {
		return false
	}
	g.n++
	if g.c.BackgroundEvery > 0 && g.n%g.c.BackgroundEvery == 0 {
		g.buf = g.bg.next(g.buf[:0], g.r, m)
		m.Time = g.now
		m.Text = g.a.string(g.buf)
		finish(m)
		return true
	}
	// The host and stream with the earliest next line go first.
	bi, cycle := 0, false
	var best time.Time
	for i := range g.hosts {
		h := &g.hosts[i]
		if i == 0 || h.dumpAt.Before(best) {
			bi, cycle, best = i, false, h.dumpAt
		}
		if t := h.cycleAt.Add(restartCycle[h.ci].at); t.Before(best) {
			bi, cycle, best = i, true, t
		}
	}
	g.now = best
	h := &g.hosts[bi]
	if cycle {
		g.nextCycle(h, m)
	} else {
		g.nextDump(h, m)
	}
	m.Time = best
	finish(m)
	return true
}

func (g *incident) nextCycle(h *sickHost, m *floodgate.Message) {
	l := &restartCycle[h.ci]
	m.Host = h.name
	m.Facility = floodgate.Facility(3)
	m.Severity = l.sev
	m.Text = l.text
	if l.docker {
		m.App, m.ProcID = "docker", h.dockerStr
	} else {
		m.App, m.ProcID = "systemd", "1"
	}
	h.ci++
	if h.ci == len(restartCycle) {
		h.ci = 0
		h.cycleAt = h.cycleAt.Add(g.c.RestartEvery)
		h.dockerPID += 10 + g.r.IntN(15)
		h.dockerStr = strconv.Itoa(h.dockerPID)
	}
}

func (g *incident) nextDump(h *sickHost, m *floodgate.Message) {
	if !h.dumping {
		h.dumping = true
		h.dumpStart = h.dumpAt
		h.left = g.c.GoroutinesPerDump
		h.gid = uint64(2000 + g.r.IntN(1000))
		g.startGoroutine(h)
	}
	s := h.cur
	b := g.buf[:0]
	switch {
	case h.li == 0:
		b = append(b, "goroutine "...)
		b = strconv.AppendUint(b, h.gid, 10)
		b = append(b, " ["...)
		b = append(b, s.state...)
		if s.minutes {
			min := int(g.now.Sub(g.boot)/time.Minute) - g.r.IntN(3)
			b = append(b, ", "...)
			b = strconv.AppendInt(b, int64(max(1, min)), 10)
			b = append(b, " minutes"...)
		}
		b = append(b, "]:"...)
	case h.li <= 2*len(s.frames):
		f := &s.frames[(h.li-1)/2]
		if h.li%2 == 1 {
			b = f.call.render(b, g.r)
		} else {
			b = append(b, f.loc...)
			b = strconv.AppendUint(b, uint64(f.off+h.delta), 16)
		}
	case h.li == 2*len(s.frames)+1:
		b = append(b, s.created.fn...)
	default:
		b = append(b, s.created.loc...)
		b = strconv.AppendUint(b, uint64(s.created.off+h.delta), 16)
	}
	g.buf = b
	m.Host, m.App, m.ProcID = h.name, "dockerd", h.dockerdPID
	m.Facility, m.Severity = floodgate.Facility(3), floodgate.Info
	m.Text = g.a.string(b)
	h.li++
	h.dumpAt = h.dumpAt.Add(g.gap)
	if h.li < s.lines {
		return
	}
	h.left--
	if h.left > 0 {
		g.startGoroutine(h)
		return
	}
	// The next dump starts DumpEvery after this one started, or right
	// after it when this one ran longer than that.
	h.dumping = false
	if next := h.dumpStart.Add(g.c.DumpEvery); next.After(h.dumpAt) {
		h.dumpAt = next
	}
}

func (g *incident) startGoroutine(h *sickHost) {
	x := g.r.IntN(g.cum[len(g.cum)-1])
	i := 0
	for g.cum[i] <= x {
		i++
	}
	h.cur = &g.stacks[i]
	h.li = 0
	h.gid += 1 + uint64(g.r.IntN(3))
	h.delta = uint32(g.r.IntN(4)) * 4
}

// finish fills what every generator's message has in common: the format
// the text is in (rsyslog's, with #011 escapes) and its size as a
// traditional line, which budgets charge.
func finish(m *floodgate.Message) {
	m.Syntax = floodgate.SyntaxTraditional
	m.MsgID = ""
	m.StructuredData = ""
	m.Input = ""
	m.Size = 16 + len(m.Host) + 1 + len(m.App) + 2 + len(m.Text)
	if m.ProcID != "" {
		m.Size += len(m.ProcID) + 2
	}
}
