package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
	"github.com/floodgate/floodgate/config"
)

// liveRig is a relay's shards without sockets or outputs: each shard's
// chain with the live table, fed by hand.
type liveRig struct {
	t      testing.TB
	live   *liveTable
	chains []floodgate.Handler
	now    time.Time
	sent   map[[2]string]int64
	seq    uint64 // numbers the messages, as the live pipeline does
}

func newLiveRig(t testing.TB, shards, labels int, edit func(*config.Config)) *liveRig {
	t.Helper()
	cfg := config.Default()
	if edit != nil {
		edit(cfg)
	}
	b := newChainBuilder(cfg, shards, nil, nil)
	b.live = newLiveTable(shards, labels)
	r := &liveRig{t: t, live: b.live, now: time.Date(2026, 9, 11, 1, 24, 0, 0, time.UTC), sent: map[[2]string]int64{}, seq: 0}
	for i := range shards {
		r.chains = append(r.chains, b.chain(i))
	}
	return r
}

// send hands one message to its source's shard.
func (r *liveRig) send(host, app, text string) {
	m := floodgate.Message{Time: r.now, Host: host, App: app, Text: text, Size: len(text) + 40, Severity: floodgate.Info, Syntax: floodgate.SyntaxRFC3164}
	r.seq++
	m.Seq = r.seq
	rec := floodgate.Record{Message: m}
	r.chains[sourceHash(host, app)%uint64(len(r.chains))].Handle(r.now, &rec)
	r.sent[[2]string{host, app}]++
}

// tick advances the clock by d and ticks every shard (final at the end).
func (r *liveRig) tick(d time.Duration, final bool) {
	r.now = r.now.Add(d)
	for _, c := range r.chains {
		c.Tick(r.now, final)
	}
}

func TestLiveTableBoundedUnderManySources(t *testing.T) {
	const distinct = 200_000
	r := newLiveRig(t, 2, 10, nil)
	for i := range 1000 {
		r.send("paused", "dockerd", fmt.Sprintf("goroutine %d [runnable]: a flood that stops before the crowd comes", i))
	}
	for i := range distinct {
		r.send(fmt.Sprintf("host-%d", i), "app", fmt.Sprintf("starting worker %d", i))
		if i%10 == 0 {
			r.send("flood", "dockerd", fmt.Sprintf("goroutine %d [runnable]: a long line that takes bytes", i))
		}
		if i%20_000 == 0 {
			r.tick(time.Second, false)
			r.live.sample()
		}
	}
	r.tick(time.Second, true)
	r.live.sample()

	for i, s := range r.live.shards {
		if len(s.sources) > s.cap || len(s.patterns) > s.cap {
			t.Errorf("shard %d holds %d sources and %d patterns, cap %d", i, len(s.sources), len(s.patterns), s.cap)
		}
	}
	if n, most := len(r.live.srcHist), len(r.live.shards)*r.live.shards[0].cap; n > most {
		t.Errorf("history of %d sources, want at most %d", n, most)
	}
	v := r.live.sources(5, sortKeys["total"])
	if len(v.Sources) != 5 || v.Sources[0].Host != "flood" || v.Sources[0].App != "dockerd" {
		t.Fatalf("first source %+v, want flood/dockerd", v.Sources[0])
	}
	if got, want := v.Sources[0].Messages, r.sent[[2]string{"flood", "dockerd"}]; got != want {
		t.Errorf("flood/dockerd: %d messages, want %d", got, want)
	}
	if p := v.Sources[1]; p.Host != "paused" || p.Messages != 1000 {
		t.Errorf("second source %s/%s with %d messages, want paused/dockerd with 1000", p.Host, p.App, p.Messages)
	}
	want := int64(1000 + distinct + distinct/10)
	sum := v.Other.Messages
	for _, s := range v.Sources {
		sum += s.Messages
	}
	if sum != want || v.Total.Messages != want {
		t.Errorf("rows and other add up to %d messages, total %d, want %d", sum, v.Total.Messages, want)
	}
	p := r.live.patterns(maxRows, sortKeys["total"])
	psum := p.Other.Messages
	for _, r := range p.Patterns {
		psum += r.Messages
	}
	if psum != want {
		t.Errorf("patterns add up to %d messages, want %d", psum, want)
	}
}

