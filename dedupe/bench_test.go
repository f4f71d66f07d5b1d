package dedupe

import (
	"fmt"
	"github.com/floodgate/floodgate/bench/gen"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// floodStep is the message time between two dump lines: a million lines
// take two minutes, with the restart loop every two seconds beside them.
const floodStep = 120 * time.Microsecond

// sink counts what reaches the end of the chain, as bytes of rsyslog's
// traditional format.
type sink struct {
	records, verbatim, summaries int64
	counted                      int64
	bytes                        int64
}

func (s *sink) Handle(_ time.Time, r *floodgate.Record) {
	s.records++
	if r.Summary == nil {
		s.verbatim++
		s.bytes += int64(r.Size)
		return
	}
	s.summaries++
	s.counted += r.Summary.Count
	// "Sep 11 01:24:50 host app[pid]: [floodgate kind=K fp=F count=N first=T last=T] text"
	head := fmt.Sprintf("[floodgate kind=%s fp=%s count=%d first=%s last=%s] ", r.Summary.Kind, r.Summary.FP,
		r.Summary.Count, r.Summary.First.Format(time.RFC3339), r.Summary.Last.Format(time.RFC3339))
	s.bytes += int64(16 + len(r.Host) + 1 + len(r.App) + 2 + len(r.ProcID) + 3 + len(head) + len(r.Text) + 1)
}

func (s *sink) Tick(time.Time, bool) {}

// TestIncidentFloodReduction runs the synthetic incident flood (a million
// messages; a tenth of it with -short) through an engine with default
// options and requires exact accounting and at least 1000 times fewer
// bytes out than in.
func TestIncidentFloodReduction(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	g := incidentFlood(1, n)
	s := &sink{}
	e := New(DefaultOptions(), s)
	var in int64
	var m floodgate.Message
	var now, ticked time.Time
	for range n {
		g.Next(&m)
		in += int64(m.Size)
		if m.Time.After(now) {
			now = m.Time
		}
		if now.Sub(ticked) >= time.Second {
			e.Tick(now, false)
			ticked = now
		}
		r := floodgate.Record{Message: m}
		e.Handle(now, &r)
	}
	e.Tick(now, true)
	if got := s.verbatim + s.counted; got != int64(n) {
		t.Errorf("accounting: %d messages in, %d written + %d counted = %d", n, s.verbatim, s.counted, got)
	}
	ratio := float64(in) / float64(s.bytes)
	t.Logf("%d messages, %d bytes in; %d records (%d verbatim, %d summaries), %d bytes out: %.0f times fewer",
		n, in, s.records, s.verbatim, s.summaries, s.bytes, ratio)
	if n == 1_000_000 && ratio < 1000 {
		t.Errorf("reduction %.0f, want at least 1000", ratio)
	}
}

// TestIncidentFloodInvariants checks accounting and exemplars, record by
// record, on the start of the synthetic flood.
func TestIncidentFloodInvariants(t *testing.T) {
	g := incidentFlood(2, 60_000)
	msgs := make([]floodgate.Message, 60_000)
	for i := range msgs {
		g.Next(&msgs[i])
	}
	c := &collector{}
	replay(New(DefaultOptions(), c), msgs)
	checkInvariants(t, msgs, c.recs)
}

// BenchmarkIncidentFlood measures the dedupe stage alone on the synthetic
// incident flood, one message per iteration, ticking every second of
// message time as the relay does.
func BenchmarkIncidentFlood(b *testing.B) {
	benchFlood(b, incidentFlood(1, 200_000), false)
}

// BenchmarkIncidentFloodPrepared is BenchmarkIncidentFlood with every
// record prepared ahead (Record.Prep), as the relay's input goroutines do:
// what is left is the work on the shard's core.
func BenchmarkIncidentFloodPrepared(b *testing.B) {
	benchFlood(b, incidentFlood(1, 200_000), true)
}

// BenchmarkPrepare measures Prepare alone, the work that moved to the
// input goroutine, on the chat lines and on the incident flood.
func BenchmarkPrepare(b *testing.B) {
	chat, err := gen.New("chat", 1, 200_000)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []struct {
		name string
		g    gen.Generator
	}{{"chat", chat}, {"incident", incidentFlood(1, 200_000)}} {
		b.Run(k.name, func(b *testing.B) {
			var texts []string
			var m floodgate.Message
			for k.g.Next(&m) {
				texts = append(texts, m.Text)
			}
			pp := NewPreparer()
			var p Prepared
			b.ReportAllocs()
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				pp.Prepare(texts[i], &p)
				if i++; i == len(texts) {
					i = 0
				}
			}
			b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "msgs/cpu-s")
		})
	}
}

