package gen

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// trad is contract-check's TRAD pattern: what a traditional line must be.
var trad = regexp.MustCompile(`^(?:<(\d{1,3})>)?([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) (\S+) ([^\s\[:]+)(?:\[([^\]]*)\])?: ?(.*)$`)

// generators returns a fresh generator of every kind, small enough for
// tests.
func generators(seed int64, n int) []struct {
	name string
	g    Generator
} {
	ic := DefaultIncident()
	ic.Seed, ic.Messages, ic.GoroutinesPerDump = seed, n, 50
	out := []struct {
		name string
		g    Generator
	}{
		{"incident", NewIncident(ic)},
		{"unique", NewUnique(seed, n)},
		{"java", NewJava(seed, n)},
		{"python", NewPython(seed, n)},
		{"mix", NewMix(seed, n)},
	}
	// The capture holds every newer kind: TestKindsDeterministic and the
	// Truth tests take them one by one.
	out = append(out, struct {
		name string
		g    Generator
	}{"capture", NewCapture(seed, n)})
	return out
}

func render(t *testing.T, g Generator, f Format) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, _, err := Write(&b, g, f); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

func collect(t *testing.T, g Generator) []floodgate.Message {
	t.Helper()
	var out []floodgate.Message
	var m floodgate.Message
	for g.Next(&m) {
		out = append(out, m)
	}
	return out
}

func TestDeterministicBySeed(t *testing.T) {
	a, b, c := generators(7, 3000), generators(7, 3000), generators(8, 3000)
	for i := range a {
		t.Run(a[i].name, func(t *testing.T) {
			x, y, z := render(t, a[i].g, RFC5424), render(t, b[i].g, RFC5424), render(t, c[i].g, RFC5424)
			if !bytes.Equal(x, y) {
				t.Errorf("same seed gave different floods")
			}
			if bytes.Equal(x, z) {
				t.Errorf("seeds 7 and 8 gave the same flood")
			}
		})
	}
}

func TestMessageCountAndTimeOrder(t *testing.T) {
	for _, tc := range generators(1, 5000) {
		t.Run(tc.name, func(t *testing.T) {
			ms := collect(t, tc.g)
			if len(ms) != 5000 {
				t.Fatalf("got %d messages, want 5000", len(ms))
			}
			for i := 1; i < len(ms); i++ {
				if ms[i].Time.Before(ms[i-1].Time) {
					t.Fatalf("message %d at %v goes back before %v", i, ms[i].Time, ms[i-1].Time)
				}
			}
			for i, m := range ms {
				if m.Host == "" || m.App == "" || m.Text == "" {
					t.Fatalf("message %d has an empty field: %+v", i, m)
				}
			}
		})
	}
}

// TestTraditionalShape parses every traditional line with contract-check's
// pattern and checks the fields come back.
func TestTraditionalShape(t *testing.T) {
	for _, tc := range generators(3, 4000) {
		t.Run(tc.name, func(t *testing.T) {
			ms := collect(t, tc.g)
			var buf []byte
			for i := range ms {
				buf = Append(buf[:0], &ms[i], Traditional)
				line := strings.TrimSuffix(string(buf), "\n")
				p := trad.FindStringSubmatch(line)
				if p == nil {
					t.Fatalf("line %d does not match TRAD: %q", i, line)
				}
				if p[5] != ms[i].Host || p[6] != ms[i].App || p[7] != ms[i].ProcID || p[8] != ms[i].Text {
					t.Fatalf("line %d parsed as host=%q app=%q pid=%q text=%q, want %+v", i, p[5], p[6], p[7], p[8], ms[i])
				}
				if got := ms[i].Time.Format("Jan _2 15:04:05"); p[2]+" "+strings.Repeat(" ", 2-len(p[3]))+p[3]+" "+p[4] != got {
					t.Fatalf("line %d stamp %q %q %q, want %q", i, p[2], p[3], p[4], got)
				}
				if ms[i].Size != len(line) {
					t.Fatalf("line %d: Size %d, line is %d bytes", i, ms[i].Size, len(line))
				}
			}
		})
	}
}

var (
	goHeader  = regexp.MustCompile(`^goroutine \d+ \[(runnable|IO wait|select|chan receive|semacquire)(, \d+ minutes)?\]:$`)
	goCall    = regexp.MustCompile(`^[\w./*()-]+\((0x[0-9a-f]+(, 0x[0-9a-f]+)*)?\)$`)
	goLoc     = regexp.MustCompile(`^#011/\S+\.(go|s):\d+ \+0x[0-9a-f]+$`)
	goCreated = regexp.MustCompile(`^created by [\w./*()-]+$`)
)

