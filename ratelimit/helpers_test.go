package ratelimit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// t0 is the fake clock's start; tests advance it by hand and never sleep.
var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// sink is the end of the chain: it keeps what it is handed.
type sink struct {
	recs  []floodgate.Record
	ticks int
	final bool
}

func (s *sink) Handle(_ time.Time, r *floodgate.Record) { s.recs = append(s.recs, *r) }

func (s *sink) Tick(_ time.Time, final bool) {
	s.ticks++
	s.final = s.final || final
}

// summaries returns the suppressed summary records received.
func (s *sink) summaries() []floodgate.Record {
	var out []floodgate.Record
	for _, r := range s.recs {
		if r.Summary != nil && r.Summary.Kind == floodgate.Suppressed {
			out = append(out, r)
		}
	}
	return out
}

// warnings returns floodgate's own records (disk watermark warnings).
func (s *sink) warnings() []floodgate.Record {
	var out []floodgate.Record
	for _, r := range s.recs {
		if r.Summary == nil && r.Syntax == floodgate.Internal && r.Host == "floodgate" {
			out = append(out, r)
		}
	}
	return out
}

// tally is what reached the sink for one source.
type tally struct {
	verbatim, counted int64
	bytes             int64 // verbatim bytes
}

// tallies groups what the sink received by host/app, leaving out
// floodgate's own records, which stand for no received message.
func (s *sink) tallies() map[string]tally {
	m := map[string]tally{}
	for _, r := range s.recs {
		if r.Summary == nil && r.Syntax == floodgate.Internal {
			continue
		}
		k := r.Host + "/" + r.App
		t := m[k]
		if r.Summary != nil {
			t.counted += r.Summary.Count
		} else {
			t.verbatim++
			t.bytes += int64(r.Size)
		}
		m[k] = t
	}
	return m
}

// msg builds a message of size bytes from host/app.
func msg(host, app string, sev floodgate.Severity, size int, at time.Time) *floodgate.Record {
	return &floodgate.Record{Message: floodgate.Message{
		Time:     at,
		Host:     host,
		App:      app,
		ProcID:   "42",
		Facility: 3,
		Severity: sev,
		Text:     strings.Repeat("x", min(size, 64)),
		Syntax:   floodgate.SyntaxRFC3164,
		Input:    "tcp 127.0.0.1:5514",
		Size:     size,
	}}
}

// field returns a summary field's value, or nil.
func field(t *testing.T, r floodgate.Record, key string) any {
	t.Helper()
	for _, f := range r.Summary.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	t.Fatalf("summary %q has no field %q", r.Text, key)
	return nil
}

// diskVar is a settable disk level for Options.Disk.
type diskVar struct{ l floodgate.DiskLevel }

func (d *diskVar) get() floodgate.DiskLevel { return d.l }