func TestLiveTableAccountsForAFlood(t *testing.T) {
	tests := []struct {
		name     string
		dedupe   bool
		budgets  bool
		exempt   bool // dedupe passes dockerd on whole, for the budget to cut
		suppress bool
	}{
		{name: "dedupe and budgets", dedupe: true, budgets: true},
		{name: "dedupe exempts, budgets cut", dedupe: true, budgets: true, exempt: true, suppress: true},
		{name: "budgets only", budgets: true, suppress: true},
		{name: "dedupe only", dedupe: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newLiveRig(t, 2, 10, func(c *config.Config) {
				c.Dedupe.Enabled = tt.dedupe
				c.RateLimit.Enabled = tt.budgets
				if tt.exempt {
					c.Dedupe.ExemptApps = []string{"dockerd"}
				}
			})
			const n = 50_000
			for i := range n {
				r.send("node-1", "dockerd", fmt.Sprintf("pulling layer %x for container %d failed: context deadline exceeded", i*7919, i))
				if i%100 == 0 {
					r.send("node-2", "sshd", fmt.Sprintf("Accepted publickey for deploy from 10.0.0.%d port 22", i%250))
					r.tick(10*time.Millisecond, false)
				}
			}
			r.tick(time.Second, true)
			r.live.sample()
			v := r.live.sources(10, sortKeys["bytes"])
			if len(v.Sources) != 2 || v.Sources[0].App != "dockerd" {
				t.Fatalf("sources %+v, want dockerd first of two", v.Sources)
			}
			for _, s := range v.Sources {
				if s.Messages != r.sent[[2]string{s.Host, s.App}] {
					t.Errorf("%s/%s: %d messages, sent %d", s.Host, s.App, s.Messages, r.sent[[2]string{s.Host, s.App}])
				}
				if got := s.Written + s.Folded + s.Suppressed; got != s.Messages {
					t.Errorf("%s/%s: written %d + folded %d + suppressed %d = %d, want %d", s.Host, s.App, s.Written, s.Folded, s.Suppressed, got, s.Messages)
				}
			}
			d := v.Sources[0]
			if tt.suppress != (d.Suppressed > 0) {
				t.Errorf("dockerd: suppressed %d, want some: %t", d.Suppressed, tt.suppress)
			}
			if tt.dedupe && !tt.exempt && d.Folded < n/2 {
				t.Errorf("dockerd: %d folded, want most of %d", d.Folded, n)
			}
			if d.Rate10s.Bytes <= 0 || d.Spark[len(d.Spark)-1] != uint64(d.Bytes) {
				t.Errorf("dockerd: rate %v, last second %d bytes, want %d", d.Rate10s, d.Spark[len(d.Spark)-1], d.Bytes)
			}
			p := r.live.patterns(10, sortKeys["total"])
			top := p.Patterns[0]
			if tt.exempt {
				return // every line is a pattern of its own
			}
			first := "pulling layer 0 for container 0 failed"
			if !tt.dedupe {
				first = "pulling layer " // a pattern's row begins at its second sampled line
			}
			if top.App != "dockerd" || !strings.HasPrefix(top.Exemplar, first) || top.Kind != "repeat" {
				t.Errorf("top pattern %+v, want dockerd's pull failure with its first line", top)
			}
			if top.Written+top.Folded+top.Suppressed != top.Messages {
				t.Errorf("top pattern: written %d + folded %d + suppressed %d != %d", top.Written, top.Folded, top.Suppressed, top.Messages)
			}
		})
	}
}