// dumpBlocks splits the dockerd lines of ms into goroutine blocks and
// returns each block's fingerprint as panicparse buckets stacks: function
// names and file:line, without ids, arguments, offsets or wait times.
func dumpBlocks(t *testing.T, ms []floodgate.Message) (fps []string, states map[string]bool) {
	t.Helper()
	states = map[string]bool{}
	args := regexp.MustCompile(`\(0x.*\)$|\(\)$`)
	var cur []string
	flush := func() {
		if cur != nil {
			fps = append(fps, strings.Join(cur, "|"))
		}
		cur = nil
	}
	for i, m := range ms {
		if m.App != "dockerd" {
			continue
		}
		switch {
		case goHeader.MatchString(m.Text):
			flush()
			cur = []string{}
			states[goHeader.FindStringSubmatch(m.Text)[1]] = true
		case cur == nil:
			t.Fatalf("message %d: %q outside a goroutine block", i, m.Text)
		case goLoc.MatchString(m.Text):
			cur = append(cur, m.Text[:strings.LastIndex(m.Text, " +0x")])
		case goCreated.MatchString(m.Text), goCall.MatchString(m.Text):
			cur = append(cur, args.ReplaceAllString(m.Text, ""))
		default:
			t.Fatalf("message %d: %q is no goroutine dump line", i, m.Text)
		}
	}
	// The last block may be cut short by the end of the flood: drop it.
	return fps, states
}

func TestIncidentDumps(t *testing.T) {
	tests := []struct {
		name   string
		stacks int
	}{
		{"one stack", 1},
		{"default five", 5},
		{"more than the library", 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultIncident()
			c.Messages, c.Stacks, c.GoroutinesPerDump = 10_000, tc.stacks, 800
			ms := collect(t, NewIncident(c))
			fps, states := dumpBlocks(t, ms)
			distinct := map[string]bool{}
			for _, fp := range fps {
				distinct[fp] = true
			}
			if len(distinct) != tc.stacks {
				t.Errorf("%d distinct stacks in %d goroutines, want %d", len(distinct), len(fps), tc.stacks)
			}
			if tc.stacks >= 5 && len(states) < 5 {
				t.Errorf("goroutine states %v, want all five", states)
			}
		})
	}
}

// TestIncidentSeedStack checks that the most common stack is the seed's,
// line for line once ids, arguments and offsets are masked.
func TestIncidentSeedStack(t *testing.T) {
	mask := regexp.MustCompile(`0x[0-9a-f]+|\d+`)
	seed := map[string]bool{}
	for _, l := range strings.Split(seedBlock, "\n") {
		seed[mask.ReplaceAllString(l, "N")] = true
	}
	c := DefaultIncident()
	c.Messages, c.BackgroundEvery = 10_000, -1
	n := 0
	for _, m := range collect(t, NewIncident(c)) {
		if m.App == "dockerd" && seed[mask.ReplaceAllString(m.Text, "N")] {
			n++
		}
	}
	if n < c.Messages/3 {
		t.Errorf("%d of %d dockerd lines are lines of the seed's stack, want most", n, c.Messages)
	}
}

const seedBlock = `goroutine 2648 [runnable]:
syscall.Syscall6(0x101, 0xffffffffffffff9c, 0xc457325700, 0x800c2, 0x180, 0x0, 0x0, 0xc9e, 0x800c2, 0x0)
#011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5
syscall.openat(0xffffffffffffff9c, 0xc457325680, 0x78, 0x800c2, 0xc400000180, 0x562a7619542f, 0xc457325680, 0x78)
#011/usr/local/go/src/syscall/zsyscall_linux_amd64.go:40 +0xcd
syscall.Open(0xc457325680, 0x78, 0x800c2, 0xc400000180, 0x562a76193b1f, 0xc4573dfbd8, 0x2)
#011/usr/local/go/src/syscall/syscall_linux.go:51 +0x50
os.OpenFile(0xc457325680, 0x78, 0xc2, 0xc400000180, 0x78, 0xc4277d4260, 0x1c)
#011/usr/local/go/src/os/file_unix.go:97 +0x80
io/ioutil.TempFile(0xc4574145b0, 0x5b, 0xc4573dfc50, 0x13, 0xe, 0xc4573dfc50, 0x13)
#011/usr/local/go/src/io/ioutil/tempfile.go:55 +0x159
github.com/docker/docker/pkg/ioutils.NewAtomicFileWriter(0xc4574145b0, 0x6a, 0x1a4, 0x0, 0x0, 0x0, 0x0)
#011/usr/src/docker/.gopath/src/github.com/docker/docker/pkg/ioutils/fswriters.go:14 +0xe2
github.com/docker/docker/container.(*Container).ToDisk(0xc42d53fe00, 0x0, 0x0)
#011/usr/src/docker/.gopath/src/github.com/docker/docker/container/container.go:155 +0xad
github.com/docker/docker/container.(*Container).ToDiskLocking(0xc42d53fe00, 0xc42d53fe00, 0xc43afc2780)
#011/usr/src/docker/.gopath/src/github.com/docker/docker/container/container.go:174 +0x3f
github.com/docker/docker/daemon.(*Daemon).restore.func1(0xc43afc2780, 0xc420329e00, 0xc43afc2778, 0xc43bb986c0, 0xc43bb98690, 0xc43bb98660, 0xc43afc2776, 0xc42d53fe00)
#011/usr/src/docker/.gopath/src/github.com/docker/docker/daemon/daemon.go:198 +0xbe
created by github.com/docker/docker/daemon.(*Daemon).restore
#011/usr/src/docker/.gopath/src/github.com/docker/docker/daemon/daemon.go:275 +0x78a`

