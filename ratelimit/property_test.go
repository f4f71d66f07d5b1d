package ratelimit_test

import (
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/ratelimit"
	"pgregory.net/rapid"
)

// TestAccountingInvariant drives one or two shards (sharing a Global
// budget or not) with random sequences of sources, severities, sizes,
// times, disk levels, upstream summaries and internal records, and checks
// at the end that for every source the lines written plus the counts of
// its summaries equal what it sent: nothing is lost, nothing is counted
// twice. Where the table can hold every source, it also checks that no
// source wrote more than its budgets allow.
func TestAccountingInvariant(t *testing.T) {
	hosts := []string{"a", "b", "c"}
	apps := []string{"x", "y"}
	rapid.Check(t, func(t *rapid.T) {
		disk := &diskVar{}
		opts := ratelimit.Options{
			Rate:         rapid.Int64Range(1, 2000).Draw(t, "rate"),
			Burst:        rapid.Int64Range(1, 4000).Draw(t, "burst"),
			Protect:      floodgate.Severity(rapid.IntRange(0, 7).Draw(t, "protect")),
			ProtectRate:  rapid.Int64Range(1, 4000).Draw(t, "protectRate"),
			ProtectBurst: rapid.Int64Range(1, 8000).Draw(t, "protectBurst"),
			MaxSources:   rapid.IntRange(1, 8).Draw(t, "maxSources"),
			Flush:        time.Duration(rapid.IntRange(1, 30).Draw(t, "flushSeconds")) * time.Second,
			Key:          rapid.SampledFrom([][]string{nil, {"host"}, {"host", "app", "procid"}, {"facility"}}).Draw(t, "key"),
			Disabled:     rapid.IntRange(0, 9).Draw(t, "disabled") == 0,
			Disk:         disk.get,
		}
		if rapid.Bool().Draw(t, "global") {
			opts.Global = ratelimit.NewGlobal(rapid.Int64Range(1, 3000).Draw(t, "globalRate"), rapid.Int64Range(1, 6000).Draw(t, "globalBurst"))
		}
		shards := rapid.IntRange(1, 2).Draw(t, "shards")
		outs := make([]*sink, shards)
		bs := make([]*ratelimit.Budgets, shards)
		for i := range shards {
			outs[i] = &sink{}
			bs[i] = ratelimit.New(opts, outs[i])
		}
		shardOf := func(host string) int { return int(host[0]) % shards }

		// Accounting holds per source as the key defines it: with a key of
		// host alone, a summary names the app of its sample line.
		group := func(r *floodgate.Record) string {
			switch len(opts.Key) {
			case 0:
				return r.Host + "/" + r.App
			case 1:
				if opts.Key[0] == "host" {
					return r.Host
				}
				return r.Facility.String()
			}
			return r.Host + "/" + r.App + "/" + r.ProcID
		}
		received := map[string]int64{}
		internal := int64(0)
		maxSize := int64(0)
		now := t0
		for i, n := 0, rapid.IntRange(1, 300).Draw(t, "ops"); i < n; i++ {
			now = now.Add(time.Duration(rapid.Int64Range(0, 3e9).Draw(t, "advance")))
			host := rapid.SampledFrom(hosts).Draw(t, "host")
			app := rapid.SampledFrom(apps).Draw(t, "app")
			b := bs[shardOf(host)]
			switch op := rapid.IntRange(0, 19).Draw(t, "op"); {
			case op < 13:
				size := rapid.IntRange(0, 3000).Draw(t, "size")
				r := msg(host, app, floodgate.Severity(rapid.IntRange(0, 7).Draw(t, "severity")), size, now)
				r.ProcID = rapid.SampledFrom([]string{"1", "2"}).Draw(t, "procid")
				r.Facility = floodgate.Facility(rapid.IntRange(0, 2).Draw(t, "facility"))
				b.Handle(now, r)
				received[group(r)]++
				maxSize = max(maxSize, int64(size), int64(len(r.Text)))
			case op < 14:
				// floodgate's own record: outside the accounting, passed
				// or counted in Stats.
				r := msg(host, "floodgate", floodgate.Severity(rapid.IntRange(0, 7).Draw(t, "severity")), 100, now)
				r.Syntax = floodgate.Internal
				b.Handle(now, r)
				internal++
			case op < 15:
				r := msg(host, app, floodgate.Info, 80, now)
				count := rapid.Int64Range(1, 1000).Draw(t, "count")
				r.Summary = &floodgate.Summary{Kind: floodgate.Repeat, FP: "0000abcd", Count: count, First: now, Last: now}
				b.Handle(now, r)
				received[group(r)] += count
			case op < 18:
				b.Tick(now, false)
			default:
				disk.l = floodgate.DiskLevel(rapid.IntRange(0, 2).Draw(t, "disk"))
			}
		}
		for _, b := range bs {
			b.Tick(now, true)
		}

		got := map[string]tally{}
		for _, out := range outs {
			for _, r := range out.recs {
				if r.Summary == nil && r.Syntax == floodgate.Internal {
					if r.Host != "floodgate" {
						internal-- // passed on
					}
					continue // no message received
				}
				g := got[group(&r)]
				if r.Summary != nil {
					if r.Summary.Count <= 0 {
						t.Fatalf("summary with count %d: %q", r.Summary.Count, r.Text)
					}
					g.counted += r.Summary.Count
				} else {
					g.verbatim++
				}
				got[group(&r)] = g
			}
		}
		for _, b := range bs {
			internal -= b.Stats().InternalDropped
		}
		if internal != 0 {
			t.Fatalf("%d internal records neither passed on nor counted as dropped", internal)
		}
		for k, want := range received {
			if g := got[k]; g.verbatim+g.counted != want {
				t.Fatalf("%s: wrote %d and counted %d, received %d", k, g.verbatim, g.counted, want)
			}
		}
		for k, g := range got {
			if _, ok := received[k]; !ok {
				t.Fatalf("%s: records %+v for a source that sent nothing", k, g)
			}
		}

		// Budget bounds, where no source was evicted and the key is the
		// default one (an evicted source starts over with a full burst).
		if opts.Disabled || opts.MaxSources < len(hosts)*len(apps) || opts.Key != nil {
			return
		}
		elapsed := now.Sub(t0)
		for _, out := range outs {
			written := map[string][2]int64{} // unprotected, protected bytes
			for _, r := range out.recs {
				if r.Summary != nil || r.Syntax == floodgate.Internal {
					continue
				}
				w := written[r.Host+"/"+r.App]
				if r.Severity <= opts.Protect {
					w[1] += int64(r.Size)
				} else {
					w[0] += int64(r.Size)
				}
				written[r.Host+"/"+r.App] = w
			}
			for k, w := range written {
				if bound := opts.Burst + earned(opts.Rate, elapsed) + maxSize; w[0] > bound {
					t.Fatalf("%s wrote %d bytes, budget allows %d", k, w[0], bound)
				}
				if bound := opts.ProtectBurst + earned(opts.ProtectRate, elapsed) + maxSize; w[1] > bound {
					t.Fatalf("%s wrote %d protected bytes, budget allows %d", k, w[1], bound)
				}
			}
		}
	})
}

// earned is what rate bytes per second add up to over d, rounded up.
func earned(rate int64, d time.Duration) int64 {
	return int64(d.Seconds()*float64(rate)) + 1
}
