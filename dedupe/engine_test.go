package dedupe

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

var t0 = time.Date(2018, 9, 11, 1, 0, 0, 0, time.UTC)

// msgs builds messages from "host app[pid]: text" lines, step apart.
func msgs(t testing.TB, step time.Duration, lines ...string) []floodgate.Message {
	t.Helper()
	out := make([]floodgate.Message, len(lines))
	for i, l := range lines {
		m := parseTraditional(t, "Sep 11 01:00:00 "+l)
		m.Time = t0.Add(time.Duration(i) * step)
		out[i] = m
	}
	return out
}

// run replays in through a fresh engine and checks the invariants.
func run(t *testing.T, opts Options, in []floodgate.Message) []floodgate.Record {
	t.Helper()
	return runMasked(t, opts, in, contractMask)
}

// runMasked is run with exemplars told apart by mask.
func runMasked(t *testing.T, opts Options, in []floodgate.Message, mask func(string) string) []floodgate.Record {
	t.Helper()
	c := &collector{}
	replay(New(opts, c), in)
	checkInvariantsMasked(t, in, c.recs, mask)
	return c.recs
}

func summaries(recs []floodgate.Record) []floodgate.Record {
	var out []floodgate.Record
	for _, r := range recs {
		if r.Summary != nil {
			out = append(out, r)
		}
	}
	return out
}

func verbatim(recs []floodgate.Record) int {
	n := 0
	for _, r := range recs {
		if r.Summary == nil {
			n++
		}
	}
	return n
}

// goroutineLines prints one goroutine of a small two-frame stack.
func goroutineLines(id int, state string, stack int) []string {
	p := "h dockerd[7]: "
	return []string{
		fmt.Sprintf("%sgoroutine %d [%s]:", p, id, state),
		fmt.Sprintf("%smain.worker%d(0x%x, 0xc42000%x)", p, stack, id*7, id),
		fmt.Sprintf("%s#011/src/main.go:%d +0x%x", p, 40+stack, id%16),
		fmt.Sprintf("%screated by main.main in goroutine %d", p, id%3+1),
		fmt.Sprintf("%s#011/src/main.go:12 +0x2f", p),
	}
}

