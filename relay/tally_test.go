package relay

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
	"github.com/floodgate/floodgate/config"
)

// replayFile replays path with the outputs discarded.
func replayFile(t *testing.T, cfg *config.Config, path string, detail bool) *Report {
	t.Helper()
	rep, err := Replay(context.Background(), cfg, ReplayOptions{
		Files: []string{path}, Output: "-", Stdout: io.Discard, Detail: detail,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestReplayDetailAddsUpAndChangesNothing(t *testing.T) {
	budget := config.Default()
	budget.RateLimit.Rate, budget.RateLimit.Burst = 512, 1024
	plain := config.Default()
	plain.Dedupe.Enabled = false
	shards := config.Default()
	shards.Relay.Shards = 3
	tests := []struct {
		name string
		cfg  *config.Config
	}{
		{name: "defaults", cfg: config.Default()},
		{name: "tight budget", cfg: budget},
		{name: "no dedupe", cfg: plain},
		{name: "three shards", cfg: shards},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed := "../testdata/seed-flood.log"
			want := replayFile(t, tt.cfg, seed, false)
			got := replayFile(t, tt.cfg, seed, true)
			if got.Detail == nil || want.Detail != nil {
				t.Fatalf("Detail: got %v, want it only when asked for", got.Detail)
			}
			if got.Messages != want.Messages || got.Verbatim != want.Verbatim || got.BytesOut != want.BytesOut ||
				!mapsEqual(got.Folded, want.Folded) || !mapsEqual(got.Summaries, want.Summaries) {
				t.Errorf("detail changed the replay: got %+v, want %+v", got.Totals, want.Totals)
			}
			for i := range want.TopByMessages {
				g, w := got.TopByMessages[i], want.TopByMessages[i]
				if g.FP != w.FP || g.Messages != w.Messages || g.Written != w.Written || g.Bytes != w.Bytes {
					t.Errorf("top pattern %d: got %+v, want %+v", i, g, w)
				}
			}
			d := got.Detail
			var sum SourceTotal
			for _, s := range d.Sources {
				if s.Written+s.Folded+s.Suppressed != s.Messages {
					t.Errorf("source %s %s: written %d + folded %d + suppressed %d != received %d", s.Host, s.App, s.Written, s.Folded, s.Suppressed, s.Messages)
				}
				sum.Messages += s.Messages
				sum.Written += s.Written
				sum.Folded += s.Folded
				sum.Suppressed += s.Suppressed
			}
			var folded int64
			for k, n := range got.Folded {
				if k != "suppressed" {
					folded += n
				}
			}
			if sum.Messages != got.Messages || sum.Written != got.Verbatim || sum.Folded != folded || sum.Suppressed != got.Folded["suppressed"] {
				t.Errorf("sources add up to %+v; the replay wrote %d, folded %d, suppressed %d of %d", sum, got.Verbatim, folded, got.Folded["suppressed"], got.Messages)
			}
			var inTimeline int64
			for _, s := range d.Timeline.Series {
				for _, n := range s.Messages {
					inTimeline += n
				}
			}
			if inTimeline != got.Messages {
				t.Errorf("timeline holds %d messages, want %d", inTimeline, got.Messages)
			}
			if !slices.IsSortedFunc(d.Sources, func(a, b SourceTotal) int { return int(b.Bytes - a.Bytes) }) {
				t.Errorf("sources not by bytes: %+v", d.Sources)
			}
		})
	}
}

func TestReplayDetailOfTheSeed(t *testing.T) {
	rep := replayFile(t, config.Default(), "../testdata/seed-flood.log", true)
	d := rep.Detail
	if len(d.Loops) != 1 || d.Loops[0].Unit != "protokube.service" {
		t.Fatalf("restart loops: got %+v, want protokube.service's", d.Loops)
	}
	l := d.Loops[0]
	// The seed has protokube restart 11 times between 01:24:01 and
	// 01:24:54 (its excerpts are out of order).
	if l.Restarts != 11 || l.ExitStatus != "125/n/a" || l.Period() < 4*time.Second || l.Period() > 6*time.Second {
		t.Errorf("loop: got %+v, period %s; want 11 restarts about 5s apart, exit 125/n/a", l, l.Period())
	}
	if d.First.Format(time.Stamp) != "Sep  9 10:02:37" || d.Last.Format(time.Stamp) != "Sep 11 01:24:54" {
		t.Errorf("span: got %s to %s", d.First, d.Last)
	}
	var block *PatternTotal
	for i, p := range rep.TopByMessages {
		if p.App == "dockerd" {
			block = &rep.TopByMessages[i]
			break
		}
	}
	if block == nil || block.Kind.String() != "block" || len(block.Exemplar) != 21 ||
		!strings.HasPrefix(block.Exemplar[0], "goroutine 2648 [runnable]:") {
		t.Fatalf("dockerd's pattern: got %+v, want the goroutine block with its 21 lines as exemplar", block)
	}
	if block.First.IsZero() || block.Last.Before(block.First) {
		t.Errorf("block first %s, last %s", block.First, block.Last)
	}
}

func TestReplayDetailExemplarsSkipStdin(t *testing.T) {
	data, err := os.ReadFile("../testdata/seed-flood.log")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Replay(context.Background(), config.Default(), ReplayOptions{
		Stdin: strings.NewReader(string(data)), Output: "-", Stdout: io.Discard, Detail: true,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Detail == nil || len(rep.Detail.Sources) != 3 {
		t.Fatalf("detail from stdin: %+v", rep.Detail)
	}
	for _, p := range rep.TopByMessages {
		if p.Exemplar != nil {
			t.Errorf("pattern %s has an exemplar read from stdin, which cannot be read twice", p.FP)
		}
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A replay with detail lists the floods its flood records told of.
func TestReplayDetailListsFloods(t *testing.T) {
	c := gen.DefaultIncident()
	c.Messages = 100_000
	g := gen.NewIncident(c)
	path := filepath.Join(t.TempDir(), "incident.log")
	var buf []byte
	var m floodgate.Message
	for g.Next(&m) {
		buf = append(gen.Append(buf, &m, gen.Traditional), '\n')
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	rep := replayFile(t, config.Default(), path, true)
	if rep.Internal != 1 {
		t.Errorf("records of floodgate's own: got %d, want one flood_start", rep.Internal)
	}
	fl := rep.Detail.Floods
	if len(fl) != 1 || fl[0].App != "dockerd" || !fl[0].End.IsZero() {
		t.Fatalf("floods: got %+v, want dockerd's, still going at the end", fl)
	}
	var dockerd SourceTotal
	for _, s := range rep.Detail.Sources {
		if s.App == "dockerd" {
			dockerd = s
		}
	}
	if f := fl[0]; f.Messages > dockerd.Messages || f.Messages < dockerd.Messages/2 || f.Peak < 1<<20 {
		t.Errorf("flood: %d messages of dockerd's %d, peak %d B/s", f.Messages, dockerd.Messages, f.Peak)
	}
}

// The exemplars' second reading numbers messages as the pipeline did, in
// every format a capture can hold.
func TestReplayDetailExemplarsInEveryFormat(t *testing.T) {
	for _, f := range []gen.Format{gen.Traditional, gen.RFC3164, gen.RFC5424, gen.OctetCounted} {
		t.Run(f.String(), func(t *testing.T) {
			c := gen.DefaultIncident()
			c.Messages = 20_000
			g := gen.NewIncident(c)
			var buf []byte
			var m floodgate.Message
			for g.Next(&m) {
				buf = gen.Append(buf, &m, f)
				if f != gen.OctetCounted {
					buf = append(buf, '\n')
				}
			}
			path := filepath.Join(t.TempDir(), "incident.log")
			if err := os.WriteFile(path, buf, 0o644); err != nil {
				t.Fatal(err)
			}
			rep := replayFile(t, config.Default(), path, true)
			top := rep.TopByBytes[0]
			if top.App != "dockerd" || len(top.Exemplar) < 5 || !strings.HasPrefix(top.Exemplar[0], "goroutine ") ||
				!strings.HasPrefix(top.Exemplar[1], "syscall.") {
				t.Errorf("top pattern %s %s, exemplar %q", top.App, top.Template, top.Exemplar)
			}
			for _, p := range rep.TopByMessages {
				if len(p.Exemplar) == 0 {
					t.Errorf("pattern %s (%s) has no exemplar", p.FP, p.Template)
				}
			}
		})
	}
}
