package ratelimit_test

import (
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/ratelimit"
)

// flood sends msgs of size bytes from host/app at factor times rate for d,
// ticking every 200ms, and returns the time it ended and how many it sent.
func flood(b *ratelimit.Budgets, host, app string, sev floodgate.Severity, size int, rate int64, factor int, start time.Time, d time.Duration) (time.Time, int64) {
	perSec := rate * int64(factor) / int64(size)
	gap := time.Second / time.Duration(perSec)
	nextTick := start.Add(200 * time.Millisecond)
	now, sent := start, int64(0)
	for ; now.Before(start.Add(d)); now = now.Add(gap) {
		for !nextTick.After(now) {
			b.Tick(nextTick, false)
			nextTick = nextTick.Add(200 * time.Millisecond)
		}
		b.Handle(now, msg(host, app, sev, size, now))
		sent++
	}
	return now, sent
}

func TestSourceCutToBudget(t *testing.T) {
	tests := []struct {
		name        string
		rate, burst int64
		factor      int
		size        int
		d           time.Duration
	}{
		{name: "10x for a minute", rate: 4 << 10, burst: 32 << 10, factor: 10, size: 200, d: time.Minute},
		{name: "10x with odd sizes", rate: 1000, burst: 3000, factor: 10, size: 333, d: 2 * time.Minute},
		{name: "50x short", rate: 8 << 10, burst: 8 << 10, factor: 50, size: 1000, d: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &sink{}
			b := ratelimit.New(ratelimit.Options{Rate: tt.rate, Burst: tt.burst, Protect: floodgate.Err}, out)
			end, sent := flood(b, "web1", "nginx", floodgate.Info, tt.size, tt.rate, tt.factor, t0, tt.d)
			b.Tick(end, true)

			got := out.tallies()["web1/nginx"]
			elapsed := end.Sub(t0).Seconds()
			bound := tt.burst + int64(float64(tt.rate)*elapsed)
			if got.bytes > bound {
				t.Errorf("wrote %d bytes, want at most burst + rate × %.1fs = %d", got.bytes, elapsed, bound)
			}
			// Cut to the budget, not below it: all but the last
			// partial message's worth of the budget is used.
			if got.bytes < bound-2*int64(tt.size) {
				t.Errorf("wrote %d bytes, want close to the budget %d", got.bytes, bound)
			}
			if got.verbatim+got.counted != sent {
				t.Errorf("accounted for %d messages, sent %d", got.verbatim+got.counted, sent)
			}
			if got.counted == 0 {
				t.Error("no suppressed summary counted the drops")
			}
		})
	}
}

func TestSummaryExactCounts(t *testing.T) {
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: 1 << 10, Burst: 1 << 10, Protect: floodgate.Err, Flush: time.Hour}, out)
	for i := range 20 {
		r := msg("db1", "postgres", floodgate.Info, 100, t0.Add(time.Duration(i)*time.Millisecond))
		r.Text = "line " + string(rune('a'+i))
		b.Handle(t0, r)
	}
	b.Tick(t0, true)

	sums := out.summaries()
	if len(sums) != 1 {
		t.Fatalf("got %d summaries, want 1", len(sums))
	}
	s := sums[0]
	if s.Summary.Count != 10 {
		t.Errorf("count %d, want 10 (1KiB burst passes 10 of 20 100-byte lines)", s.Summary.Count)
	}
	if got := field(t, s, "bytes"); got != int64(1000) {
		t.Errorf("bytes %v, want 1000", got)
	}
	if got := field(t, s, "reason"); got != "budget" {
		t.Errorf("reason %v, want budget", got)
	}
	if got := field(t, s, "budget"); got != "1KiB/s burst 1KiB" {
		t.Errorf("budget %v, want 1KiB/s burst 1KiB", got)
	}
	if got := field(t, s, "sample"); got != "line k" {
		t.Errorf("sample %v, want the first dropped line", got)
	}
	if want := t0.Add(10 * time.Millisecond); !s.Summary.First.Equal(want) {
		t.Errorf("first %v, want %v", s.Summary.First, want)
	}
	if want := t0.Add(19 * time.Millisecond); !s.Summary.Last.Equal(want) || !s.Time.Equal(want) {
		t.Errorf("last %v, time %v, want %v", s.Summary.Last, s.Time, want)
	}
	if s.Host != "db1" || s.App != "postgres" || s.ProcID != "42" || s.Facility != 3 || s.Severity != floodgate.Info {
		t.Errorf("summary message %+v does not describe its source", s.Message)
	}
	if len(s.Summary.FP) != 8 {
		t.Errorf("fp %q, want 8 hex digits", s.Summary.FP)
	}
	if s.Text != "dropped 10 messages (1000 B) from db1/postgres over budget 1KiB/s burst 1KiB; sample: line k" {
		t.Errorf("text %q", s.Text)
	}
	if !out.final || out.ticks != 1 {
		t.Errorf("next ticked %d times, final %v: want once, final", out.ticks, out.final)
	}
}