func TestBlocks(t *testing.T) {
	var dumpNewState, dumpGp, dumpMinutes []string
	for i := range 10 {
		dumpNewState = append(dumpNewState, goroutineLines(100+i, "runnable", 1)...)
	}
	dumpNewState = append(dumpNewState, goroutineLines(200, "select", 1)...)
	dumpNewState = append(dumpNewState, goroutineLines(201, "select", 1)...)
	for i := range 4 {
		lines := goroutineLines(300+i, "IO wait", 2)
		lines[0] = fmt.Sprintf("h dockerd[7]: goroutine %d gp=0xc0000%x m=nil [IO wait]:", 300+i, i)
		dumpGp = append(dumpGp, lines...)
	}
	for i := range 5 {
		dumpMinutes = append(dumpMinutes, goroutineLines(400+i, fmt.Sprintf("chan receive, %d minutes", i+1), 3)...)
	}
	tests := []struct {
		name     string
		lines    []string
		verbatim int
		want     []string // substrings of the summaries' texts, in order
	}{
		{"known stack in a new state is written whole, then counted", dumpNewState, 10,
			[]string{"10 more goroutines with the same stack as goroutine 100 (runnable 9, select 1)"}},
		{"gp= header form", dumpGp, 5, []string{"3 more goroutines with the same stack as goroutine 300 (IO wait 3)"}},
		{"wait minutes are not part of the state", dumpMinutes, 5, []string{"4 more goroutines with the same stack as goroutine 400 (chan receive 4)"}},
		{"java exceptions", []string{
			"h app[1]: Exception in thread \"main\" java.lang.IllegalStateException: order 17 missing",
			"h app[1]: #011at com.shop.Orders.get(Orders.java:42)",
			"h app[1]: #011at com.shop.Api.handle(Api.java:7)",
			"h app[1]: Caused by: java.io.IOException: read 3 bytes",
			"h app[1]: #011... 2 more",
			"h app[1]: Exception in thread \"main\" java.lang.IllegalStateException: order 18 missing",
			"h app[1]: #011at com.shop.Orders.get(Orders.java:42)",
			"h app[1]: #011at com.shop.Api.handle(Api.java:7)",
			"h app[1]: Caused by: java.io.IOException: read 5 bytes",
			"h app[1]: #011... 2 more",
			"h app[1]: request done",
		}, 6, []string{"1 more Java exceptions with the same frames"}},
		{"java exceptions of another class are written", []string{
			"h app[1]: java.lang.IllegalStateException: order 17 missing",
			"h app[1]: #011at com.shop.Orders.get(Orders.java:42)",
			"h app[1]: java.lang.IllegalArgumentException: order 17 missing",
			"h app[1]: #011at com.shop.Orders.get(Orders.java:42)",
		}, 4, nil},
		{"python tracebacks", []string{
			"h py[2]: Traceback (most recent call last):",
			"h py[2]:   File \"/app/main.py\", line 10, in <module>",
			"h py[2]:     run(3)",
			"h py[2]: ValueError: bad value 3",
			"h py[2]: Traceback (most recent call last):",
			"h py[2]:   File \"/app/main.py\", line 10, in <module>",
			"h py[2]:     run(4)",
			"h py[2]: ValueError: bad value 4",
			"h py[2]: done",
		}, 5, []string{"1 more Python tracebacks with the same frames"}},
		{"panic header", []string{
			"h x[3]: panic: runtime error: invalid memory address or nil pointer dereference",
			"h x[3]: [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a2b1c]",
			"h x[3]: goroutine 1 [running]:",
			"h x[3]: main.main()",
			"h x[3]: #011/src/main.go:9 +0x1d",
			"h x[3]: exit status 2",
		}, 6, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := run(t, DefaultOptions(), msgs(t, time.Millisecond, tt.lines...))
			if got := verbatim(recs); got != tt.verbatim {
				t.Errorf("verbatim %d, want %d:\n%s", got, tt.verbatim, render(recs))
			}
			sums := summaries(recs)
			if len(sums) != len(tt.want) {
				t.Fatalf("%d summaries, want %d:\n%s", len(sums), len(tt.want), render(recs))
			}
			for i, w := range tt.want {
				if sums[i].Summary.Kind != floodgate.Block || !strings.Contains(sums[i].Text, w) {
					t.Errorf("summary %d = %s %q, want block %q", i, sums[i].Summary.Kind, sums[i].Text, w)
				}
			}
		})
	}
}

func TestBlockIdleAndCap(t *testing.T) {
	opts := DefaultOptions()
	opts.BlockMaxLines = 3
	// 5 lines: the block is capped after 3, the other two are single
	// lines, and the last repeats the template of the third.
	lines := goroutineLines(1, "runnable", 1)
	// The last is counted once: a summary never stands for one message,
	// so it is written after all.
	recs := run(t, opts, msgs(t, time.Millisecond, lines...))
	if got := verbatim(recs); got != 5 || len(recs) != 5 {
		t.Errorf("verbatim %d of %d records, want 5 of 5:\n%s", got, len(recs), render(recs))
	}

	// Idle: the block is released by a tick once BlockIdle has passed,
	// before any other line of its stream arrives.
	c := &collector{}
	e := New(DefaultOptions(), c)
	for _, m := range msgs(t, time.Millisecond, goroutineLines(1, "runnable", 1)...) {
		e.Handle(m.Time, &floodgate.Record{Message: m})
	}
	e.Tick(t0.Add(time.Second), false)
	if len(c.recs) != 0 {
		t.Fatalf("block released before it was idle: %d records", len(c.recs))
	}
	e.Tick(t0.Add(3*time.Second), false)
	if len(c.recs) != 5 {
		t.Errorf("idle block not released: %d records", len(c.recs))
	}
}

