package relay

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The live views' JSON, at /api/v1/sources and /api/v1/patterns on the
// metrics address. `floodgate top` reads them.

// Counts are a row's totals since it was first seen, its rates, and its
// last minute.
type Counts struct {
	Messages   int64     `json:"messages"`   // received
	Bytes      int64     `json:"bytes"`      // received
	Written    int64     `json:"written"`    // written verbatim
	Folded     int64     `json:"folded"`     // counted into dedupe summaries
	Suppressed int64     `json:"suppressed"` // withheld by a budget or the disk guard
	First      time.Time `json:"first,omitzero"`
	Last       time.Time `json:"last,omitzero"`
	Rate10s    Rate      `json:"rate_10s"`
	Rate5m     Rate      `json:"rate_5m"`
	// Spark is the bytes received in each of the last 60 seconds, oldest
	// first.
	Spark []uint64 `json:"spark,omitempty"`
}

// Rate is messages and bytes per second over a window.
type Rate struct {
	Messages float64 `json:"messages"`
	Bytes    float64 `json:"bytes"`
}

// SourceView is one source's row.
type SourceView struct {
	Host string `json:"host"`
	App  string `json:"app"`
	Counts
}

// PatternView is one pattern's row.
type PatternView struct {
	FP       string `json:"fp"`
	Kind     string `json:"kind"` // repeat, block, cycle
	Template string `json:"template"`
	// Exemplar is the start of the first line written of the pattern.
	Exemplar string `json:"exemplar"`
	// Host and App are the first source the pattern came from.
	Host string `json:"host"`
	App  string `json:"app"`
	Counts
}

// LoopView is a restart loop dedupe recognised.
type LoopView struct {
	Host       string    `json:"host"`
	Unit       string    `json:"unit"`
	Restarts   int64     `json:"restarts"`
	ExitStatus string    `json:"exit_status,omitempty"`
	GaveUp     bool      `json:"gave_up,omitempty"`
	First      time.Time `json:"first,omitzero"`
	Last       time.Time `json:"last,omitzero"`
}

// DiskView is an output's disk level.
type DiskView struct {
	Output string `json:"output"`
	Level  string `json:"level"` // ok, low, full
}

// LiveHeader is what both views start with.
type LiveHeader struct {
	Time time.Time `json:"time"`
	// Total counts everything received since the relay started.
	Total Counts `json:"total"`
	// Other rolls up the rows beyond those listed.
	Other        Counts     `json:"other"`
	RestartLoops []LoopView `json:"restart_loops"`
	Disks        []DiskView `json:"disks"`
}

// SourcesView is the body of /api/v1/sources.
type SourcesView struct {
	LiveHeader
	Sources []SourceView `json:"sources"`
}

// PatternsView is the body of /api/v1/patterns.
type PatternsView struct {
	LiveHeader
	Patterns []PatternView `json:"patterns"`
}

// Query parameters' bounds.
const (
	defaultRows = 50
	maxRows     = 1000
)

// sortKeys are the orders a view can be asked for (?sort=).
var sortKeys = map[string]func(*Counts) float64{
	"bytes":      func(c *Counts) float64 { return c.Rate10s.Bytes },
	"messages":   func(c *Counts) float64 { return c.Rate10s.Messages },
	"total":      func(c *Counts) float64 { return float64(c.Bytes) },
	"folded":     func(c *Counts) float64 { return float64(c.Folded) },
	"suppressed": func(c *Counts) float64 { return float64(c.Suppressed) },
}

// by returns the sort key for name ("" is bytes).
func by(name string) (func(*Counts) float64, bool) {
	if name == "" {
		name = "bytes"
	}
	k, ok := sortKeys[name]
	return k, ok
}

func toCounts(c *liveCounts) Counts {
	return Counts{Messages: c.Messages, Bytes: c.Bytes, Written: c.Written, Folded: c.Folded, Suppressed: c.Suppressed, First: c.First, Last: c.Last}
}

func (c *Counts) add(o *Counts) {
	c.Messages += o.Messages
	c.Bytes += o.Bytes
	c.Written += o.Written
	c.Folded += o.Folded
	c.Suppressed += o.Suppressed
	c.Rate10s.Messages += o.Rate10s.Messages
	c.Rate10s.Bytes += o.Rate10s.Bytes
	c.Rate5m.Messages += o.Rate5m.Messages
	c.Rate5m.Bytes += o.Rate5m.Bytes
	if !o.First.IsZero() && (c.First.IsZero() || o.First.Before(c.First)) {
		c.First = o.First
	}
	if o.Last.After(c.Last) {
		c.Last = o.Last
	}
}