// TestIncidentRestartLoop checks the restart cycle: nine lines in the
// seed's order, one cycle per RestartEvery, a new docker PID every cycle.
func TestIncidentRestartLoop(t *testing.T) {
	c := DefaultIncident()
	c.Messages, c.GoroutinesPerDump, c.BackgroundEvery = 100_000, 500, -1
	var cycle []floodgate.Message
	for _, m := range collect(t, NewIncident(c)) {
		if m.App == "systemd" || m.App == "docker" {
			cycle = append(cycle, m)
		}
	}
	if len(cycle) < 9*10 {
		t.Fatalf("only %d restart-loop lines", len(cycle))
	}
	pids := map[string]bool{}
	for i := 0; i+9 <= len(cycle); i += 9 {
		for j := range 9 {
			if got, want := cycle[i+j].Text, restartCycle[j].text; got != want {
				t.Fatalf("cycle line %d: %q, want %q", i+j, got, want)
			}
		}
		pids[cycle[i+4].ProcID] = true
		if cycle[i+4].ProcID != cycle[i+5].ProcID {
			t.Errorf("the two docker lines of a cycle have PIDs %s and %s", cycle[i+4].ProcID, cycle[i+5].ProcID)
		}
		if i >= 9 {
			if d := cycle[i].Time.Sub(cycle[i-9].Time); d != c.RestartEvery {
				t.Errorf("cycle %d starts %v after the previous, want %v", i/9, d, c.RestartEvery)
			}
		}
	}
	if len(pids) != len(cycle)/9 {
		t.Errorf("%d docker PIDs in %d cycles, want a new one every cycle", len(pids), len(cycle)/9)
	}
}

func TestIncidentBackgroundShare(t *testing.T) {
	c := DefaultIncident()
	c.Messages, c.GoroutinesPerDump = 100_000, 500
	hosts := map[string]bool{}
	bg := 0
	for _, m := range collect(t, NewIncident(c)) {
		if m.App != "dockerd" && m.App != "systemd" && m.App != "docker" {
			bg++
			hosts[m.Host] = true
		} else if m.App == "systemd" && strings.HasPrefix(m.Text, "Started Session") {
			bg++
		}
	}
	if bg != c.Messages/c.BackgroundEvery {
		t.Errorf("%d background lines, want %d", bg, c.Messages/c.BackgroundEvery)
	}
	if len(hosts) < 3 {
		t.Errorf("background from %d hosts, want a few", len(hosts))
	}
}