// BenchmarkFreeText measures lines that share no template: chat traffic of
// new words of varying count (bench/gen's chat kind), every one written.
func BenchmarkFreeText(b *testing.B) {
	g, err := gen.New("chat", 1, 200_000)
	if err != nil {
		b.Fatal(err)
	}
	benchFlood(b, g, false)
}

// BenchmarkFreeTextPrepared is BenchmarkFreeText with every record
// prepared ahead, as the relay does: the work on the shard's core.
func BenchmarkFreeTextPrepared(b *testing.B) {
	g, err := gen.New("chat", 1, 200_000)
	if err != nil {
		b.Fatal(err)
	}
	benchFlood(b, g, true)
}

// BenchmarkCapture measures bench/gen's two-hour mixed capture of 18
// hosts: every kind of flood and background at once.
func BenchmarkCapture(b *testing.B) {
	g, err := gen.New("capture", 1, 400_000)
	if err != nil {
		b.Fatal(err)
	}
	benchFlood(b, g, false)
}

// benchFlood measures the dedupe stage alone on g's messages, one message
// per iteration, looping over them with time moving on, ticking every
// second of message time as the relay does. With prep, every record
// carries its Prepared, made before the clock starts.
func benchFlood(b *testing.B, g gen.Generator, prep bool) {
	var msgs []floodgate.Message
	for {
		var m floodgate.Message
		if !g.Next(&m) {
			break
		}
		msgs = append(msgs, m)
	}
	n := len(msgs)
	var preps []Prepared
	if prep {
		preps = make([]Prepared, n)
		pp := NewPreparer()
		for i := range msgs {
			pp.Prepare(msgs[i].Text, &preps[i])
		}
	}
	span := msgs[n-1].Time.Sub(msgs[0].Time) + time.Second
	s := &sink{}
	e := New(DefaultOptions(), s)
	var r floodgate.Record
	var now, ticked time.Time
	i, lap := 0, time.Duration(0)
	// Warm up: the first lap writes the exemplars and fills the tables.
	run := func() {
		r.Message = msgs[i]
		if prep {
			r.Prep = &preps[i]
		}
		r.Time = r.Time.Add(lap)
		if r.Time.After(now) {
			now = r.Time
		}
		if now.Sub(ticked) >= time.Second {
			e.Tick(now, false)
			ticked = now
		}
		e.Handle(now, &r)
		if i++; i == n {
			i, lap = 0, lap+span
		}
	}
	for range n {
		run()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		run()
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	// On a machine shared with other work, wall time counts the waits for
	// a core; CPU time counts only this process's work (GC included), so
	// msgs per CPU second is the rate one core sustains.
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "msgs/cpu-s")
}

// incidentFlood is bench/gen's synthetic incident, the flood every
// benchmark of the project measures: goroutine dumps of 3,000 goroutines
// with 5 distinct stacks, the protokube restart loop every 2 s, and one
// templated background line in 1,000.
func incidentFlood(seed int64, n int) gen.Generator {
	c := gen.DefaultIncident()
	c.Seed, c.Messages = seed, n
	return gen.NewIncident(c)
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// uniqueText returns a line that differs from every other i in words, not
// only in numbers, so that each is a pattern of its own.
func uniqueText(buf []byte, i int) string {
	buf = append(buf[:0], "session opened for user "...)
	for {
		buf = append(buf, byte('g'+i%20))
		i /= 20
		if i == 0 {
			break
		}
	}
	buf = append(buf, " by (uid=0)"...)
	return string(buf)
}

// BenchmarkParameterWords feeds b.N lines of one template whose user name
// is new in every line, from a few sources, and reports
// the live heap at the end: with the table capped by MaxPatterns it stays
// flat however many lines go through (compare -benchtime=1000000x with
// 10000000x).
func BenchmarkParameterWords(b *testing.B) {
	s := &sink{}
	e := New(DefaultOptions(), s)
	hosts := []string{"node-a", "node-b", "node-c", "node-d"}
	buf := make([]byte, 0, 128)
	var r floodgate.Record
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ticked := now
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now = now.Add(10 * time.Microsecond)
		if now.Sub(ticked) >= time.Second {
			e.Tick(now, false)
			ticked = now
		}
		r.Message = floodgate.Message{Time: now, Host: hosts[i&3], App: "sshd", ProcID: "22", Text: uniqueText(buf, i)}
		e.Handle(now, &r)
		i++
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportMetric(float64(e.patterns.Len()), "patterns")
	e.Tick(now, true)
	if s.verbatim+s.counted != int64(i) {
		b.Fatalf("accounting: %d lines, %d written + %d counted", i, s.verbatim, s.counted)
	}
	runtime.KeepAlive(e)
}
