package config

import (
	"fmt"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/ratelimit"
)

// RateLimit is the [ratelimit] section: per-source byte budgets.
type RateLimit struct {
	// Enabled false: no budget ever drops anything.
	Enabled bool `toml:"enabled"`
	// Rate is bytes per second per source; Burst is bytes a source may
	// send at once.
	Rate  Size `toml:"rate"`
	Burst Size `toml:"burst"`
	// Protect: this severity and worse bypass the per-source budget,
	// bounded only by their own per-source bucket.
	Protect      string `toml:"protect"`
	ProtectRate  Size   `toml:"protect_rate"`
	ProtectBurst Size   `toml:"protect_burst"`
	// Key names the fields that make a source: "host", "app", "procid",
	// "facility", "input", "peer" (the sender's IP address).
	Key []string `toml:"key"`
	// MaxSources caps tracked sources (least recently seen evicted), in
	// all shards together.
	MaxSources int `toml:"max_sources"`
	// Flush: while a source stays over budget, its suppressed summary is
	// emitted this often, so a long flood stays visible with its count.
	Flush Duration `toml:"flush"`
	// GlobalRate and GlobalBurst bound all sources together; 0 disables.
	GlobalRate  Size `toml:"global_rate"`
	GlobalBurst Size `toml:"global_burst"`
	// Overrides give matching sources their own budget.
	Overrides []Override `toml:"override"`
}

// Override is one [[ratelimit.override]]: a budget for matching sources.
// Empty match fields match anything.
type Override struct {
	Host  string `toml:"host"`
	App   string `toml:"app"`
	Rate  Size   `toml:"rate"`
	Burst Size   `toml:"burst"`
}

// defaultRateLimit is ratelimit's own defaults, enabled.
func defaultRateLimit() RateLimit {
	d := ratelimit.DefaultOptions()
	return RateLimit{
		Enabled:      true,
		Rate:         Size(d.Rate),
		Burst:        Size(d.Burst),
		Protect:      d.Protect.String(),
		ProtectRate:  Size(d.ProtectRate),
		ProtectBurst: Size(d.ProtectBurst),
		Key:          d.Key,
		MaxSources:   d.MaxSources,
		Flush:        Duration(d.Flush),
	}
}

// ProtectSeverity returns the parsed Protect severity.
func (r *RateLimit) ProtectSeverity() floodgate.Severity {
	s, _ := floodgate.ParseSeverity(r.Protect)
	return s
}

func (r *RateLimit) validate(v *validator) {
	if r.Rate <= 0 {
		v.add("ratelimit.rate", "%s: want a positive size per second", r.Rate)
	}
	if r.Burst < 1024 {
		v.add("ratelimit.burst", "%s: want at least 1KiB", r.Burst)
	}
	if _, ok := floodgate.ParseSeverity(r.Protect); !ok {
		v.add("ratelimit.protect", "%q is not a severity: want emerg, alert, crit, err, warning, notice, info or debug", r.Protect)
	}
	if r.ProtectRate <= 0 {
		v.add("ratelimit.protect_rate", "%s: want a positive size per second", r.ProtectRate)
	}
	if r.ProtectBurst < 1024 {
		v.add("ratelimit.protect_burst", "%s: want at least 1KiB", r.ProtectBurst)
	}
	if len(r.Key) == 0 {
		v.add("ratelimit.key", "empty: want fields such as [\"host\", \"app\"]")
	}
	for _, k := range r.Key {
		switch k {
		case "host", "app", "procid", "facility", "input", "peer":
		default:
			v.add("ratelimit.key", "%q: want \"host\", \"app\", \"procid\", \"facility\", \"input\" or \"peer\"", k)
		}
	}
	if r.MaxSources < 1 {
		v.add("ratelimit.max_sources", "%d: want at least 1", r.MaxSources)
	}
	if r.Flush <= 0 {
		v.add("ratelimit.flush", "%s: want a positive duration", r.Flush)
	}
	if (r.GlobalRate == 0) != (r.GlobalBurst == 0) {
		v.add("ratelimit.global_rate", "set global_rate and global_burst together")
	}
	for i, o := range r.Overrides {
		if o.Rate <= 0 || o.Burst < 1024 {
			v.add(fmt.Sprintf("ratelimit.override[%d]", i), "want rate > 0 and burst of at least 1KiB")
		}
	}
}
