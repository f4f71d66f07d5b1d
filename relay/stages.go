package relay

import (
	"os"
	"sync/atomic"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/dedupe"
	"github.com/floodgate/floodgate/ratelimit"
	"github.com/floodgate/floodgate/relay/output"
)

// chainBuilder builds each shard's chain from the config: dedupe, then
// budgets, then the outputs.
type chainBuilder struct {
	cfg    *config.Config
	shards int
	outs   []output.Output
	global *ratelimit.Global
	disk   func() floodgate.DiskLevel
	loops  *loopTable
	counts []*sinkCounts
	host   string // this machine's name, the host of floodgate's own records
	// observer, when set, is told every message's fate.
	observer floodgate.Observer
	// head, when set, is the first stage of every chain.
	head floodgate.Stage
	// flood, when set, says when a source floods: its start and end are
	// written as floodgate's own records.
	flood *FloodOptions
	// onFlood, when set, is told of every flood as it starts and ends.
	onFlood func(Flood)
	// live, when set, keeps the live table: each shard feeds its part.
	live *liveTable
	// checkpoint, when set, keeps the pending counts on disk; sinks are
	// the shards' sinks, by shard.
	checkpoint *checkpointer
	sinks      []*sinkHandler
}

func newChainBuilder(cfg *config.Config, shards int, outs []output.Output, loops *loopTable) *chainBuilder {
	b := &chainBuilder{cfg: cfg, shards: shards, outs: outs, loops: loops}
	b.host, _ = os.Hostname() // "" leaves ratelimit's own default
	fo := DefaultFloodOptions()
	b.flood = &fo
	if cfg.RateLimit.GlobalRate > 0 {
		b.global = ratelimit.NewGlobal(int64(cfg.RateLimit.GlobalRate), int64(cfg.RateLimit.GlobalBurst))
	}
	var guards []interface{ DiskLevel() floodgate.DiskLevel }
	for _, o := range outs {
		if g, ok := o.(interface{ DiskLevel() floodgate.DiskLevel }); ok {
			guards = append(guards, g)
		}
	}
	if len(guards) > 0 {
		b.disk = func() floodgate.DiskLevel {
			worst := floodgate.DiskOK
			for _, g := range guards {
				worst = max(worst, g.DiskLevel())
			}
			return worst
		}
	}
	return b
}

func (b *chainBuilder) chain(shard int) floodgate.Handler {
	sink := &sinkHandler{outs: b.outs, counts: &sinkCounts{}}
	b.counts = append(b.counts, sink.counts)
	if b.checkpoint != nil {
		sink.ck = &shardCheckpoint{c: b.checkpoint, shard: shard, write: sink.write}
		b.sinks = append(b.sinks, sink)
	}
	var stages []floodgate.Stage
	if b.head != nil {
		stages = append(stages, b.head)
	}
	obs := b.observer
	var ls *liveShard
	if b.live != nil {
		ls = b.live.shards[shard]
		stages = append(stages, func(next floodgate.Handler) floodgate.Handler { return liveHead{next, ls} })
		if obs != nil {
			obs = teeObserver{obs, ls}
		} else {
			obs = ls
		}
	}
	if b.flood != nil {
		o := *b.flood
		o.Host = b.host
		o.MaxSources = max(1, o.MaxSources/b.shards)
		stages = append(stages, func(next floodgate.Handler) floodgate.Handler {
			f := newFloodStage(o, next, sink)
			f.onFlood = b.onFlood
			return f
		})
	}
	if d := b.cfg.Dedupe; d.Enabled {
		o := dedupeOptions(d, b.shards)
		if b.loops != nil {
			o.OnRestartLoop = b.loops.update
		}
		o.Observer = obs
		stages = append(stages, func(next floodgate.Handler) floodgate.Handler {
			e := dedupe.New(o, next)
			if sink.ck != nil {
				sink.ck.pending = append(sink.ck.pending, e)
			}
			return e
		})
		if ls != nil {
			stages = append(stages, func(next floodgate.Handler) floodgate.Handler { return liveTap{next, ls} })
		}
	} else {
		if b.observer != nil {
			stages = append(stages, func(next floodgate.Handler) floodgate.Handler { return labels{next, b.observer} })
		}
		if ls != nil {
			stages = append(stages, func(next floodgate.Handler) floodgate.Handler { return liveLabels{next, ls} })
		}
	}
	if r := b.cfg.RateLimit; r.Enabled || b.disk != nil {
		o := ratelimitOptions(r, b.shards)
		o.Global = b.global
		o.Disk = b.disk
		o.Host = b.host
		o.Observer = obs
		stages = append(stages, func(next floodgate.Handler) floodgate.Handler {
			sink.budgets = ratelimit.New(o, next)
			if sink.ck != nil {
				sink.ck.pending = append(sink.ck.pending, sink.budgets)
			}
			return sink.budgets
		})
	}
	return floodgate.Chain(sink, stages...)
}

// hooks returns what shard i's loop does for the checkpoint: write the
// held records a checkpoint on disk has acknowledged, and take a snapshot
// between ticks when ticks are more than checkpointEvery apart.
func (b *chainBuilder) hooks(i int) shardHooks {
	if b.checkpoint == nil || i >= len(b.sinks) {
		return shardHooks{}
	}
	ck := b.sinks[i].ck
	return shardHooks{ack: b.checkpoint.ackCh[i], onAck: ck.release, snapshot: ck.snapshot}
}