// TestUniquePatterns masks numbers and hex values the way a fingerprint
// does and checks that no two lines share a pattern.
func TestUniquePatterns(t *testing.T) {
	mask := regexp.MustCompile(`0x[0-9a-f]+|[0-9a-f]*\d[0-9a-f]*`)
	seen := map[string]int{}
	for i, m := range collect(t, NewUnique(5, 10_000)) {
		p := mask.ReplaceAllString(m.Text, "#")
		if j, ok := seen[p]; ok {
			t.Fatalf("lines %d and %d share the pattern %q", j, i, p)
		}
		seen[p] = i
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Format
		wantErr bool
	}{
		{"traditional", "traditional", Traditional, false},
		{"short traditional", "trad", Traditional, false},
		{"rfc3164", "RFC3164", RFC3164, false},
		{"rfc5424", "5424", RFC5424, false},
		{"octet", "octet", OctetCounted, false},
		{"rfc6587", "rfc6587", OctetCounted, false},
		{"unknown", "json", 0, true},
		{"empty", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFormat(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseFormat(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("ParseFormat(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if !tc.wantErr {
				if back, _ := ParseFormat(got.String()); back != got {
					t.Errorf("%v does not round-trip through its name", got)
				}
			}
		})
	}
}

func TestAppendEscapes(t *testing.T) {
	m := floodgate.Message{
		Time: time.Date(2018, 9, 9, 10, 2, 37, 0, time.UTC), Host: "h", App: "a", ProcID: "1",
		Facility: 3, Severity: 6, Text: "\tat x\x7f",
	}
	tests := []struct {
		name string
		f    Format
		want string
	}{
		{"traditional", Traditional, "Sep  9 10:02:37 h a[1]: #011at x#177\n"},
		{"rfc3164", RFC3164, "<30>Sep  9 10:02:37 h a[1]: #011at x#177\n"},
		{"rfc5424", RFC5424, "<30>1 2018-09-09T10:02:37.000000Z h a 1 - - #011at x#177\n"},
		{"octet keeps raw bytes", OctetCounted, "50 <30>1 2018-09-09T10:02:37.000000Z h a 1 - - \tat x\x7f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Append(nil, &m, tc.f)); got != tc.want {
				t.Errorf("Append = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRoundTrip renders every kind in every format and parses it back
// with the parser floodgate uses (go-syslog v4) or contract-check's
// pattern, checking that every field survives.
func TestRoundTrip(t *testing.T) {
	for _, f := range []Format{Traditional, RFC3164, RFC5424, OctetCounted} {
		for _, tc := range generators(11, 2000) {
			t.Run(f.String()+"/"+tc.name, func(t *testing.T) {
				ms := collect(t, tc.g)
				var b bytes.Buffer
				for i := range ms {
					b.Write(Append(nil, &ms[i], f))
				}
				got := parseCapture(t, b.Bytes(), f)
				if len(got) != len(ms) {
					t.Fatalf("parsed %d messages, rendered %d", len(got), len(ms))
				}
				for i := range ms {
					w, g := ms[i], got[i]
					if g.Host != w.Host || g.App != w.App || g.ProcID != w.ProcID || g.Text != w.Text {
						t.Fatalf("message %d came back as %+v, want %+v", i, g, w)
					}
					prec := time.Second
					if f == RFC5424 || f == OctetCounted {
						prec = time.Microsecond
					}
					if !g.Time.Equal(w.Time.Truncate(prec)) {
						t.Fatalf("message %d time %v, want %v", i, g.Time, w.Time.Truncate(prec))
					}
					if f != Traditional && (g.Facility != w.Facility || g.Severity != w.Severity) {
						t.Fatalf("message %d priority %d.%d, want %d.%d", i, g.Facility, g.Severity, w.Facility, w.Severity)
					}
				}
			})
		}
	}
}

func parseCapture(t *testing.T, data []byte, f Format) []floodgate.Message {
	t.Helper()
	var out []floodgate.Message
	p5424 := rfc5424.NewMachine()
	p3164 := rfc3164.NewMachine(rfc3164.WithYear(rfc3164.Year{YYYY: 2018}), rfc3164.WithLocaleTimezone(time.UTC))
	add := func(raw []byte) {
		switch f {
		case Traditional:
			p := trad.FindSubmatch(raw)
			if p == nil {
				t.Fatalf("no TRAD match: %q", raw)
			}
			ts, err := time.Parse("2006 Jan _2 15:04:05", "2018 "+string(p[2])+" "+string(p[3])+" "+string(p[4]))
			if err != nil {
				t.Fatalf("stamp of %q: %v", raw, err)
			}
			out = append(out, floodgate.Message{Time: ts, Host: string(p[5]), App: string(p[6]), ProcID: string(p[7]), Text: string(p[8])})
			return
		case RFC3164:
			msg, err := p3164.Parse(raw)
			if err != nil {
				t.Fatalf("rfc3164 parse %q: %v", raw, err)
			}
			out = append(out, fromBase(&msg.(*rfc3164.SyslogMessage).Base))
		default:
			msg, err := p5424.Parse(raw)
			if err != nil {
				t.Fatalf("rfc5424 parse %q: %v", raw, err)
			}
			out = append(out, fromBase(&msg.(*rfc5424.SyslogMessage).Base))
		}
	}
	if f != OctetCounted {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			add(sc.Bytes())
		}
		return out
	}
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		n, err := strconv.Atoi(string(data[:sp]))
		if sp < 0 || err != nil || sp+1+n > len(data) {
			t.Fatalf("bad frame at %q", data[:min(40, len(data))])
		}
		add(data[sp+1 : sp+1+n])
		data = data[sp+1+n:]
	}
	return out
}

func fromBase(b *syslog.Base) floodgate.Message {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	m := floodgate.Message{Host: s(b.Hostname), App: s(b.Appname), ProcID: s(b.ProcID), Text: s(b.Message)}
	if b.Timestamp != nil {
		m.Time = b.Timestamp.UTC()
	}
	if b.Facility != nil {
		m.Facility = floodgate.Facility(*b.Facility)
	}
	if b.Severity != nil {
		m.Severity = floodgate.Severity(*b.Severity)
	}
	return m
}

// TestAllocs checks that generating and rendering a message costs no
// allocation of its own (the arena's chunks amortise to near zero).
func TestAllocs(t *testing.T) {
	gens := generators(1, 30_000)
	for _, k := range Kinds() {
		g, _ := New(k, 1, 30_000)
		for range 1000 { // past the first arena chunk and the warm-up
			g.Next(&floodgate.Message{})
		}
		gens = append(gens, struct {
			name string
			g    Generator
		}{"kind " + k, g})
	}
	for _, tc := range gens {
		t.Run(tc.name, func(t *testing.T) {
			var m floodgate.Message
			buf := make([]byte, 0, 4096)
			runs := 10_000
			if strings.HasPrefix(tc.name, "kind ") {
				runs = 3000
			}
			allocs := testing.AllocsPerRun(runs, func() {
				// Reading the Truth must cost nothing either.
				if tr, ok := tc.g.(Truther); ok {
					_ = tr.Truth()
				}
				tc.g.Next(&m)
				buf = Append(buf[:0], &m, OctetCounted)
			})
			if allocs > 0.1 {
				t.Errorf("%.2f allocations per message, want about 0", allocs)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, tc := range generators(1, 1<<40) {
		b.Run(tc.name, func(b *testing.B) {
			var m floodgate.Message
			buf := make([]byte, 0, 4096)
			var bytes int64
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				tc.g.Next(&m)
				buf = Append(buf[:0], &m, Traditional)
				bytes += int64(len(buf))
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(bytes)/float64(n), "B/line")
		})
	}
}

// TestTracePatterns checks that trace floods repeat a few patterns:
// once numbers, hex values and addresses are masked, the distinct lines
// are no more than the templates' lines, so a deduplicator can fold
// them (a varying line number in a frame once made every trace new).
func TestTracePatterns(t *testing.T) {
	mask := regexp.MustCompile(`\b[0-9a-f]{8}\b|0x[0-9a-f]+|[0-9a-f]*\d[0-9a-f]*`)
	tests := []struct {
		name      string
		g         Generator
		templates [][]string
	}{
		{"java", NewJava(1, 10_000), javaTraces},
		{"python", NewPython(1, 10_000), pythonTraces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := map[string]bool{}
			for _, b := range tc.templates {
				for _, l := range b {
					want[l] = true
				}
			}
			seen := map[string]bool{}
			for _, m := range collect(t, tc.g) {
				// Frames are fingerprinted with their line numbers: keep them.
				if strings.HasPrefix(m.Text, "#011at ") || strings.HasPrefix(m.Text, "  File ") {
					seen[m.Text] = true
					continue
				}
				seen[mask.ReplaceAllString(m.Text, "#")] = true
			}
			if len(seen) > len(want) {
				t.Errorf("%d distinct masked lines, want at most the %d template lines", len(seen), len(want))
			}
		})
	}
}

// TestIncidentHosts checks that every sick node floods on its own: its
// own dockerd dumps and its own restart loop, merged in time order.
func TestIncidentHosts(t *testing.T) {
	tests := []struct {
		name  string
		hosts int
	}{
		{"one node, as in the incident", 1},
		{"three nodes", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultIncident()
			c.Messages, c.Hosts, c.GoroutinesPerDump = 60_000, tc.hosts, 300
			dumps, cycles := map[string]bool{}, map[string]int{}
			var last time.Time
			for i, m := range collect(t, NewIncident(c)) {
				if m.Time.Before(last) {
					t.Fatalf("message %d goes back in time", i)
				}
				last = m.Time
				switch {
				case m.App == "dockerd":
					dumps[m.Host] = true
				case m.App == "systemd" && m.Text == restartCycle[0].text:
					cycles[m.Host]++
				}
			}
			if len(dumps) != tc.hosts || len(cycles) != tc.hosts {
				t.Errorf("dumps from %d hosts, restart loops on %d, want %d each", len(dumps), len(cycles), tc.hosts)
			}
			for h, n := range cycles {
				if n < 2 {
					t.Errorf("host %s restarted only %d times", h, n)
				}
			}
		})
	}
}