func TestFingerprintStable(t *testing.T) {
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: 100, Burst: 100, Protect: floodgate.Err, ProtectRate: 100, ProtectBurst: 100, Flush: time.Second}, out)
	now := t0
	for range 3 {
		for _, host := range []string{"a", "b"} {
			for _, sev := range []floodgate.Severity{floodgate.Info, floodgate.Err} {
				b.Handle(now, msg(host, "app", sev, 100, now))
				b.Handle(now, msg(host, "app", sev, 100, now))
			}
		}
		now = now.Add(10 * time.Second)
		b.Tick(now, false)
	}
	fps := map[string]string{} // source+reason -> fp
	seen := map[string]string{}
	for _, s := range out.summaries() {
		k := s.Host + " " + field(t, s, "reason").(string)
		if fp, ok := fps[k]; ok && fp != s.Summary.FP {
			t.Errorf("%s: fp changed from %s to %s", k, fp, s.Summary.FP)
		}
		if other, ok := seen[s.Summary.FP]; ok && other != k {
			t.Errorf("fp %s names both %s and %s", s.Summary.FP, other, k)
		}
		fps[k], seen[s.Summary.FP] = s.Summary.FP, k
	}
	if len(fps) != 4 {
		t.Errorf("got fps for %v, want 2 sources × 2 reasons", fps)
	}
}

func TestProtectedSeverities(t *testing.T) {
	const rate, burst = 1 << 10, 4 << 10
	t.Run("errors pass an info flood", func(t *testing.T) {
		out := &sink{}
		b := ratelimit.New(ratelimit.Options{Rate: rate, Burst: burst, Protect: floodgate.Err}, out)
		now := t0
		errs := 0
		for i := range 60_000 { // 60s at 1000 lines/s of 100 bytes: about 100x
			now = t0.Add(time.Duration(i) * time.Millisecond)
			sev := floodgate.Info
			if i%500 == 0 {
				sev = floodgate.Severity(i / 500 % 4) // emerg..err
				errs++
			}
			b.Handle(now, msg("k8s1", "dockerd", sev, 100, now))
		}
		b.Tick(now, true)
		written := 0
		for _, r := range out.recs {
			if r.Summary == nil && r.Severity <= floodgate.Err {
				written++
			}
		}
		if written != errs {
			t.Errorf("wrote %d of %d err-or-worse lines during the info flood", written, errs)
		}
		for _, s := range out.summaries() {
			if s.Severity <= floodgate.Err {
				t.Errorf("a summary counted protected lines: %q", s.Text)
			}
		}
	})
	t.Run("an error flood is bounded", func(t *testing.T) {
		out := &sink{}
		b := ratelimit.New(ratelimit.Options{Rate: rate, Burst: burst, Protect: floodgate.Err, ProtectRate: 2 * rate, ProtectBurst: 2 * burst}, out)
		end, _ := flood(b, "k8s1", "dockerd", floodgate.Err, 100, 2*rate, 20, t0, 30*time.Second)
		b.Tick(end, true)
		got := out.tallies()["k8s1/dockerd"]
		if bound := int64(2*burst) + int64(end.Sub(t0).Seconds()*2*rate); got.bytes > bound {
			t.Errorf("wrote %d bytes of errors, want at most %d", got.bytes, bound)
		}
		sums := out.summaries()
		if len(sums) == 0 {
			t.Fatal("no summary of the dropped errors")
		}
		for _, s := range sums {
			if r := field(t, s, "reason"); r != "protected budget" {
				t.Errorf("reason %v, want protected budget", r)
			}
			if s.Severity != floodgate.Err {
				t.Errorf("summary severity %v, want err (the worst dropped)", s.Severity)
			}
		}
	})
}