// A pattern that lives for hours costs a handful of summaries: the first
// within Flush, then at growing intervals up to FlushMax.
func TestRepeatsAndFlush(t *testing.T) {
	var lines []string
	for i := range 780 {
		lines = append(lines, fmt.Sprintf("h sshd[%d]: Accepted publickey for core from 10.0.0.%d port %d ssh2", 100+i, i%250, 40000+i))
	}
	// A flood of one message a second for a minute, then one every 10 s
	// for two hours.
	in := msgs(t, time.Second, lines...)
	for i := 60; i < len(in); i++ {
		in[i].Time = t0.Add(time.Minute + time.Duration(i-60)*10*time.Second)
	}
	recs := run(t, DefaultOptions(), in)
	// The first, and the last few where the final count is small enough
	// to be written as the lines themselves.
	if got := verbatim(recs); got != 1 && recs[len(recs)-1].Summary != nil || got > 1+holdMax {
		t.Errorf("verbatim %d, want 1 (and at the end at most %d more):\n%s", got, holdMax, render(recs))
	}
	sums := summaries(recs)
	if len(sums) < 3 || len(sums) > 8 {
		t.Fatalf("%d summaries over two hours, want a handful:\n%s", len(sums), render(recs))
	}
	for i, s := range sums {
		if s.Summary.Kind != floodgate.Repeat || s.Summary.FP != sums[0].Summary.FP {
			t.Errorf("summary %s fp %s, want repeat %s", s.Summary.Kind, s.Summary.FP, sums[0].Summary.FP)
		}
		if s.ProcID == "" || s.Host != "h" || s.App != "sshd" {
			t.Errorf("summary header %s/%s[%s], want the messages'", s.Host, s.App, s.ProcID)
		}
		if i > 1 && i < len(sums)-1 {
			prev := sums[i-1].Summary.Last.Sub(sums[i-2].Summary.Last)
			if gap := s.Summary.Last.Sub(sums[i-1].Summary.Last); gap < prev {
				t.Errorf("summary %d came %s after the one before, sooner than the %s before that", i, gap, prev)
			}
		}
	}
	if first := sums[0]; first.Summary.Last.Sub(t0) > DefaultOptions().Flush+10*time.Second {
		t.Errorf("first summary at %s, want within flush (%s)", first.Summary.Last.Sub(t0), DefaultOptions().Flush)
	}
}

// A trickle (a pattern of an access log, once a minute) is no flood: its
// count waits for FlushMax instead of taking the early summaries, so over
// three hours it costs a summary an hour, each for many messages.
func TestTrickleWaitsForFlushMax(t *testing.T) {
	var lines []string
	for i := range 180 {
		lines = append(lines, fmt.Sprintf("h nginx: 10.0.0.%d - - \"GET /cart HTTP/1.1\" 200 %d", i%250, 1000+i))
	}
	recs := run(t, DefaultOptions(), msgs(t, time.Minute, lines...))
	sums := summaries(recs)
	if len(sums) > 3 {
		t.Errorf("%d summaries of a trickle over three hours, want at most 3:\n%s", len(sums), render(recs))
	}
	for _, s := range sums {
		if s.Summary.Count < minSummaryCount {
			t.Errorf("summary for %d messages of a trickle, want many:\n%s", s.Summary.Count, render(recs))
		}
	}
	if len(sums) > 0 && sums[0].Summary.Last.Sub(t0) < DefaultOptions().FlushMax-time.Minute {
		t.Errorf("first summary of a trickle at %s, want it to wait for FlushMax (%s)", sums[0].Summary.Last.Sub(t0), DefaultOptions().FlushMax)
	}
	// A flood of the same (one a second) still has its first summary
	// within Flush.
	recs = run(t, DefaultOptions(), msgs(t, time.Second, lines[:60]...))
	if sums := summaries(recs); len(sums) < 2 || sums[0].Summary.Last.Sub(t0) > DefaultOptions().Flush+time.Second {
		t.Errorf("flood: want its first summary within Flush:\n%s", render(recs))
	}
}

// A count of two or three ordinary lines is written as the lines, not
// summarised: a summary for so few saves a line or two and hides what
// they said.
func TestFewLinesWrittenNotSummarised(t *testing.T) {
	line := "h app[1]: upstream %d.example.net timed out after %d ms while reading response header from upstream, client: 10.1.%d.9, request: \"GET /api/v1/items HTTP/1.1\""
	in := msgs(t, time.Second, fmt.Sprintf(line, 1, 100, 1), fmt.Sprintf(line, 2, 200, 2), fmt.Sprintf(line, 3, 300, 3))
	recs := run(t, DefaultOptions(), in)
	if got := verbatim(recs); got != 3 || len(recs) != 3 {
		t.Errorf("verbatim %d of %d records, want 3 of 3:\n%s", got, len(recs), render(recs))
	}
}