func TestLiveTableSourceSeries(t *testing.T) {
	r := newLiveRig(t, 2, 2, nil)
	prev := map[[2]string][4]int64{}
	labelled := map[[2]string]bool{}
	for round := range 5 {
		// Each round a different source is loudest; the first two to be
		// loudest keep their labels.
		for i := range 6 {
			for range 1 + 10*((i+round)%6) {
				r.send("web-"+fmt.Sprint(i), "nginx", "GET /index.html 200")
			}
		}
		r.tick(time.Second, round == 4)
		r.live.sample()
		series := r.live.series()
		if len(series) != 3 || series[2].Host != "other" {
			t.Fatalf("round %d: series %+v, want two labelled and other", round, series)
		}
		var sum int64
		for _, s := range series {
			k := [2]string{s.Host, s.App}
			if s.Host != "other" {
				labelled[k] = true
			}
			for i, v := range s.Values {
				if v < prev[k][i] {
					t.Errorf("round %d: %v counter %d went down from %d to %d", round, k, i, prev[k][i], v)
				}
			}
			prev[k] = s.Values
			sum += s.Values[0]
		}
		var sent int64
		for _, n := range r.sent {
			sent += n
		}
		if sum != sent {
			t.Errorf("round %d: series add up to %d messages, sent %d", round, sum, sent)
		}
	}
	if len(labelled) != 2 {
		t.Errorf("labels given to %v, want two sources for good", labelled)
	}
}

func TestLiveHotPathAllocatesNothing(t *testing.T) {
	s := newLiveShard(64)
	h := liveHead{next: floodgate.HandlerFunc(func(time.Time, *floodgate.Record) {}), s: s}
	rec := floodgate.Record{Message: floodgate.Message{Host: "node-1", App: "dockerd", Text: "goroutine 1 [runnable]:", Size: 60}}
	now := time.Now()
	fate := floodgate.Fate{Host: "node-1", App: "dockerd", Size: 60, Kind: floodgate.Repeat, FP: "9c41e0a7", Template: "goroutine # [runnable]:"}
	h.Handle(now, &rec)
	s.Observe(fate)
	allocs := testing.AllocsPerRun(1000, func() {
		h.Handle(now, &rec)
		s.Observe(fate)
		fate.Verbatim = !fate.Verbatim
	})
	if allocs != 0 {
		t.Errorf("%v allocations per message, want 0", allocs)
	}
}

