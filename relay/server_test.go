package relay

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
)

// A Start that fails (the second input's port is taken) reports the bind
// error, and Close leaves no goroutine of the server behind: not the
// first input's, nor the shards'.
func TestFailedStartLeavesNothingRunning(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg, err := config.Parse(strings.NewReader(`
[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[input]]
type = "tcp"
address = "` + taken.Addr().String() + `"

[[output]]
type = "file"
path = "` + filepath.Join(t.TempDir(), "{host}.log") + `"

[relay]
shards = 4

[metrics]
address = ""
`))
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	s, err := NewServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start()
	if err == nil || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("Start = %v, want the bind error of %s", err, taken.Addr())
	}
	if n := strings.Count(err.Error(), "listen tcp"); n != 1 {
		t.Errorf("Start = %q: says listen tcp %d times, want once", err, n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after a failed Start:\n%s",
				before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// What the budgets withhold reaches /metrics, by reason, once the shard
// has ticked.
func TestBudgetDropsReachMetrics(t *testing.T) {
	cfg := config.Default()
	cfg.Dedupe.Enabled = false
	cfg.RateLimit.Rate, cfg.RateLimit.Burst = 1, 1024
	b := newChainBuilder(cfg, 1, nil, nil)
	h := b.chain(0)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for i := range 10 {
		h.Handle(now, &floodgate.Record{Message: floodgate.Message{
			Time: now, Host: "h", App: "a", Severity: floodgate.Info,
			Text: fmt.Sprintf("message %d", i), Size: 500,
		}})
	}
	h.Tick(now, false)
	m := newMetrics()
	m.setPipeline(nil, b, nil)
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != metricDropped {
			continue
		}
		for _, mt := range f.GetMetric() {
			got[mt.GetLabel()[0].GetValue()] = mt.GetCounter().GetValue()
		}
	}
	if got["budget"] != 8 {
		t.Errorf("%s = %v, want 8 dropped by the budget (a burst of 1KiB passes 2 of 10 messages of 500 bytes)", metricDropped, got)
	}
}