// TestRestartLoopAsRepeats: with cycles off, the restart lines are
// folded as repeats, and their summary still names the loop.
func TestRestartLoopAsRepeats(t *testing.T) {
	var lines []string
	for i := range 10 {
		lines = append(lines,
			"h systemd[1]: a.service: Main process exited, code=exited, status=3/NOTIMPLEMENTED",
			fmt.Sprintf("h systemd[1]: a.service: Scheduled restart job, restart counter is at %d.", i+1))
	}
	opts := DefaultOptions()
	opts.Cycles = false
	recs := run(t, opts, msgs(t, time.Second, lines...))
	var found bool
	for _, s := range summaries(recs) {
		if strings.Contains(s.Text, "restart counter") {
			found = true
			if !strings.Contains(s.Text, ": a.service restart loop, exit status 3") {
				t.Errorf("summary %q does not name the loop", s.Text)
			}
		}
	}
	if !found {
		t.Errorf("no repeat summary of the restart line:\n%s", render(recs))
	}
}

func TestQuietPatternIsWrittenAgain(t *testing.T) {
	in := msgs(t, time.Second, "h a[1]: disk is 91% full", "h a[1]: disk is 92% full",
		"h a[1]: disk is 93% full", "h a[1]: disk is 94% full", "h a[1]: disk is 95% full")
	in = append(in, msgs(t, 0, "h a[1]: disk is 96% full")...)
	in[5].Time = t0.Add(2 * time.Hour)
	recs := run(t, DefaultOptions(), in)
	if got := verbatim(recs); got != 2 || len(summaries(recs)) != 1 {
		t.Errorf("verbatim %d, want 2 (first, and again after a quiet window):\n%s", got, render(recs))
	}
}

// Lines that differ in a word at a place where every line has another
// value (a user name) fold once the place is learned; the first few are
// written while it is being learned.
func TestParameterWordsFold(t *testing.T) {
	var lines []string
	for i := range 500 {
		lines = append(lines, fmt.Sprintf("h app[1]: session opened for user %s by uid %d", word(i), i))
	}
	in := msgs(t, time.Millisecond, lines...)
	recs := runMasked(t, DefaultOptions(), in, func(s string) string {
		return paramWord.ReplaceAllString(contractMask(s), "session opened for user <*>")
	})
	got := verbatim(recs)
	if got > placeMinDistinct+1 {
		t.Errorf("%d verbatim, want the place learned after about %d:\n%s", got, placeMinDistinct, render(recs))
	}
}

var paramWord = regexp.MustCompile(`session opened for user \w+`)

// Free text (a chat relay: every line other words) has no skeleton: each
// line is written, however many there are.
func TestFreeTextIsWritten(t *testing.T) {
	var lines []string
	for i := range 500 {
		n := 3 + i%6
		var words []string
		for j := range n {
			words = append(words, word(i*7+j*131+i*j))
		}
		lines = append(lines, "h bridge[1]: "+strings.Join(words, " "))
	}
	recs := run(t, DefaultOptions(), msgs(t, time.Millisecond, lines...))
	distinct := map[string]bool{}
	for _, l := range lines {
		distinct[l] = true
	}
	if got := verbatim(recs); got != len(distinct) {
		t.Errorf("%d verbatim of %d distinct lines, want all written", got, len(distinct))
	}
}

// word spells i in letters g to z, which no masker rule touches.
func word(i int) string {
	var b []byte
	for {
		b = append(b, byte('g'+i%20))
		i /= 20
		if i == 0 {
			return string(b)
		}
	}
}

func TestEvictionKeepsAccounting(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxPatterns = 2
	var lines []string
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("h app[1]: event %s number %d", word(i/10%3), i))
	}
	recs := run(t, opts, msgs(t, time.Millisecond, lines...))
	if len(summaries(recs)) == 0 {
		t.Errorf("no summaries:\n%s", render(recs))
	}
}