func TestLiveAPI(t *testing.T) {
	r := newLiveRig(t, 1, 10, nil)
	for i := range 20 {
		r.send("node-1", "kubelet", fmt.Sprintf("pod sync %d failed", i))
	}
	r.tick(time.Second, false)
	r.live.sample()
	mux := http.NewServeMux()
	(&api{live: r.live, token: "s3cret"}).register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		name, path, auth string
		want             int
	}{
		{name: "sources", path: "/api/v1/sources", auth: "Bearer s3cret", want: 200},
		{name: "patterns sorted", path: "/api/v1/patterns?sort=folded&n=3", auth: "Bearer s3cret", want: 200},
		{name: "no token", path: "/api/v1/sources", want: 401},
		{name: "wrong token", path: "/api/v1/patterns", auth: "Bearer guess", want: 401},
		{name: "bad n", path: "/api/v1/sources?n=0", auth: "Bearer s3cret", want: 400},
		{name: "bad sort", path: "/api/v1/sources?sort=name", auth: "Bearer s3cret", want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want != 200 {
				return
			}
			var v struct {
				SourcesView
				Patterns []PatternView `json:"patterns"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
				t.Fatal(err)
			}
			if v.Total.Messages != 20 || len(v.Sources)+len(v.Patterns) != 1 {
				t.Errorf("total %d, %d sources and %d patterns, want 20 and one row", v.Total.Messages, len(v.Sources), len(v.Patterns))
			}
			if len(v.Patterns) == 1 && (v.Patterns[0].Template != "pod sync # failed" || v.Patterns[0].Folded != 19) {
				t.Errorf("pattern %+v, want the template with 19 folded", v.Patterns[0])
			}
		})
	}
}

// BenchmarkChainLive measures what the live table adds to a shard's chain
// per message: the same messages through dedupe and budgets, without and
// with it.
func BenchmarkChainLive(b *testing.B) {
	var msgs []floodgate.Message
	for i := range 4096 {
		text := fmt.Sprintf("pulling layer %x for container %d failed: context deadline exceeded", i*7919, i)
		if i%8 == 0 {
			text = fmt.Sprintf("worker %d finished job %d in %dms", i%50, i, i%300)
		}
		msgs = append(msgs, floodgate.Message{Host: fmt.Sprintf("node-%d", i%16), App: "dockerd", Text: text, Size: len(text) + 40, Severity: floodgate.Info, Syntax: floodgate.SyntaxRFC3164})
	}
	for _, dedupe := range []bool{true, false} {
		for _, live := range []bool{false, true} {
			b.Run(fmt.Sprintf("dedupe=%t/live=%t", dedupe, live), func(b *testing.B) {
				cfg := config.Default()
				cfg.Dedupe.Enabled = dedupe
				bl := newChainBuilder(cfg, 1, nil, nil)
				if live {
					bl.live = newLiveTable(1, 100)
				}
				h := bl.chain(0)
				now := time.Date(2026, 9, 11, 1, 24, 0, 0, time.UTC)
				var rec floodgate.Record
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					rec = floodgate.Record{Message: msgs[i%len(msgs)]}
					rec.Time = now
					h.Handle(now, &rec)
					i++
					if i%4096 == 0 {
						now = now.Add(10 * time.Millisecond)
						h.Tick(now, false)
					}
				}
			})
		}
	}
}

func TestLiveTableOnTheIncident(t *testing.T) {
	c := gen.DefaultIncident()
	c.Messages = 300_000
	if testing.Short() {
		c.Messages = 100_000
	}
	if n, err := strconv.Atoi(os.Getenv("FLOODGATE_INCIDENT_MESSAGES")); err == nil {
		c.Messages = n
	}
	g := gen.NewIncident(c)
	r := newLiveRig(t, 2, 10, nil)
	var m floodgate.Message
	var last time.Time
	for g.Next(&m) {
		r.now = m.Time
		if m.Size == 0 {
			m.Size = len(m.Text) + 40
		}
		r.seq++
		m.Seq = r.seq
		rec := floodgate.Record{Message: m}
		r.chains[sourceHash(m.Host, m.App)%2].Handle(r.now, &rec)
		r.sent[[2]string{m.Host, m.App}]++
		if m.Time.Sub(last) >= 200*time.Millisecond {
			r.tick(0, false)
			last = m.Time
		}
	}
	r.tick(time.Second, true)
	r.live.sample()
	v := r.live.sources(maxRows, sortKeys["total"])
	for _, s := range v.Sources {
		if s.Messages != r.sent[[2]string{s.Host, s.App}] {
			t.Errorf("%s/%s: %d messages, sent %d", s.Host, s.App, s.Messages, r.sent[[2]string{s.Host, s.App}])
		}
		if got := s.Written + s.Folded + s.Suppressed; got != s.Messages {
			t.Errorf("%s/%s: written %d + folded %d + suppressed %d = %d, want %d", s.Host, s.App, s.Written, s.Folded, s.Suppressed, got, s.Messages)
		}
	}
	p := r.live.patterns(3, sortKeys["total"])
	for _, row := range p.Patterns {
		t.Logf("%s %s %s/%s %d: %s", row.FP, row.Kind, row.Host, row.App, row.Messages, cut80(row.Template))
	}
	if len(v.Sources) == 0 || v.Sources[0].App != "dockerd" {
		t.Errorf("first source %+v, want dockerd", v.Sources[0])
	}
}

func cut80(s string) string { return s[:min(len(s), 80)] }

func TestAPIToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		m       config.Metrics
		want    string
		wantErr string
	}{
		{name: "none", m: config.Metrics{}, want: ""},
		{name: "token", m: config.Metrics{Token: "s3cret"}, want: "s3cret"},
		{name: "file, newline trimmed", m: config.Metrics{TokenFile: write("t", "s3cret\n")}, want: "s3cret"},
		{name: "empty file", m: config.Metrics{TokenFile: write("e", " \n")}, wantErr: "is empty"},
		{name: "missing file", m: config.Metrics{TokenFile: filepath.Join(dir, "nope")}, wantErr: "read metrics token_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := apiToken(tt.m)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("apiToken = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
