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
// budgets, then the outputs. A reload (Server.Reload) rebuilds the parts
// whose config changed, in each shard's goroutine (reload.go).
type chainBuilder struct {
	cfg    *config.Config
	shards int
	outs   []output.Output
	global *ratelimit.Global
	// guards are the outputs' disk guards, read by disk; a reload that
	// changes the outputs replaces them.
	guards atomic.Pointer[[]interface{ DiskLevel() floodgate.DiskLevel }]
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
	// checkpoint, when set, keeps the pending counts on disk.
	checkpoint *checkpointer
	// chains are each shard's parts, touched only by its goroutine once
	// built.
	chains []*shardChain
}

// shardChain is one shard's chain, cut where a reload may swap a part:
//
//	head, live, flood ─► dedupe ─► budgets ─► sink (outputs)
//	                   ↑          ↑
//	                 toDedupe   toBudgets
//
// Each cut is a hop whose next the shard's goroutine may change between
// two batches.
type shardChain struct {
	obs                 floodgate.Observer
	ls                  *liveShard
	sink                *sinkHandler
	toDedupe, toBudgets *hop
	// engine is the dedupe stage of the chain, nil without one; the
	// checkpoint reads its pending counts, and the sink's budgets'.
	engine *dedupe.Engine
}

// appendPending appends the pending counts of the chain's stages as they
// are now: a reload may have replaced either.
func (sc *shardChain) appendPending(ps []floodgate.Pending) []floodgate.Pending {
	if sc.engine != nil {
		ps = sc.engine.AppendPending(ps)
	}
	if sc.sink.budgets != nil {
		ps = sc.sink.budgets.AppendPending(ps)
	}
	return ps
}

// hop is a cut in a chain: it passes everything to next, which the
// shard's goroutine may replace. While mute, it passes no Tick: a part
// ticked final on its own, before a reload replaces it, ticks no further.
type hop struct {
	next floodgate.Handler
	mute bool
}

func (h *hop) Handle(now time.Time, r *floodgate.Record) { h.next.Handle(now, r) }

func (h *hop) Tick(now time.Time, final bool) {
	if !h.mute {
		h.next.Tick(now, final)
	}
}

// tickFinal ticks what follows h final on its own, which emits every
// summary it holds into the chain after it, and leaves the rest of the
// chain unticked: stop is the hop where the part ends.
func (h *hop) tickFinal(now time.Time, stop *hop) {
	stop.mute = true
	h.next.Tick(now, true)
	stop.mute = false
}

func newChainBuilder(cfg *config.Config, shards int, outs []output.Output, loops *loopTable) *chainBuilder {
	b := &chainBuilder{cfg: cfg, shards: shards, outs: outs, loops: loops}
	b.host, _ = os.Hostname() // "" leaves ratelimit's own default
	fo := DefaultFloodOptions()
	b.flood = &fo
	b.global = newGlobal(cfg.RateLimit)
	if b.setGuards(outs) {
		b.disk = b.diskLevel
	}
	return b
}

// newGlobal returns the budget shared by every shard, nil for none.
func newGlobal(r config.RateLimit) *ratelimit.Global {
	if r.GlobalRate > 0 {
		return ratelimit.NewGlobal(int64(r.GlobalRate), int64(r.GlobalBurst))
	}
	return nil
}

// setGuards keeps the disk guards of outs and reports whether there are
// any.
func (b *chainBuilder) setGuards(outs []output.Output) bool {
	var guards []interface{ DiskLevel() floodgate.DiskLevel }
	for _, o := range outs {
		if g, ok := o.(interface{ DiskLevel() floodgate.DiskLevel }); ok {
			guards = append(guards, g)
		}
	}
	b.guards.Store(&guards)
	return len(guards) > 0
}

// diskLevel is the worst level of the outputs' disk guards.
func (b *chainBuilder) diskLevel() floodgate.DiskLevel {
	worst := floodgate.DiskOK
	for _, g := range *b.guards.Load() {
		worst = max(worst, g.DiskLevel())
	}
	return worst
}