func TestOversizeMessage(t *testing.T) {
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: 1 << 10, Burst: 1 << 10, Protect: floodgate.Err, Flush: time.Hour}, out)
	steps := []struct {
		name string
		at   time.Duration
		size int
		pass bool
	}{
		{name: "4KiB through a full 1KiB bucket", at: 0, size: 4 << 10, pass: true},
		{name: "in debt after it", at: time.Second, size: 10, pass: false},
		{name: "3KiB of debt repaid, nothing earned yet", at: 3 * time.Second, size: 10, pass: false},
		{name: "a nanosecond short of 10 bytes", at: 3*time.Second + 9765625 - 1, size: 10, pass: false},
		{name: "10 bytes earned at 1KiB/s", at: 3*time.Second + 9765625, size: 10, pass: true},
		{name: "not full: a second oversize waits", at: 4*time.Second + 9765625 - 1, size: 2 << 10, pass: false},
		{name: "full again a second later", at: 4*time.Second + 9765625, size: 2 << 10, pass: true},
	}
	for _, st := range steps {
		before := len(out.recs)
		now := t0.Add(st.at)
		b.Handle(now, msg("h", "a", floodgate.Info, st.size, now))
		passed := len(out.recs) > before && out.recs[len(out.recs)-1].Summary == nil
		if passed != st.pass {
			t.Errorf("%s: passed %v, want %v", st.name, passed, st.pass)
		}
	}
}

func TestSummariesNeverBudgeted(t *testing.T) {
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: 1 << 10, Burst: 1 << 10, Protect: floodgate.Err}, out)
	b.Handle(t0, msg("h", "a", floodgate.Info, 4<<10, t0)) // empties the bucket
	in := msg("h", "a", floodgate.Info, 8<<10, t0)
	in.Summary = &floodgate.Summary{Kind: floodgate.Repeat, FP: "9c41e0a7", Count: 2646, First: t0, Last: t0}
	b.Handle(t0, in)
	last := out.recs[len(out.recs)-1]
	if last.Summary == nil || last.Summary.Kind != floodgate.Repeat || last.Summary.Count != 2646 {
		t.Errorf("summary over budget was not passed on unchanged: %+v", last)
	}
}

func TestInternalRecordsSkipBudget(t *testing.T) {
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: 1 << 10, Burst: 1 << 10, Protect: floodgate.Err}, out)
	for range 10 {
		r := msg("floodgate", "relay", floodgate.Info, 1<<10, t0)
		r.Syntax = floodgate.Internal
		b.Handle(t0, r)
	}
	if len(out.recs) != 10 {
		t.Errorf("passed %d of 10 internal records", len(out.recs))
	}
}

