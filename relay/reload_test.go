package relay

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/internal/syncbuf"
)

// reloadTestConfig: one shard, so that what one connection sends reaches
// it in order; {window} and {rate} are what the reload changes.
const reloadTestConfig = `
[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[output]]
type = "file"
path = "{dir}/out/{host}/{app}.log"
format = "json"

[dedupe]
window = "{window}"
flush = "1h"
flush_max = "1h"
exempt_apps = ["big", "mark"]

[ratelimit]
rate = "{rate}"
burst = "1KiB"
flush = "1h"

[relay]
shards = 1

[metrics]
address = ""
`

func writeReloadConfig(t *testing.T, dir, window, rate string) string {
	t.Helper()
	path := filepath.Join(dir, "floodgate.toml")
	conf := strings.NewReplacer("{dir}", dir, "{window}", window, "{rate}", rate).Replace(reloadTestConfig)
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// accountDir sums verbatim records and summary counts per host/app under
// root.
func accountDir(t *testing.T, root string) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	err := filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r struct {
				Host, App, Event string
				Summary          *struct{ Count int64 }
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return err
			}
			switch {
			case r.Event != "":
			case r.Summary != nil:
				got[r.Host+"/"+r.App] += r.Summary.Count
			default:
				got[r.Host+"/"+r.App]++
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A reload that changes the dedupe and ratelimit sections writes the old
// stages' pending summaries out before the new stages start: once Reload
// has returned, the outputs account for everything received before it.
func TestReloadWritesPendingSummariesOfChangedStages(t *testing.T) {
	dir := t.TempDir()
	path := writeReloadConfig(t, dir, "1h", "1") // a byte a second: no bucket fills again in the test
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := NewServer(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := net.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := bufio.NewWriter(c)
	send := func(app, text string) {
		fmt.Fprintf(w, "<14>1 2026-12-08T01:00:00Z h %s - - - %s\n", app, text)
	}
	for i := range 200 {
		send("rep", fmt.Sprintf("job %d done", i)) // one pattern: 1 written, 199 pending in dedupe
	}
	for i := range 100 {
		send("big", fmt.Sprintf("%d %s", i, strings.Repeat("x", 500))) // over budget: pending suppressed
	}
	send("mark", "the last one")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// The mark is written verbatim after everything else has been
	// through the one shard.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "out", "h", "mark.log")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all through the shard: %+v", s.builder.totals())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := accountDir(t, filepath.Join(dir, "out")); got["h/rep"] != 1 || got["h/big"] >= 100 {
		t.Fatalf("before the reload, summaries were written already: %v", got)
	}
	writeReloadConfig(t, dir, "2h", "2")
	if err := s.Reload(path); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"h/rep": 200, "h/big": 100, "h/mark": 1}
	got := accountDir(t, filepath.Join(dir, "out"))
	for k, n := range want {
		if got[k] != n {
			t.Errorf("after the reload %s accounts for %d of %d", k, got[k], n)
		}
	}
	if s.Config().Dedupe.Window.D() != 2*time.Hour || s.Config().RateLimit.Rate != 2 {
		t.Errorf("running on %+v %+v after the reload", s.Config().Dedupe, s.Config().RateLimit)
	}
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	got = accountDir(t, filepath.Join(dir, "out"))
	for k, n := range want {
		if got[k] != n {
			t.Errorf("after shutdown %s accounts for %d of %d", k, got[k], n)
		}
	}
}

// A reload that changes only an output keeps the dedupe state: a
// pattern seen before it is not written again after it.
func TestReloadKeepsUnchangedStages(t *testing.T) {
	dir := t.TempDir()
	path := writeReloadConfig(t, dir, "1h", "1MiB")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := s.builder.chains[0].toDedupe.next
	conf, _ := os.ReadFile(path)
	conf = append(conf, []byte("\n[[output]]\ntype = \"file\"\npath = \""+dir+"/more/{host}.log\"\n")...)
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(path); err != nil {
		t.Fatal(err)
	}
	if s.builder.chains[0].toDedupe.next != b {
		t.Error("a reload that changed no dedupe key replaced the dedupe stage")
	}
	if n := len(s.builder.chains[0].sink.outs); n != 2 {
		t.Errorf("the sink writes to %d outputs after the reload, want 2", n)
	}
}

// The metrics section is read at start: a reload that changes it is
// applied but for it, and says it needs a restart.
func TestReloadMetricsNeedsRestart(t *testing.T) {
	dir := t.TempDir()
	path := writeReloadConfig(t, dir, "1h", "1MiB")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	s, err := NewServer(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conf, _ := os.ReadFile(path)
	conf = []byte(strings.Replace(string(conf), `address = ""`, `address = "127.0.0.1:0"`, 1))
	conf = []byte(strings.Replace(string(conf), `window = "1h"`, `window = "3h"`, 1))
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(path); err != nil {
		t.Fatal(err)
	}
	if got := s.Config().Metrics.Address; got != "" {
		t.Errorf("metrics address %q after the reload, want the running one kept", got)
	}
	if got := s.Config().Dedupe.Window.D(); got != 3*time.Hour {
		t.Errorf("dedupe window %v after the reload, want the rest applied", got)
	}
	if !strings.Contains(logs.String(), "needs restart") {
		t.Errorf("no word of the restart the metrics need:\n%s", logs.String())
	}
}