func dedupeOptions(d config.Dedupe, shards int) dedupe.Options {
	o := dedupe.Options{
		Window:         d.Window.D(),
		Flush:          d.Flush.D(),
		FlushMax:       d.FlushMax.D(),
		ExemptApps:     d.ExemptApps,
		BlockIdle:      d.BlockIdle.D(),
		MaxPatterns:    max(1, d.MaxPatterns/shards),
		BlockMaxLines:  d.BlockMaxLines,
		BlockMaxBytes:  int(d.BlockMaxBytes),
		Repeats:        d.Repeats,
		Blocks:         d.Blocks,
		Cycles:         d.Cycles,
		CycleMaxPeriod: d.CycleMaxPeriod,
	}
	if sev, ok := floodgate.ParseSeverity(d.ExemptSeverity); ok && d.ExemptSeverity != "" {
		o.ExemptBySeverity, o.ExemptSeverity = true, sev
	}
	return o
}

func ratelimitOptions(r config.RateLimit, shards int) ratelimit.Options {
	o := ratelimit.Options{
		Rate:         int64(r.Rate),
		Burst:        int64(r.Burst),
		Protect:      r.ProtectSeverity(),
		ProtectRate:  int64(r.ProtectRate),
		ProtectBurst: int64(r.ProtectBurst),
		Key:          r.Key,
		MaxSources:   max(1, r.MaxSources/shards),
		Flush:        r.Flush.D(),
		Disabled:     !r.Enabled,
	}
	for _, ov := range r.Overrides {
		o.Overrides = append(o.Overrides, ratelimit.Override{Host: ov.Host, App: ov.App, Rate: int64(ov.Rate), Burst: int64(ov.Burst)})
	}
	return o
}

// sinkCounts are one shard's counts of what reached the outputs. Only the
// shard writes them; metrics and reports read them.
type sinkCounts struct {
	verbatim  atomic.Int64
	summaries [floodgate.Suppressed + 1]atomic.Int64 // records by kind
	folded    [floodgate.Suppressed + 1]atomic.Int64 // messages they stand for
	internal  atomic.Int64
	errors    atomic.Int64
	// dropped and droppedBytes are the budget stage's Stats by
	// ratelimit.Reason, copied at every tick.
	dropped, droppedBytes [numReasons]atomic.Int64
}

// numReasons bounds ratelimit.Reason, the index of Stats.Dropped.
const numReasons = len(ratelimit.Stats{}.Dropped)

// sinkHandler is the end of every chain: it writes records to the outputs.
type sinkHandler struct {
	outs   []output.Output
	counts *sinkCounts
	// budgets is the shard's budget stage, whose drop counts the sink
	// publishes on every tick (its Stats may be read only by the shard's
	// goroutine); nil without one.
	budgets *ratelimit.Budgets
	// ck, when set, checkpoints the shard's pending counts and holds back
	// the records whose counts a checkpoint on disk may still hold.
	ck *shardCheckpoint
}

func (h *sinkHandler) Handle(_ time.Time, r *floodgate.Record) {
	if h.ck != nil && holds(r) {
		h.ck.hold(r)
		return
	}
	h.write(r)
}

// write counts r and hands it to every output.
func (h *sinkHandler) write(r *floodgate.Record) {
	switch {
	case r.Summary != nil:
		if k := r.Summary.Kind; k >= floodgate.Repeat && k <= floodgate.Suppressed {
			h.counts.summaries[k].Add(1)
			h.counts.folded[k].Add(r.Summary.Count)
		}
	case r.Syntax == floodgate.Internal:
		h.counts.internal.Add(1)
	default:
		h.counts.verbatim.Add(1)
	}
	for _, o := range h.outs {
		if err := o.Write(r); err != nil {
			// The output counts and reports its own failures; this
			// count only feeds the metric.
			h.counts.errors.Add(1)
		}
	}
}

// Tick runs after every stage before it has ticked, in the shard's
// goroutine: the place to read the budget stage's counts.
func (h *sinkHandler) Tick(_ time.Time, final bool) {
	if h.budgets != nil {
		st := h.budgets.Stats()
		for i := range st.Dropped {
			h.counts.dropped[i].Store(st.Dropped[i])
			h.counts.droppedBytes[i].Store(st.DroppedBytes[i])
		}
	}
	if h.ck != nil {
		// Every stage has ticked: what this tick emits is held, and the
		// snapshot no longer holds its counts.
		h.ck.tick(final)
	}
}

// Totals are the pipeline's counts of what reached the outputs.
type Totals struct {
	Verbatim  int64
	Summaries map[string]int64 // summary records by kind
	Folded    map[string]int64 // messages they stand for, by kind
	Internal  int64
	// Dropped and DroppedBytes are what the budgets withheld, by reason
	// ("budget", "protected budget", "global budget", "disk"), as of the
	// shards' last tick.
	Dropped, DroppedBytes map[string]int64
}

func (b *chainBuilder) totals() Totals {
	t := Totals{Summaries: map[string]int64{}, Folded: map[string]int64{}, Dropped: map[string]int64{}, DroppedBytes: map[string]int64{}}
	for _, c := range b.counts {
		t.Verbatim += c.verbatim.Load()
		t.Internal += c.internal.Load()
		for i := range c.dropped {
			r := ratelimit.Reason(i).String()
			t.Dropped[r] += c.dropped[i].Load()
			t.DroppedBytes[r] += c.droppedBytes[i].Load()
		}
		for k := floodgate.Repeat; k <= floodgate.Suppressed; k++ {
			t.Summaries[k.String()] += c.summaries[k].Load()
			t.Folded[k.String()] += c.folded[k].Load()
		}
	}
	return t
}