func TestBackUnderBudget(t *testing.T) {
	const rate, burst = 1 << 10, 4 << 10
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: rate, Burst: burst, Protect: floodgate.Err, Flush: time.Hour}, out)
	end, _ := flood(b, "h", "a", floodgate.Info, 128, rate, 10, t0, 10*time.Second)
	if n := len(out.summaries()); n != 0 {
		t.Fatalf("%d summaries while the flood goes on, before Flush", n)
	}
	b.Tick(end.Add(time.Second), false)
	if n := len(out.summaries()); n != 0 {
		t.Fatalf("%d summaries one second after the flood: the bucket is not full yet", n)
	}
	// The bucket ends the flood with less than one message; it is full
	// burst/rate = 4s later at most.
	b.Tick(end.Add(burst/rate*time.Second), false)
	sums := out.summaries()
	if len(sums) != 1 {
		t.Fatalf("%d summaries once the source is back under budget, want 1", len(sums))
	}
	if got := out.tallies()["h/a"]; got.verbatim+got.counted == 0 || sums[0].Summary.Count != got.counted {
		t.Errorf("tally %+v, summary count %d", got, sums[0].Summary.Count)
	}
}

func TestFlushWhileOver(t *testing.T) {
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: 1 << 10, Burst: 1 << 10, Protect: floodgate.Err, Flush: 10 * time.Second}, out)
	end, sent := flood(b, "h", "a", floodgate.Info, 100, 1<<10, 5, t0, 100*time.Second)
	sums := out.summaries()
	if len(sums) < 9 || len(sums) > 10 {
		t.Errorf("%d summaries during a 100s flood with a 10s flush, want 9 or 10", len(sums))
	}
	for i := 1; i < len(sums); i++ {
		if gap := sums[i].Summary.First.Sub(sums[i-1].Summary.Last); gap <= 0 || gap > time.Second {
			t.Errorf("summaries %d and %d leave a gap of %v", i-1, i, gap)
		}
	}
	b.Tick(end, true)
	got := out.tallies()["h/a"]
	if got.verbatim+got.counted != sent {
		t.Errorf("accounted for %d, sent %d", got.verbatim+got.counted, sent)
	}
}

func TestDiskPolicy(t *testing.T) {
	disk := &diskVar{}
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Protect: floodgate.Err, Disk: disk.get, Flush: time.Hour}, out)
	summary := func(count int64) *floodgate.Record {
		r := msg("h", "a", floodgate.Info, 80, t0)
		r.Summary = &floodgate.Summary{Kind: floodgate.Repeat, FP: "00000001", Count: count, First: t0, Last: t0}
		return r
	}
	steps := []struct {
		name  string
		level floodgate.DiskLevel
		rec   *floodgate.Record
		pass  bool
	}{
		{name: "ok: info passes", level: floodgate.DiskOK, rec: msg("h", "a", floodgate.Info, 100, t0), pass: true},
		{name: "low: info counted", level: floodgate.DiskLow, rec: msg("h", "a", floodgate.Info, 100, t0), pass: false},
		{name: "low: err passes", level: floodgate.DiskLow, rec: msg("h", "a", floodgate.Err, 100, t0), pass: true},
		{name: "low: summary passes", level: floodgate.DiskLow, rec: summary(3), pass: true},
		{name: "full: err counted", level: floodgate.DiskFull, rec: msg("h", "a", floodgate.Emerg, 100, t0), pass: false},
		{name: "full: summary folded", level: floodgate.DiskFull, rec: summary(5), pass: false},
		{name: "ok again: info passes", level: floodgate.DiskOK, rec: msg("h", "a", floodgate.Info, 100, t0), pass: true},
	}
	for _, st := range steps {
		disk.l = st.level
		before := len(out.recs)
		b.Handle(t0, st.rec)
		var passed bool
		for _, r := range out.recs[before:] {
			if r.Syntax != floodgate.Internal && (r.Summary == nil || r.Summary.Kind != floodgate.Suppressed) {
				passed = true
			}
		}
		if passed != st.pass {
			t.Errorf("%s: passed %v, want %v", st.name, passed, st.pass)
		}
	}
	// The disk summary of the low and full spells is due now that the
	// disk is ok again (the message that passed emitted it first).
	b.Tick(t0, false)
	sums := out.summaries()
	if len(sums) != 1 {
		t.Fatalf("got %d suppressed summaries, want 1", len(sums))
	}
	s := sums[0]
	if s.Summary.Count != 1+1+5 || field(t, s, "reason") != "disk" || field(t, s, "budget") != "hard_min_free" {
		t.Errorf("disk summary: count %d, fields %v", s.Summary.Count, s.Summary.Fields)
	}
	if s.Severity != floodgate.Emerg {
		t.Errorf("disk summary severity %v, want emerg (the worst held back)", s.Severity)
	}
	ws := out.warnings()
	wantSev := []floodgate.Severity{floodgate.Warning, floodgate.Crit, floodgate.Notice}
	if len(ws) != len(wantSev) {
		t.Fatalf("got %d warnings, want one per crossing (%d)", len(ws), len(wantSev))
	}
	for i, w := range ws {
		if w.Severity != wantSev[i] || w.App != "floodgate" || w.Text == "" {
			t.Errorf("warning %d: %v %s %q", i, w.Severity, w.App, w.Text)
		}
	}
	got := out.tallies()["h/a"]
	if want := int64(5 + 3 + 5); got.verbatim+got.counted != want {
		t.Errorf("accounted for %d messages, received %d", got.verbatim+got.counted, want)
	}
}

