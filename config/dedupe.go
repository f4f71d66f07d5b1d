package config

import (
	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/dedupe"
)

// Dedupe is the [dedupe] section.
type Dedupe struct {
	// Enabled false writes every message verbatim.
	Enabled bool `toml:"enabled"`
	// Window: a pattern seen again within it is counted, not written; a
	// pattern quiet for it has its summary emitted.
	Window Duration `toml:"window"`
	// Flush: a flood's first summary comes within it; later ones at
	// doubling intervals up to FlushMax.
	Flush    Duration `toml:"flush"`
	FlushMax Duration `toml:"flush_max"`
	// MaxPatterns caps the patterns remembered (in all shards together);
	// the least recently seen is evicted and its summary emitted.
	MaxPatterns int `toml:"max_patterns"`
	// BlockIdle ends a multi-line block that got no line for this long.
	BlockIdle Duration `toml:"block_idle"`
	// BlockMaxLines and BlockMaxBytes cap one block.
	BlockMaxLines int  `toml:"block_max_lines"`
	BlockMaxBytes Size `toml:"block_max_bytes"`
	// Repeats, Blocks and Cycles switch each detector.
	Repeats bool `toml:"repeats"`
	Blocks  bool `toml:"blocks"`
	Cycles  bool `toml:"cycles"`
	// CycleMaxPeriod is the longest cycle, in units, that is looked for.
	CycleMaxPeriod int `toml:"cycle_max_period"`
	// ExemptSeverity: messages of this severity and worse are never
	// folded ("" exempts none); ExemptApps: nor are those of these apps.
	ExemptSeverity string   `toml:"exempt_severity"`
	ExemptApps     []string `toml:"exempt_apps"`
}

// defaultDedupe is dedupe's own defaults, enabled.
func defaultDedupe() Dedupe {
	d := dedupe.DefaultOptions()
	return Dedupe{
		Enabled:        true,
		Window:         Duration(d.Window),
		Flush:          Duration(d.Flush),
		FlushMax:       Duration(d.FlushMax),
		MaxPatterns:    d.MaxPatterns,
		BlockIdle:      Duration(d.BlockIdle),
		BlockMaxLines:  d.BlockMaxLines,
		BlockMaxBytes:  Size(d.BlockMaxBytes),
		Repeats:        d.Repeats,
		Blocks:         d.Blocks,
		Cycles:         d.Cycles,
		CycleMaxPeriod: d.CycleMaxPeriod,
	}
}

func (d *Dedupe) validate(v *validator) {
	if d.Window <= 0 {
		v.add("dedupe.window", "%s: want a positive duration", d.Window)
	}
	if d.Flush <= 0 {
		v.add("dedupe.flush", "%s: want a positive duration", d.Flush)
	}
	if d.FlushMax < d.Flush {
		v.add("dedupe.flush_max", "%s: want at least flush (%s)", d.FlushMax, d.Flush)
	}
	if d.ExemptSeverity != "" {
		if _, ok := floodgate.ParseSeverity(d.ExemptSeverity); !ok {
			v.add("dedupe.exempt_severity", "%q is not a severity", d.ExemptSeverity)
		}
	}
	if d.MaxPatterns < 1 {
		v.add("dedupe.max_patterns", "%d: want at least 1", d.MaxPatterns)
	}
	if d.BlockIdle <= 0 {
		v.add("dedupe.block_idle", "%s: want a positive duration", d.BlockIdle)
	}
	if d.BlockMaxLines < 2 {
		v.add("dedupe.block_max_lines", "%d: want at least 2", d.BlockMaxLines)
	}
	if d.BlockMaxBytes < 1024 {
		v.add("dedupe.block_max_bytes", "%s: want at least 1KiB", d.BlockMaxBytes)
	}
	if d.CycleMaxPeriod < 2 || d.CycleMaxPeriod > 256 {
		v.add("dedupe.cycle_max_period", "%d is out of range: want 2 to 256", d.CycleMaxPeriod)
	}
}
