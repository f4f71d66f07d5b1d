package ratelimit_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/ratelimit"
)

// floodSpec is a synthetic flood from one source: lines of random sizes at
// factor times the budget, one in errEvery of them err or worse.
type floodSpec struct {
	name        string
	rate, burst int64
	prate       int64
	pburst      int64
	factor      int64
	errEvery    int
	d           time.Duration
}

// floodReport is what reached the output.
type floodReport struct {
	sent, sentErrs          int64
	written, writtenErrs    int64 // lines
	writtenBytes, errBytes  int64 // verbatim bytes: unprotected, protected
	counted, countedErrs    int64 // summed summary counts: all, protected budget
	summaries, summaryBytes int64
	bound, protectedBound   int64 // burst + rate × d, for each bucket
	elapsed                 time.Duration
	summariesPerReason      map[string]int64
}

// replayFlood replays spec through one Budgets with a fake clock, ticking
// every 200ms as the relay does, and ends with a final tick.
func replayFlood(spec floodSpec) floodReport {
	out := &countingSink{perReason: map[string]int64{}}
	b := ratelimit.New(ratelimit.Options{
		Rate: spec.rate, Burst: spec.burst,
		Protect: floodgate.Err, ProtectRate: spec.prate, ProtectBurst: spec.pburst,
		Flush: 30 * time.Second,
	}, out)
	rng := rand.New(rand.NewPCG(1, 2))
	const tick = 200 * time.Millisecond
	var rep floodReport
	// Lines average 230 bytes; space them to send factor × rate.
	gap := time.Duration(float64(time.Second) * 230 / float64(spec.rate*spec.factor))
	rec := msg("k8s-master-1", "dockerd", floodgate.Info, 0, t0)
	nextTick := t0.Add(tick)
	now := t0
	for end := t0.Add(spec.d); now.Before(end); now = now.Add(gap) {
		for !nextTick.After(now) {
			b.Tick(nextTick, false)
			nextTick = nextTick.Add(tick)
		}
		rec.Time = now
		rec.Size = 60 + rng.IntN(341) // 60..400 bytes, goroutine frames and headers
		rec.Severity = floodgate.Info
		if rng.IntN(spec.errEvery) == 0 {
			rec.Severity = floodgate.Err
			rep.sentErrs++
		}
		rep.sent++
		b.Handle(now, rec)
	}
	b.Tick(now, true)

	rep.elapsed = now.Sub(t0)
	rep.bound = spec.burst + int64(rep.elapsed.Seconds()*float64(spec.rate))
	rep.protectedBound = spec.pburst + int64(rep.elapsed.Seconds()*float64(spec.prate))
	rep.written, rep.writtenErrs = out.written, out.writtenErrs
	rep.writtenBytes, rep.errBytes = out.bytes, out.errBytes
	rep.counted, rep.countedErrs = out.counted, out.perReason["protected budget"]
	rep.summaries, rep.summaryBytes = out.summaries, out.summaryBytes
	rep.summariesPerReason = out.perReason
	return rep
}

// countingSink tallies without keeping records, so a ten-minute flood at
// the default budget fits in little memory.
type countingSink struct {
	written, writtenErrs, bytes, errBytes int64
	counted, summaries, summaryBytes      int64
	perReason                             map[string]int64
}

func (s *countingSink) Handle(_ time.Time, r *floodgate.Record) {
	if r.Summary != nil {
		s.counted += r.Summary.Count
		s.summaries++
		s.summaryBytes += int64(r.Size)
		for _, f := range r.Summary.Fields {
			if f.Key == "reason" {
				s.perReason[f.Value.(string)] += r.Summary.Count
			}
		}
		return
	}
	s.written++
	if r.Severity <= floodgate.Err {
		s.writtenErrs++
		s.errBytes += int64(r.Size)
	} else {
		s.bytes += int64(r.Size)
	}
}

func (s *countingSink) Tick(time.Time, bool) {}

// TestFlood50x is the acceptance check, scaled down so that it runs
// quickly under -race: ten minutes of one source at 50 times its budget.
// BenchmarkFlood runs it at the default budget.
func TestFlood50x(t *testing.T) {
	tests := []floodSpec{
		{name: "errors within their budget", rate: 4 << 10, burst: 64 << 10, prate: 64 << 10, pburst: 1 << 20, factor: 50, errEvery: 100, d: 10 * time.Minute},
		{name: "an error flood past its budget", rate: 4 << 10, burst: 64 << 10, prate: 8 << 10, pburst: 128 << 10, factor: 50, errEvery: 10, d: 10 * time.Minute},
	}
	for _, spec := range tests {
		t.Run(spec.name, func(t *testing.T) {
			rep := replayFlood(spec)
			checkFlood(t, spec, rep)
		})
	}
}

func checkFlood(tb testing.TB, spec floodSpec, rep floodReport) {
	tb.Helper()
	if rep.written+rep.counted != rep.sent {
		tb.Errorf("wrote %d lines and counted %d, sent %d", rep.written, rep.counted, rep.sent)
	}
	if rep.writtenBytes > rep.bound {
		tb.Errorf("wrote %d bytes below err, want at most burst + rate × %v = %d", rep.writtenBytes, rep.elapsed, rep.bound)
	}
	if rep.errBytes > rep.protectedBound {
		tb.Errorf("wrote %d bytes of errors, want at most %d", rep.errBytes, rep.protectedBound)
	}
	if rep.writtenErrs+rep.countedErrs != rep.sentErrs {
		tb.Errorf("errors: wrote %d, counted past the protected budget %d, sent %d", rep.writtenErrs, rep.countedErrs, rep.sentErrs)
	}
	overhead := float64(rep.summaryBytes) / float64(rep.writtenBytes+rep.errBytes)
	if overhead >= 0.01 {
		tb.Errorf("summaries take %.3f%% of what was written, want under 1%%", 100*overhead)
	}
	tb.Logf("%s: sent %d lines (%d err), %.1f MiB over %v at %dx; wrote %d lines, %d B info (bound %d B, %.4f of it), %d err lines %d B (bound %d B); counted %d in %d summaries of %d B: overhead %.4f%% of written bytes; by reason %v",
		spec.name, rep.sent, rep.sentErrs, float64(rep.sent)*230/(1<<20), rep.elapsed, spec.factor,
		rep.written, rep.writtenBytes, rep.bound, float64(rep.writtenBytes)/float64(rep.bound),
		rep.writtenErrs, rep.errBytes, rep.protectedBound,
		rep.counted, rep.summaries, rep.summaryBytes, 100*overhead, rep.summariesPerReason)
}

// BenchmarkFlood replays ten minutes of one source at 50 times the default
// budget (64KiB/s, burst 1MiB; err at 1MiB/s, burst 16MiB), one line in
// a hundred an error, and reports the bytes written against the bound and
// the summaries' overhead. Run it with -benchtime=1x.
func BenchmarkFlood(b *testing.B) {
	spec := floodSpec{name: "default budget", rate: 64 << 10, burst: 1 << 20, prate: 1 << 20, pburst: 16 << 20, factor: 50, errEvery: 100, d: 10 * time.Minute}
	var rep floodReport
	b.ReportAllocs()
	for b.Loop() {
		rep = replayFlood(spec)
	}
	checkFlood(b, spec, rep)
	b.ReportMetric(float64(rep.sent)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(rep.writtenBytes)/float64(rep.bound), "written/bound")
	b.ReportMetric(100*float64(rep.summaryBytes)/float64(rep.writtenBytes+rep.errBytes), "overhead_%")
}