func (b *chainBuilder) chain(shard int) floodgate.Handler {
	sc := &shardChain{sink: &sinkHandler{outs: b.outs, counts: &sinkCounts{}}, obs: b.observer}
	b.counts = append(b.counts, sc.sink.counts)
	b.chains = append(b.chains, sc)
	if b.checkpoint != nil {
		sc.sink.ck = &shardCheckpoint{c: b.checkpoint, shard: shard, write: sc.sink.write, pending: sc.appendPending}
	}
	var stages []floodgate.Stage
	if b.head != nil {
		stages = append(stages, b.head)
	}
	if b.live != nil {
		sc.ls = b.live.shards[shard]
		stages = append(stages, func(next floodgate.Handler) floodgate.Handler { return liveHead{next, sc.ls} })
		if sc.obs != nil {
			sc.obs = teeObserver{sc.obs, sc.ls}
		} else {
			sc.obs = sc.ls
		}
	}
	if b.flood != nil {
		o := *b.flood
		o.Host = b.host
		o.MaxSources = max(1, o.MaxSources/b.shards)
		stages = append(stages, func(next floodgate.Handler) floodgate.Handler {
			f := newFloodStage(o, next, sc.sink)
			f.onFlood = b.onFlood
			return f
		})
	}
	sc.toBudgets = &hop{next: b.budgetPart(b.cfg.RateLimit, b.disk, b.global, sc)}
	sc.toDedupe = &hop{next: b.dedupePart(b.cfg.Dedupe, sc)}
	return floodgate.Chain(sc.toDedupe, stages...)
}

// dedupePart builds dedupe's part of a chain over sc.toBudgets.
func (b *chainBuilder) dedupePart(d config.Dedupe, sc *shardChain) floodgate.Handler {
	var stages []floodgate.Stage
	sc.engine = nil
	if d.Enabled {
		o := dedupeOptions(d, b.shards)
		if b.loops != nil {
			o.OnRestartLoop = b.loops.update
		}
		o.Observer = sc.obs
		stages = append(stages, func(next floodgate.Handler) floodgate.Handler {
			sc.engine = dedupe.New(o, next)
			return sc.engine
		})
		if sc.ls != nil {
			stages = append(stages, func(next floodgate.Handler) floodgate.Handler { return liveTap{next, sc.ls} })
		}
	} else {
		if b.observer != nil {
			stages = append(stages, func(next floodgate.Handler) floodgate.Handler { return labels{next, b.observer} })
		}
		if sc.ls != nil {
			stages = append(stages, func(next floodgate.Handler) floodgate.Handler { return liveLabels{next, sc.ls} })
		}
	}
	return floodgate.Chain(sc.toBudgets, stages...)
}

// budgetPart builds the budgets' part of a chain over sc.sink, and tells
// the sink of the budget stage (nil for none).
func (b *chainBuilder) budgetPart(r config.RateLimit, disk func() floodgate.DiskLevel, global *ratelimit.Global, sc *shardChain) floodgate.Handler {
	sc.sink.setBudgets(nil)
	if !r.Enabled && disk == nil {
		return sc.sink
	}
	o := ratelimitOptions(r, b.shards)
	o.Global = global
	o.Disk = disk
	o.Host = b.host
	o.Observer = sc.obs
	budgets := ratelimit.New(o, sc.sink)
	sc.sink.setBudgets(budgets)
	return budgets
}

// hooks returns what shard i's loop does for the checkpoint: write the
// held records a checkpoint on disk has acknowledged, and take a snapshot
// between ticks when ticks are more than checkpointEvery apart.
func (b *chainBuilder) hooks(i int) shardHooks {
	if b.checkpoint == nil || i >= len(b.chains) {
		return shardHooks{}
	}
	ck := b.chains[i].sink.ck
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
	// dropped and droppedBytes are the counts of the budget stages a
	// reload replaced, so that the published ones never go back.
	dropped, droppedBytes [numReasons]int64
}

// setBudgets makes b the budget stage the sink publishes the counts of,
// keeping those of the one it replaces.
func (h *sinkHandler) setBudgets(b *ratelimit.Budgets) {
	if h.budgets != nil {
		st := h.budgets.Stats()
		for i := range st.Dropped {
			h.dropped[i] += st.Dropped[i]
			h.droppedBytes[i] += st.DroppedBytes[i]
		}
	}
	h.budgets = b
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
			h.counts.dropped[i].Store(h.dropped[i] + st.Dropped[i])
			h.counts.droppedBytes[i].Store(h.droppedBytes[i] + st.DroppedBytes[i])
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
