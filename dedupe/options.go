package dedupe

import (
	"time"

	"github.com/floodgate/floodgate"
)

// Options configures an Engine. It mirrors config.Dedupe with plain Go
// types so that dedupe does not depend on the config package; the relay
// converts one into the other.
type Options struct {
	// Window: a pattern seen again within it is counted, not written; a
	// pattern quiet for it has its pending summary emitted.
	Window time.Duration
	// Flush: while a flood goes on, its first summary comes within Flush,
	// so an ongoing flood is visible with a count; later ones come at
	// growing intervals up to FlushMax, so a pattern that lives for hours
	// costs a handful of summaries. A pattern slower than a flood (a
	// trickle) has its count written every FlushMax; a count of holdMax
	// or fewer is written as the lines themselves where they are short.
	Flush    time.Duration
	FlushMax time.Duration
	// BlockIdle ends a multi-line block that got no line for this long.
	BlockIdle time.Duration
	// MaxPatterns caps the patterns this engine remembers (the relay
	// divides the configured total by the shard count). The least recently
	// seen pattern is evicted and its pending summary emitted.
	MaxPatterns int
	// BlockMaxLines and BlockMaxBytes cap one block being assembled, so a
	// runaway stack cannot hold unbounded memory.
	BlockMaxLines int
	BlockMaxBytes int
	// Repeats, Blocks and Cycles switch each detector.
	Repeats, Blocks, Cycles bool
	// CycleMaxPeriod is the longest cycle, in units (lines or blocks),
	// that is looked for.
	CycleMaxPeriod int
	// ExemptApps are apps whose messages are never folded; with
	// ExemptBySeverity, so are messages of ExemptSeverity and worse.
	ExemptApps       []string
	ExemptBySeverity bool
	ExemptSeverity   floodgate.Severity
	// Observer, when set, is told the fate of every message (replay's
	// -labels and report).
	Observer floodgate.Observer
	// OnRestartLoop, when set, is called from the goroutine that owns the
	// engine when a restart loop is recognised and at each flush while it
	// continues, so that alarms need not poll.
	OnRestartLoop func(RestartLoop)
}

// DefaultOptions returns the options the built-in configuration uses, the
// same values as config.Default().Dedupe.
func DefaultOptions() Options {
	return Options{
		Window:         time.Hour,
		Flush:          30 * time.Second,
		FlushMax:       time.Hour,
		BlockIdle:      2 * time.Second,
		MaxPatterns:    100000,
		BlockMaxLines:  500,
		BlockMaxBytes:  256 << 10,
		Repeats:        true,
		Blocks:         true,
		Cycles:         true,
		CycleMaxPeriod: 32,
	}
}

// sane fills zero or out-of-range values with defaults, so that a
// zero Options works.
func (o Options) sane() Options {
	d := DefaultOptions()
	if o.Window <= 0 {
		o.Window = d.Window
	}
	if o.Flush <= 0 {
		o.Flush = d.Flush
	}
	if o.FlushMax < o.Flush {
		o.FlushMax = max(o.Flush, min(d.FlushMax, 120*o.Flush))
	}
	if o.BlockIdle <= 0 {
		o.BlockIdle = d.BlockIdle
	}
	if o.MaxPatterns < 1 {
		o.MaxPatterns = d.MaxPatterns
	}
	if o.BlockMaxLines < 2 {
		o.BlockMaxLines = d.BlockMaxLines
	}
	if o.BlockMaxBytes < 1 {
		o.BlockMaxBytes = d.BlockMaxBytes
	}
	if o.CycleMaxPeriod < 2 {
		o.CycleMaxPeriod = 2
	}
	if o.CycleMaxPeriod > 256 {
		o.CycleMaxPeriod = 256
	}
	return o
}

// RestartLoop is a systemd unit that systemd keeps restarting, as seen in
// one host's log. Alarms (a later stage) read it to tell an operator that
// auto-restart is retrying forever.
type RestartLoop struct {
	Host, Unit string
	// Restarts counts the restarts seen since the loop began.
	Restarts int64
	// First and Last are the message times of the first and last restart.
	First, Last time.Time
	// ExitStatus is the last exit status systemd reported for the unit
	// ("125/n/a"), "" when none was seen.
	ExitStatus string
	// GaveUp is set once systemd said "Start request repeated too
	// quickly": the unit has hit its start limit.
	GaveUp bool
}