func TestDiskFullHoldsSummariesUntilFinal(t *testing.T) {
	disk := &diskVar{}
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: 100, Burst: 100, Protect: floodgate.Err, Disk: disk.get, Flush: time.Second}, out)
	b.Handle(t0, msg("h", "a", floodgate.Info, 100, t0))
	b.Handle(t0, msg("h", "a", floodgate.Info, 100, t0)) // over budget
	disk.l = floodgate.DiskFull
	b.Handle(t0, msg("h", "a", floodgate.Info, 100, t0)) // disk
	b.Tick(t0.Add(time.Minute), false)
	if n := len(out.summaries()); n != 0 {
		t.Fatalf("%d summaries emitted onto a full disk before the end", n)
	}
	b.Tick(t0.Add(time.Minute), true)
	if n := len(out.summaries()); n != 2 {
		t.Fatalf("%d summaries at the final tick, want 2 (budget and disk)", n)
	}
	if got := out.tallies()["h/a"]; got.verbatim+got.counted != 3 {
		t.Errorf("accounted for %d of 3", got.verbatim+got.counted)
	}
}

func TestGlobalBudget(t *testing.T) {
	g := ratelimit.NewGlobal(1<<10, 2<<10)
	out1, out2 := &sink{}, &sink{}
	opts := ratelimit.Options{Rate: 1 << 20, Burst: 1 << 20, Protect: floodgate.Err, Global: g}
	b1, b2 := ratelimit.New(opts, out1), ratelimit.New(opts, out2)
	now := t0
	for i := range 1000 { // 10s, 100 lines/s of 100 bytes from each of 4 sources
		now = t0.Add(time.Duration(i) * 10 * time.Millisecond)
		b1.Handle(now, msg("a", "x", floodgate.Info, 100, now))
		b2.Handle(now, msg("b", "x", floodgate.Info, 100, now))
		b1.Handle(now, msg("c", "x", floodgate.Info, 100, now))
		b2.Handle(now, msg("d", "x", floodgate.Info, 100, now))
	}
	b1.Handle(now, msg("e", "x", floodgate.Crit, 100, now))
	b1.Tick(now, true)
	b2.Tick(now, true)
	var bytes, counted int64
	for _, out := range []*sink{out1, out2} {
		for _, tl := range out.tallies() {
			bytes += tl.bytes
			counted += tl.counted
		}
		for _, s := range out.summaries() {
			if r := field(t, s, "reason"); r != "global budget" {
				t.Errorf("reason %v, want global budget", r)
			}
		}
	}
	if bound := int64(2<<10) + int64(now.Sub(t0).Seconds()*(1<<10)) + 100; bytes > bound {
		t.Errorf("wrote %d bytes across sources, want at most %d (global burst + rate × time + the crit line)", bytes, bound)
	}
	if last := out1.recs[len(out1.recs)-len(out1.summaries())-1]; last.Host != "e" {
		t.Errorf("a crit line was refused by the exhausted global budget")
	}
	if bytes/100+counted != 4001 {
		t.Errorf("accounted for %d of 4001", bytes/100+counted)
	}
}

