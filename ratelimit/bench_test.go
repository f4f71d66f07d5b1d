package ratelimit_test

import (
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/ratelimit"
)

// nopSink drops everything: the benchmarks measure Budgets alone.
type nopSink struct{}

func (nopSink) Handle(time.Time, *floodgate.Record) {}
func (nopSink) Tick(time.Time, bool)                {}

// BenchmarkHandle measures Handle in steady state: sixteen sources over
// budget, interleaved, most lines dropped into pending summaries, one in
// ten protected. It must not allocate.
func BenchmarkHandle(b *testing.B) {
	tests := []struct {
		name   string
		run    int // consecutive lines per source
		global bool
	}{
		{name: "interleaved", run: 1},
		{name: "runs of 64", run: 64},
		{name: "interleaved global", run: 1, global: true},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			opts := ratelimit.Options{Rate: 64 << 10, Burst: 1 << 20, Protect: floodgate.Err, Disk: func() floodgate.DiskLevel { return floodgate.DiskOK }}
			if tt.global {
				opts.Global = ratelimit.NewGlobal(1<<20, 8<<20)
			}
			bud := ratelimit.New(opts, nopSink{})
			b.ReportAllocs()
			var recs []*floodgate.Record
			for i := range 16 {
				for j := range 10 {
					sev := floodgate.Info
					if j == 0 {
						sev = floodgate.Err
					}
					recs = append(recs, msg(string(rune('a'+i)), "app", sev, 200, t0))
				}
			}
			now := t0
			i := 0
			for b.Loop() {
				now = now.Add(time.Microsecond) // 1M lines/s of 200 bytes: far over budget
				r := recs[(i/tt.run)%16*10+i%10]
				bud.Handle(now, r)
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