func TestPassThrough(t *testing.T) {
	c := &collector{}
	e := New(DefaultOptions(), c)
	sum := &floodgate.Summary{Kind: floodgate.Suppressed, Count: 3}
	for range 3 {
		e.Handle(t0, &floodgate.Record{Message: floodgate.Message{Host: "h", App: "a", Text: "x"}, Summary: sum})
		e.Handle(t0, &floodgate.Record{Message: floodgate.Message{Host: "h", App: "a", Text: "warning", Syntax: floodgate.Internal}})
	}
	e.Tick(t0, true)
	if len(c.recs) != 6 {
		t.Errorf("%d records, want 6 passed through", len(c.recs))
	}
}

func TestRestartLoop(t *testing.T) {
	tests := []struct {
		name    string
		cycle   []string
		restart int // lines of the cycle that are restarts
	}{
		{"old wording", []string{
			"h systemd[1]: protokube.service: Main process exited, code=exited, status=125/n/a",
			"h systemd[1]: protokube.service: Failed with result 'exit-code'.",
			"h systemd[1]: protokube.service: Service hold-off time over, scheduling restart.",
			"h systemd[1]: Stopped Kubernetes Protokube Service.",
			"h systemd[1]: Started Kubernetes Protokube Service.",
		}, 1},
		{"new wording", []string{
			"h systemd[1]: protokube.service: Main process exited, code=exited, status=125/n/a",
			"h systemd[1]: protokube.service: Failed with result 'exit-code'.",
			"h systemd[1]: protokube.service: Scheduled restart job, restart counter is at %d.",
			"h systemd[1]: Stopped Kubernetes Protokube Service.",
			"h systemd[1]: Started Kubernetes Protokube Service.",
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []string
			for i := range 40 {
				for _, l := range tt.cycle {
					if strings.Contains(l, "%d") {
						l = fmt.Sprintf(l, i+1)
					}
					lines = append(lines, l)
				}
			}
			in := msgs(t, 400*time.Millisecond, lines...)
			var called []RestartLoop
			opts := DefaultOptions()
			opts.OnRestartLoop = func(l RestartLoop) { called = append(called, l) }
			c := &collector{}
			e := New(opts, c)
			for i := range in {
				e.Handle(in[i].Time, &floodgate.Record{Message: in[i]})
			}
			loops := e.restartLoops()
			if len(loops) != 1 || loops[0].Unit != "protokube.service" || loops[0].Restarts != 40 || loops[0].ExitStatus != "125/n/a" {
				t.Errorf("restartLoops() = %+v, want protokube.service with 40 restarts, exit 125/n/a", loops)
			}
			if len(called) == 0 {
				t.Errorf("OnRestartLoop not called")
			}
			e.Tick(in[len(in)-1].Time, true)
			checkInvariants(t, in, c.recs)
			sums := summaries(c.recs)
			var cycle *floodgate.Record
			for i := range sums {
				if sums[i].Summary.Kind == floodgate.Cycle {
					cycle = &sums[i]
				}
			}
			if cycle == nil {
				t.Fatalf("no cycle summary:\n%s", render(c.recs))
			}
			if want := "the 5-line cycle above repeated"; !strings.Contains(cycle.Text, want) ||
				!strings.Contains(cycle.Text, "protokube.service restart loop, exit status 125") {
				t.Errorf("cycle text %q", cycle.Text)
			}
			if got := verbatim(c.recs); got > 2*len(tt.cycle) {
				t.Errorf("verbatim %d, want at most two cycles' worth:\n%s", got, render(c.recs))
			}
		})
	}
}