func TestOverrides(t *testing.T) {
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{
		Rate: 100, Burst: 1000, Protect: floodgate.Err,
		Overrides: []ratelimit.Override{
			{App: "kernel", Rate: 100, Burst: 5000},
			{Host: "h2", App: "kernel", Rate: 100, Burst: 9000}, // shadowed: first match wins
			{Host: "h3", Rate: 100, Burst: 2000},
		},
	}, out)
	tests := []struct {
		name, host, app string
		wantBytes       int64
	}{
		{name: "default", host: "h1", app: "sshd", wantBytes: 1000},
		{name: "kernel anywhere", host: "h1", app: "kernel", wantBytes: 5000},
		{name: "first match wins", host: "h2", app: "kernel", wantBytes: 5000},
		{name: "by host", host: "h3", app: "cron", wantBytes: 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 100 {
				b.Handle(t0, msg(tt.host, tt.app, floodgate.Info, 100, t0))
			}
			if got := out.tallies()[tt.host+"/"+tt.app].bytes; got != tt.wantBytes {
				t.Errorf("wrote %d bytes at once, want the burst %d", got, tt.wantBytes)
			}
		})
	}
}

var (
	peerA = netip.MustParseAddr("192.0.2.1")
	peerB = netip.MustParseAddr("2001:db8::1")
)

func TestSourceKey(t *testing.T) {
	tests := []struct {
		name    string
		key     []string
		vary    func(r *floodgate.Record, i int)
		passing int // of 10 messages of 100 bytes, burst 500
	}{
		{name: "default key ignores procid", vary: func(r *floodgate.Record, i int) { r.ProcID = string(rune('0' + i)) }, passing: 5},
		{name: "procid in key", key: []string{"host", "app", "procid"}, vary: func(r *floodgate.Record, i int) { r.ProcID = string(rune('0' + i)) }, passing: 10},
		{name: "facility in key", key: []string{"facility"}, vary: func(r *floodgate.Record, i int) { r.Facility = floodgate.Facility(i % 2) }, passing: 10},
		{name: "input in key", key: []string{"input"}, vary: func(r *floodgate.Record, i int) { r.Input = "udp" }, passing: 5},
		{name: "host only", key: []string{"host"}, vary: func(r *floodgate.Record, i int) { r.App = string(rune('a' + i)) }, passing: 5},
		// A sender that varies the host name in its messages gets a fresh
		// burst per name under the default key, and none under peer.
		{name: "host names varied, default key", vary: func(r *floodgate.Record, i int) { r.Host, r.Peer = string(rune('a'+i)), peerA }, passing: 10},
		{name: "host names varied, peer key", key: []string{"peer"}, vary: func(r *floodgate.Record, i int) { r.Host, r.Peer = string(rune('a'+i)), peerA }, passing: 5},
		{name: "host names varied, peer and app key", key: []string{"peer", "app"}, vary: func(r *floodgate.Record, i int) { r.Host, r.Peer = string(rune('a'+i)), peerA }, passing: 5},
		{name: "peer key, two peers", key: []string{"peer"}, vary: func(r *floodgate.Record, i int) { r.Peer = []netip.Addr{peerA, peerB}[i%2] }, passing: 10},
		{name: "peer key, app varied", key: []string{"peer", "app"}, vary: func(r *floodgate.Record, i int) { r.App, r.Peer = string(rune('a'+i%2)), peerA }, passing: 10},
		{name: "peer key without a peer charges the host", key: []string{"peer"}, vary: func(r *floodgate.Record, i int) { r.Host = string(rune('a' + i%2)) }, passing: 10},
		{name: "peer key without a peer, one host", key: []string{"peer"}, vary: func(r *floodgate.Record, i int) { r.App = string(rune('a' + i)) }, passing: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &sink{}
			b := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 500, Protect: floodgate.Err, Key: tt.key}, out)
			for i := range 10 {
				r := msg("h", "a", floodgate.Info, 100, t0)
				tt.vary(r, i)
				b.Handle(t0, r)
			}
			if got := len(out.recs); got != tt.passing {
				t.Errorf("%d passed, want %d", got, tt.passing)
			}
		})
	}
}