// sources returns the n rows first by key, the rest rolled into Other.
func (t *liveTable) sources(n int, key func(*Counts) float64) SourcesView {
	m := t.merge()
	v := SourcesView{Sources: make([]SourceView, 0, len(m.sources))}
	t.mu.Lock()
	for k, s := range m.sources {
		r := SourceView{Host: s.Host, App: s.App, Counts: toCounts(&s.liveCounts)}
		t.rates(&r.Counts, t.srcHist[k])
		v.Sources = append(v.Sources, r)
	}
	v.Time, v.Total, v.Other = m.at, toCounts(&m.total), toCounts(&m.srcOther)
	t.totalRates(&v.Total)
	sortRows(v.Sources, key, func(r *SourceView) *Counts { return &r.Counts }, func(r *SourceView) string { return r.Host + "\x00" + r.App })
	if len(v.Sources) > n {
		for i := n; i < len(v.Sources); i++ {
			v.Other.add(&v.Sources[i].Counts)
		}
		v.Sources = v.Sources[:n]
	}
	for i := range v.Sources {
		r := &v.Sources[i]
		t.spark(&r.Counts, t.srcHist[[2]string{r.Host, r.App}])
	}
	t.mu.Unlock()
	return v
}

// patterns returns the n rows first by key, the rest rolled into Other.
func (t *liveTable) patterns(n int, key func(*Counts) float64) PatternsView {
	m := t.merge()
	v := PatternsView{Patterns: make([]PatternView, 0, len(m.patterns))}
	t.mu.Lock()
	for k, p := range m.patterns {
		r := PatternView{FP: p.FP, Kind: p.Kind.String(), Template: p.Template, Exemplar: p.Exemplar, Host: p.Host, App: p.App, Counts: toCounts(&p.liveCounts)}
		t.rates(&r.Counts, t.patHist[k])
		v.Patterns = append(v.Patterns, r)
	}
	v.Time, v.Total, v.Other = m.at, toCounts(&m.total), toCounts(&m.patOther)
	t.totalRates(&v.Total)
	sortRows(v.Patterns, key, func(r *PatternView) *Counts { return &r.Counts }, func(r *PatternView) string { return r.FP })
	if len(v.Patterns) > n {
		for i := n; i < len(v.Patterns); i++ {
			v.Other.add(&v.Patterns[i].Counts)
		}
		v.Patterns = v.Patterns[:n]
	}
	for i := range v.Patterns {
		t.spark(&v.Patterns[i].Counts, t.patHist[v.Patterns[i].FP])
	}
	t.mu.Unlock()
	return v
}

// sortRows sorts rows by key, most first, then by total bytes, then by
// name, so that the order is stable.
func sortRows[T any](rows []T, key func(*Counts) float64, counts func(*T) *Counts, name func(*T) string) {
	slices.SortFunc(rows, func(a, b T) int {
		ca, cb := counts(&a), counts(&b)
		if c := cmp.Compare(key(cb), key(ca)); c != 0 {
			return c
		}
		if c := cmp.Compare(cb.Bytes, ca.Bytes); c != 0 {
			return c
		}
		return strings.Compare(name(&a), name(&b))
	})
}

// api serves the live views.
type api struct {
	live  *liveTable
	token string // "" asks for none
	loops *loopTable
	disks func() []DiskView
}

func (a *api) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/sources", a.auth(func(w http.ResponseWriter, r *http.Request) {
		n, key, err := viewParams(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		v := a.live.sources(n, key)
		a.header(&v.LiveHeader)
		writeJSON(w, v)
	}))
	mux.HandleFunc("GET /api/v1/patterns", a.auth(func(w http.ResponseWriter, r *http.Request) {
		n, key, err := viewParams(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		v := a.live.patterns(n, key)
		a.header(&v.LiveHeader)
		writeJSON(w, v)
	}))
}

func (a *api) header(h *LiveHeader) {
	if h.Time.IsZero() {
		h.Time = time.Now()
	}
	h.RestartLoops = []LoopView{}
	if a.loops != nil {
		for _, l := range a.loops.snapshot() {
			h.RestartLoops = append(h.RestartLoops, LoopView{Host: l.Host, Unit: l.Unit, Restarts: l.Restarts, ExitStatus: l.ExitStatus, GaveUp: l.GaveUp, First: l.First, Last: l.Last})
		}
	}
	h.Disks = []DiskView{}
	if a.disks != nil {
		h.Disks = a.disks()
	}
}

// auth asks for the bearer token, when there is one.
func (a *api) auth(h http.HandlerFunc) http.HandlerFunc {
	if a.token == "" {
		return h
	}
	want := []byte("Bearer " + a.token)
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="floodgate"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

func viewParams(r *http.Request) (int, func(*Counts) float64, error) {
	q := r.URL.Query()
	n := defaultRows
	if s := q.Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return 0, nil, fmt.Errorf("n=%q: want a positive integer", s)
		}
		n = min(v, maxRows)
	}
	key, ok := by(q.Get("sort"))
	if !ok {
		names := make([]string, 0, len(sortKeys))
		for k := range sortKeys {
			names = append(names, k)
		}
		return 0, nil, fmt.Errorf("sort=%q: want one of %s", q.Get("sort"), strings.Join(names, ", "))
	}
	return n, key, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v) // a client gone away is its own business
}

// diskViews returns the disk level of each output that has a disk guard.
func diskViews(outs []namedOutput) []DiskView {
	var v []DiskView
	for _, o := range outs {
		if o.disk != nil {
			v = append(v, DiskView{Output: o.name, Level: o.disk.DiskLevel().String()})
		}
	}
	return v
}