// TestMemoryBounded feeds many more unique patterns and sources than the
// tables hold and checks that they stay within their caps, with exact
// accounting through all the evictions.
func TestMemoryBounded(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxPatterns = 500
	s := &sink{}
	e := New(opts, s)
	buf := make([]byte, 0, 128)
	now := t0
	const n = 50_000
	for i := range n {
		now = now.Add(time.Millisecond)
		text := uniqueText(buf, i/2) // each pattern twice: a write and a repeat
		r := floodgate.Record{Message: floodgate.Message{Time: now, Host: fmt.Sprint("host-", i%3000), App: "sshd", Text: text}}
		e.Handle(now, &r)
	}
	if got := e.patterns.Len(); got > opts.MaxPatterns {
		t.Errorf("%d patterns held, cap %d", got, opts.MaxPatterns)
	}
	if got, limit := e.sources.Len(), sourceCap(opts.MaxPatterns); got > limit {
		t.Errorf("%d sources held, cap %d", got, limit)
	}
	if len(e.pending) > 2*opts.MaxPatterns+64 {
		t.Errorf("%d pending summaries held, more than the patterns", len(e.pending))
	}
	e.Tick(now, true)
	if s.verbatim+s.counted != n {
		t.Errorf("accounting: %d lines, %d written + %d counted", n, s.verbatim, s.counted)
	}
}

// TestHeldBytesBounded opens blocks on many streams at once: the bytes
// held together stay under their bound, and nothing is lost.
func TestHeldBytesBounded(t *testing.T) {
	opts := DefaultOptions()
	opts.BlockMaxBytes = 1024
	c := &collector{}
	e := New(opts, c)
	var in []floodgate.Message
	for i := range 400 {
		for _, l := range goroutineLines(i, "runnable", i%3) {
			m := parseTraditional(t, "Sep 11 01:00:00 "+l)
			m.ProcID = fmt.Sprint(i) // a stream each
			m.Time = t0
			in = append(in, m)
			e.Handle(t0, &floodgate.Record{Message: m})
			if e.held > maxHeldBlocks*opts.BlockMaxBytes {
				t.Fatalf("%d bytes held, bound %d", e.held, maxHeldBlocks*opts.BlockMaxBytes)
			}
		}
	}
	e.Tick(t0, true)
	if e.held != 0 || len(e.streams) != 0 {
		t.Errorf("after the final tick: %d bytes held in %d streams", e.held, len(e.streams))
	}
	checkInvariants(t, in, c.recs)
}

// An error never hides in a summary of harmless lines: the first err of a
// wording is written even when the same wording flooded at info, and the
// errors that follow are counted apart from the info ones.
func TestSeverityIsPartOfAPattern(t *testing.T) {
	var lines []string
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("h web[1]: request %d failed upstream", i+1))
	}
	in := msgs(t, time.Millisecond, lines...)
	for i := range in {
		in[i].Severity = floodgate.Info
		if i%2 == 1 && i > 1 {
			in[i].Severity = floodgate.Err
		}
	}
	opts := DefaultOptions()
	opts.Cycles = false // info, err, info, err would otherwise fold as a 2-line cycle
	recs := run(t, opts, in)
	var written []string
	for _, r := range recs {
		if r.Summary == nil {
			written = append(written, r.Severity.String()+" "+r.Text)
		}
	}
	want := []string{"info request 1 failed upstream", "err request 4 failed upstream"}
	if !slices.Equal(written, want) {
		t.Errorf("written verbatim %q, want %q", written, want)
	}
	bySev := map[floodgate.Severity]int64{}
	for _, s := range summaries(recs) {
		bySev[s.Severity] += s.Summary.Count
	}
	if bySev[floodgate.Info] != 10 || bySev[floodgate.Err] != 8 {
		t.Errorf("counted by severity %v, want info 10, err 8", bySev)
	}
}

// A line followed by indented continuation lines (a config dump printed at
// every crash) is one block: written whole the first time, then counted as
// one block pattern instead of a repeat pattern per line.
func TestIndentedRunIsABlock(t *testing.T) {
	var lines []string
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("k kafka[%d]: ConsumerConfig values: ", 100+i))
		for _, kv := range []string{"auto.offset.reset = latest", "bootstrap.servers = [kafka-1:9092]",
			fmt.Sprintf("client.id = consumer-%d", i), "enable.auto.commit = true", "group.id = billing"} {
			lines = append(lines, fmt.Sprintf("k kafka[%d]: #011%s", 100+i, kv))
		}
		lines = append(lines, fmt.Sprintf("k kafka[%d]: Consumer stopped after error", 100+i))
	}
	in := msgs(t, 10*time.Millisecond, lines...)
	recs := run(t, DefaultOptions(), in)
	if got := verbatim(recs); got != 7 {
		t.Errorf("%d verbatim, want the first dump and its two lines (7):\n%s", got, render(recs))
	}
	blocks := 0
	for _, s := range summaries(recs) {
		if s.Summary.Kind == floodgate.Block {
			blocks++
		}
	}
	if blocks == 0 {
		t.Errorf("no block summary:\n%s", render(recs))
	}
}

