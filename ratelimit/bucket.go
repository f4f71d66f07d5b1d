package ratelimit

import (
	"sync"
	"time"
)

// nano is the number of bucket units in one byte. Levels are kept in
// billionths of a byte so that a refill of (elapsed nanoseconds × bytes per
// second) is exact integer arithmetic: no rounding lets a source drift over
// its budget during a long flood, and a test can assert the bound to the
// byte.
const nano = 1_000_000_000

// maxBytes caps a rate, a burst and a single charge (2 GiB), so that
// levels in nanobytes stay clear of int64 overflow: a full bucket less the
// largest charge, plus one step of refill, stays below 2^63. Budgets that
// large are unlimited in practice.
const maxBytes = 1 << 31

// limit is a rate and a burst, shared by every bucket that uses it.
type limit struct {
	rate  int64 // bytes per second, 1..maxBytes
	burst int64 // bytes, 1..maxBytes
	cap   int64 // burst in nanobytes
}

func newLimit(rate, burst int64) *limit {
	rate = min(max(rate, 1), maxBytes)
	burst = min(max(burst, 1), maxBytes)
	return &limit{rate: rate, burst: burst, cap: burst * nano}
}

// bucket is a signed token bucket in nanobytes.
//
// It is ours rather than golang.org/x/time/rate's Limiter for three
// reasons. A message larger than the burst must be chargeable: AllowN with
// n > burst is false forever, which would either drop such a message
// always or, if let through for free when the bucket is full, let a source
// of oversize lines write several times its rate. Here it passes when the
// bucket is full and is charged in full, so the level goes negative and
// the source waits until the debt is repaid; the written total overshoots
// rate × time + burst by at most one message. Integer levels make the
// bound exact and make "is it full again?" (the exact idle sweep) a
// comparison. And a source owns two buckets used by one goroutine, where
// Limiter carries a mutex and float state in each.
type bucket struct {
	level int64     // nanobytes; negative after an oversize charge
	last  time.Time // time of the last refill
}

// fill makes b a full bucket of l at now: a new source starts with its
// whole burst, exactly as a swept one would have.
func (b *bucket) fill(now time.Time, l *limit) {
	b.level = l.cap
	b.last = now
}

// refill adds what l's rate earned since the last refill. A clock that
// goes backwards (shards of a Global disagree slightly) earns nothing and
// leaves last where it was, so no time is counted twice.
func (b *bucket) refill(now time.Time, l *limit) {
	if !now.After(b.last) {
		return
	}
	el := int64(now.Sub(b.last)) // saturates at about 292 years: full anyway
	b.last = now
	room := l.cap - b.level
	if room <= 0 {
		return
	}
	// el*rate >= room, written without the multiplication overflowing.
	if el > (room-1)/l.rate {
		b.level = l.cap
		return
	}
	b.level += el * l.rate
}

// admits reports whether n bytes may pass now: the bucket holds n bytes,
// or, for a message larger than the burst, the bucket is full.
func (b *bucket) admits(n int64, l *limit) bool {
	return b.level >= min(n, l.burst)*nano
}

// take charges n bytes, possibly below zero.
func (b *bucket) take(n int64) {
	b.level -= min(n, maxBytes) * nano
}

// full reports whether b is full after a refill: the state of a bucket that
// was never used, so the source holding it may be forgotten.
func (b *bucket) full(l *limit) bool {
	return b.level >= l.cap
}

// Global is a byte budget for all sources together, shared by the Budgets
// of every shard. It is safe for concurrent use: one mutex around a bucket,
// taken only for messages that already passed their source's budget.
type Global struct {
	mu  sync.Mutex
	lim *limit
	b   bucket
}

// NewGlobal returns a global budget of rate bytes per second and burst
// bytes. It starts full.
func NewGlobal(rate, burst int64) *Global {
	g := &Global{lim: newLimit(rate, burst)}
	g.b.level = g.lim.cap
	return g
}

// allow charges n bytes and reports true if the global budget admits
// them; it charges nothing when it refuses.
func (g *Global) allow(now time.Time, n int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.b.refill(now, g.lim)
	if !g.b.admits(n, g.lim) {
		return false
	}
	g.b.take(n)
	return true
}

// force charges n bytes that pass regardless (protected severities): they
// use up the global budget of other messages but are never refused by it.
func (g *Global) force(now time.Time, n int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.b.refill(now, g.lim)
	g.b.take(n)
}

// full reports whether the global budget has refilled completely at now.
func (g *Global) full(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.b.refill(now, g.lim)
	return g.b.full(g.lim)
}