func TestEvictionEmitsPending(t *testing.T) {
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: 100, Burst: 100, Protect: floodgate.Err, MaxSources: 2, Flush: time.Hour}, out)
	b.Handle(t0, msg("a", "x", floodgate.Info, 100, t0))
	b.Handle(t0, msg("a", "x", floodgate.Info, 100, t0)) // a: one pending
	b.Handle(t0, msg("b", "x", floodgate.Info, 100, t0))
	if n := len(out.summaries()); n != 0 {
		t.Fatalf("%d summaries before any eviction", n)
	}
	b.Handle(t0, msg("c", "x", floodgate.Info, 100, t0)) // evicts a
	sums := out.summaries()
	if len(sums) != 1 || sums[0].Host != "a" || sums[0].Summary.Count != 1 {
		t.Fatalf("eviction of a emitted %v", sums)
	}
	if st := b.Stats(); st.Sources != 2 {
		t.Errorf("tracking %d sources, cap 2", st.Sources)
	}
	b.Tick(t0, true)
	if n := len(out.summaries()); n != 1 {
		t.Errorf("a's summary emitted again at the end: %d summaries", n)
	}
}

func TestSweepExact(t *testing.T) {
	const rate, burst = 1 << 10, 8 << 10
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: rate, Burst: burst, Protect: floodgate.Err, ProtectRate: rate, ProtectBurst: burst}, out)
	b.Handle(t0, msg("h", "a", floodgate.Info, burst, t0)) // empties the budget, drops nothing
	b.Handle(t0, msg("h", "a", floodgate.Err, 2<<10, t0))
	full := t0.Add(burst / rate * time.Second)
	b.Tick(full.Add(-1), false)
	if n := b.Stats().Sources; n != 1 {
		t.Fatalf("swept a source a nanosecond before its bucket is full: %d sources", n)
	}
	b.Tick(full, false)
	if n := b.Stats().Sources; n != 0 {
		t.Fatalf("kept a source whose buckets are full: %d sources", n)
	}
	b.Handle(full, msg("h", "a", floodgate.Info, burst, full))
	if got := out.tallies()["h/a"].verbatim; got != 3 {
		t.Errorf("a swept source came back without its full burst: %d written", got)
	}
}

func TestDisabled(t *testing.T) {
	disk := &diskVar{}
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 1, Protect: floodgate.Err, Disabled: true, Disk: disk.get}, out)
	for range 100 {
		b.Handle(t0, msg("h", "a", floodgate.Info, 1<<10, t0))
	}
	if got := out.tallies()["h/a"].verbatim; got != 100 {
		t.Errorf("disabled budgets passed %d of 100", got)
	}
	disk.l = floodgate.DiskLow
	b.Handle(t0, msg("h", "a", floodgate.Info, 1<<10, t0))
	b.Tick(t0, true)
	if got := out.tallies()["h/a"]; got.verbatim != 100 || got.counted != 1 {
		t.Errorf("disk policy with budgets off: %+v, want 100 written, 1 counted", got)
	}
}