// A chained Python traceback is one block, from its first Traceback to its
// final exception line, through "direct cause" and "During handling".
func TestPythonChainIsOneBlock(t *testing.T) {
	chain := func(id int) []string {
		return []string{
			"w celery[7]: Traceback (most recent call last):",
			"w celery[7]:   File \"/app/tasks.py\", line 10, in fetch",
			fmt.Sprintf("w celery[7]:     r = get(url_%d)", id),
			"w celery[7]: ConnectionError: refused",
			"w celery[7]: The above exception was the direct cause of the following exception:",
			"w celery[7]: Traceback (most recent call last):",
			"w celery[7]:   File \"/app/tasks.py\", line 20, in run",
			"w celery[7]:     fetch()",
			"w celery[7]: RetryError: giving up",
			"w celery[7]: During handling of the above exception, another exception occurred:",
			"w celery[7]: Traceback (most recent call last):",
			"w celery[7]:   File \"/app/worker.py\", line 5, in main",
			"w celery[7]: TaskFailed: task 9 failed",
			"w celery[7]: worker idle",
		}
	}
	var lines []string
	for i := range 5 {
		lines = append(lines, chain(i)...)
	}
	recs := run(t, DefaultOptions(), msgs(t, 100*time.Millisecond, lines...))
	if got := verbatim(recs); got != 14 {
		t.Errorf("%d verbatim, want the first chain whole and its next line (14):\n%s", got, render(recs))
	}
	for _, s := range summaries(recs) {
		if s.Summary.Kind == floodgate.Block && s.Summary.Count%13 != 0 {
			t.Errorf("block summary counts %d lines, want whole chains of 13:\n%s", s.Summary.Count, render(recs))
		}
	}
}

// A sender that floods a place with made-up words makes it variable, but
// the values it had shown as recurring ("Failed", "Accepted") stay apart:
// they never fold into the parameter or each other.
func TestPoisoningKeepsRecurringValues(t *testing.T) {
	line := func(i int, state string) string {
		return fmt.Sprintf("h gw[1]: session %s for user root from 10.0.0.%d port %d", state, i%250, 1000+i)
	}
	var lines []string
	for i := range 40 {
		lines = append(lines, line(i, "refused"))
	}
	for i := range 40 {
		lines = append(lines, line(i, "accepted"))
	}
	for i := range 2000 {
		lines = append(lines, line(i, word(i*7+3)))
	}
	for i := range 20 {
		lines = append(lines, line(i, "refused"))
	}
	for i := range 20 {
		lines = append(lines, line(i, "accepted"))
	}
	c := &collector{}
	replay(New(DefaultOptions(), c), msgs(t, time.Millisecond, lines...))
	// The flood of made-up words folds, and each of refused and accepted
	// is counted under its own pattern, never among the made-up words.
	fps := map[string]map[string]bool{"refused": {}, "accepted": {}}
	var poison int64
	for _, r := range c.recs {
		if r.Summary == nil {
			continue
		}
		for _, f := range r.Summary.Fields {
			if v, ok := f.Value.([]floodgate.Varied); ok {
				for _, p := range v {
					for _, tv := range p.Top {
						if fps[tv.Value] != nil {
							t.Errorf("%s counted among the made-up words: %s", tv.Value, r.Text)
						}
					}
				}
			}
		}
		switch {
		case strings.Contains(r.Text, "[session refused"):
			fps["refused"][r.Summary.FP] = true
		case strings.Contains(r.Text, "[session accepted"):
			fps["accepted"][r.Summary.FP] = true
		default:
			poison += r.Summary.Count
		}
	}
	if len(fps["refused"]) != 1 || len(fps["accepted"]) != 1 {
		t.Errorf("refused and accepted not each folded under one pattern: %v\n%s", fps, render(c.recs))
	}
	for fp := range fps["refused"] {
		if fps["accepted"][fp] {
			t.Errorf("refused and accepted share pattern %s", fp)
		}
	}
	if poison < 1900 {
		t.Errorf("the flood of made-up words folded only %d of 2000", poison)
	}
}

// A place whose values recur (an exit reason) never turns variable, and a
// value that first shows up late is written.
func TestLateMeaningfulValueIsWritten(t *testing.T) {
	reasons := []string{"exit-code", "signal", "timeout", "core-dump", "watchdog", "resources", "start-limit-hit", "protocol", "exec-condition"}
	var lines []string
	for i := range 3000 {
		lines = append(lines, fmt.Sprintf("h systemd[1]: app.service: Failed with result '%s'.", reasons[i%len(reasons)]))
		lines = append(lines, fmt.Sprintf("h systemd[1]: session-%d.scope: Deactivated successfully.", i))
	}
	lines = append(lines, "h systemd[1]: app.service: Failed with result 'oom-kill'.")
	recs := run(t, DefaultOptions(), msgs(t, time.Second, lines...))
	var written []string
	for _, r := range recs {
		if r.Summary == nil && strings.Contains(r.Text, "Failed with result") {
			written = append(written, r.Text)
		}
	}
	if len(written) != len(reasons)+1 || written[len(written)-1] != "app.service: Failed with result 'oom-kill'." {
		t.Errorf("written %q, want each of the %d reasons once and the late oom-kill", written, len(reasons))
	}
}

// Messages of an exempt app, or of the exempt severity and worse, are
// written every one; the rest still fold.
func TestExemptFromFolding(t *testing.T) {
	var lines []string
	for i := range 20 {
		lines = append(lines,
			fmt.Sprintf("h audit[1]: login of uid %d", i),
			fmt.Sprintf("h app[2]: request %d failed", i),
			fmt.Sprintf("h app[2]: cache %d missed", i))
	}
	in := msgs(t, time.Second, lines...)
	for i := range in {
		in[i].Severity = floodgate.Info
		if strings.Contains(in[i].Text, "failed") {
			in[i].Severity = floodgate.Err
		}
	}
	opts := DefaultOptions()
	opts.ExemptApps = []string{"audit"}
	opts.ExemptBySeverity, opts.ExemptSeverity = true, floodgate.Err
	recs := run(t, opts, in)
	written := map[string]int{}
	for _, r := range recs {
		if r.Summary == nil {
			written[strings.Fields(r.Text)[0]]++
		}
	}
	if written["login"] != 20 || written["request"] != 20 {
		t.Errorf("exempt lines written %d (app) and %d (severity), want 20 each", written["login"], written["request"])
	}
	if written["cache"] != 1 {
		t.Errorf("%d cache lines written, want the first only: the others fold", written["cache"])
	}
}

// A pattern that starts counting while the pending list is compacted is
// still counted: compaction once looked at it before its count moved and
// dropped it, losing its count.
func TestPendingCompactionKeepsANewCount(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxPatterns = 64
	c := &collector{}
	e := New(opts, c)
	var in []floodgate.Message
	for i := range 30_000 {
		m := floodgate.Message{
			Time: t0, Host: fmt.Sprintf("host-%d", i%120), App: "app",
			Facility: 1, Severity: 6, Text: "the same line again",
		}
		in = append(in, m)
		r := floodgate.Record{Message: m}
		e.Handle(t0, &r)
	}
	e.Tick(t0, true)
	checkInvariants(t, in, c.recs)
}

// A distinct count is written exactly only where the sketch is exact in
// practice; past that the text says it is an estimate.
func TestDistinctInText(t *testing.T) {
	for _, tc := range []struct {
		d    int64
		want string
	}{
		{9, "9 distinct"}, {64, "64 distinct"}, {887, "about 890 distinct"},
		{1234, "about 1200 distinct"}, {96, "about 96 distinct"}, {256 * 6, "over 1000 distinct"},
	} {
		var sb strings.Builder
		writeDistinct(&sb, tc.d)
		if sb.String() != tc.want {
			t.Errorf("%d: %q, want %q", tc.d, sb.String(), tc.want)
		}
	}
}