func TestGlobalSharedByShards(t *testing.T) {
	const rate, burst = 10 << 10, 20 << 10
	g := ratelimit.NewGlobal(rate, burst)
	outs := []*sink{{}, {}, {}, {}}
	var wg sync.WaitGroup
	for i, out := range outs {
		wg.Go(func() {
			b := ratelimit.New(ratelimit.Options{Rate: 1 << 20, Burst: 1 << 20, Protect: floodgate.Err, Global: g}, out)
			host := string(rune('a' + i))
			now := t0
			for j := range 2000 { // 2s of 1000 lines/s of 100 bytes per shard
				now = t0.Add(time.Duration(j) * time.Millisecond)
				b.Handle(now, msg(host, "x", floodgate.Info, 100, now))
			}
			b.Tick(now, true)
		})
	}
	wg.Wait()
	var bytes, total int64
	for _, out := range outs {
		for _, tl := range out.tallies() {
			bytes += tl.bytes
			total += tl.verbatim + tl.counted
		}
	}
	// Shards' clocks interleave, so a shard slightly behind earns nothing;
	// the bound still holds.
	if bound := int64(burst + 2*rate); bytes > bound {
		t.Errorf("four shards wrote %d bytes, global budget allows %d", bytes, bound)
	}
	if total != 4*2000 {
		t.Errorf("accounted for %d of %d", total, 4*2000)
	}
}

func TestInternalRecordsUnderDiskPressure(t *testing.T) {
	tests := []struct {
		name    string
		level   floodgate.DiskLevel
		sev     floodgate.Severity
		pass    bool
		dropped int64
	}{
		{name: "ok", level: floodgate.DiskOK, sev: floodgate.Info, pass: true},
		{name: "low, protected", level: floodgate.DiskLow, sev: floodgate.Crit, pass: true},
		{name: "low, unprotected", level: floodgate.DiskLow, sev: floodgate.Warning, dropped: 1},
		{name: "full", level: floodgate.DiskFull, sev: floodgate.Alert, dropped: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			disk := &diskVar{l: tt.level}
			out := &sink{}
			b := ratelimit.New(ratelimit.Options{Protect: floodgate.Err, Disk: disk.get}, out)
			r := msg("node1", "relay", tt.sev, 100, t0)
			r.Syntax = floodgate.Internal
			b.Handle(t0, r)
			b.Tick(t0, true)
			passed := false
			for _, r := range out.recs {
				if r.App == "relay" {
					passed = true
				}
			}
			if passed != tt.pass || b.Stats().InternalDropped != tt.dropped {
				t.Errorf("passed %v, dropped %d; want %v, %d", passed, b.Stats().InternalDropped, tt.pass, tt.dropped)
			}
			if n := len(out.summaries()); n != 0 {
				t.Errorf("an internal record was counted in %d summaries as if received", n)
			}
		})
	}
}

// A watermark crossed is told by one record of floodgate's own: app
// floodgate, the relay host's name, and an event naming the crossing.
func TestDiskWarningsNameTheirEvent(t *testing.T) {
	disk := &diskVar{}
	out := &sink{}
	b := ratelimit.New(ratelimit.Options{Protect: floodgate.Err, Disk: disk.get, Host: "relay-1"}, out)
	var got []string
	for _, l := range []floodgate.DiskLevel{floodgate.DiskLow, floodgate.DiskFull, floodgate.DiskLow, floodgate.DiskOK} {
		disk.l = l
		before := len(out.recs)
		b.Tick(t0, false)
		for _, r := range out.recs[before:] {
			if r.Syntax != floodgate.Internal || r.Summary != nil {
				continue
			}
			if r.Host != "relay-1" || r.App != ratelimit.InternalApp {
				t.Errorf("warning from %s/%s, want relay-1/%s", r.Host, r.App, ratelimit.InternalApp)
			}
			got = append(got, r.Event)
		}
	}
	want := []string{ratelimit.EventDiskLow, ratelimit.EventDiskFull, ratelimit.EventDiskLow, ratelimit.EventDiskOK}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}
