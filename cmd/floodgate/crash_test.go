package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// SIGKILL in the middle of a flood of folding messages, then a restart
// on the same state_dir: the files hold the verbatim lines and summaries
// written before the kill, the restart writes a suppressed summary of
// reason crash for what the checkpoint held, and together they account
// for what the relay had received at the kill, less at most about two
// seconds' worth of messages (the last checkpoint is at most a tick old,
// output buffers are written every flush_interval), and never more.
//
// The flood is as fast as one TCP connection from the test gets through
// the race-enabled binary on this machine; the test logs the rate.
func TestSIGKILLLosesABoundedCountedShare(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of several seconds")
	}
	dir := t.TempDir()
	config := `
[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[output]]
type = "file"
path = "{dir}/out/{host}/{app}.log"
format = "json"

[dedupe]
enabled = true
flush = "1s"

[ratelimit]
enabled = true

[metrics]
address = "127.0.0.1:0"

[relay]
state_dir = "{dir}/state"
`
	d := startDaemonWithMetricsIn(t, dir, config, 1)
	conn, err := net.Dial("tcp", d.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		w := bufio.NewWriterSize(conn, 64<<10)
		start := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
		for i := 0; ; i++ {
			// Eight sources, each a folding flood of one pattern.
			msg := fmt.Sprintf("<14>1 %s host%d app%d 4242 - - request %d failed: connection reset by peer after %dms",
				start.Add(time.Duration(i)*time.Microsecond).Format(time.RFC3339Nano), i%4, i%8, i, i%977)
			if _, err := fmt.Fprintf(w, "%d %s", len(msg), msg); err != nil {
				return
			}
			if i%64 == 63 {
				if err := w.Flush(); err != nil {
					return
				}
				sent.Store(int64(i + 1))
			}
		}
	}()
	// Flood for three seconds, the last summary flushes included.
	began := time.Now()
	deadline := began.Add(3 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	received := scrapeSum(t, d.metrics, "floodgate_input_messages_total")
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.done
	elapsed := time.Since(began)
	conn.Close()
	<-senderDone
	rate := float64(received) / elapsed.Seconds()
	upper := sent.Load() // at most what the sender got into the socket
	if received < 10000 {
		t.Fatalf("only %d messages received before the kill", received)
	}
	before := accountFor(t, filepath.Join(dir, "out"))
	if before.crash != 0 {
		t.Fatalf("crash summaries before the restart: %+v", before)
	}

	d2 := startDaemonWithMetricsIn(t, dir, config, 1)
	d2.waitLog("recovered counts from a crash")
	recoveredMetric := scrapeSum(t, d2.metrics, "floodgate_crash_recovered_messages")
	d2.stop()
	after := accountFor(t, filepath.Join(dir, "out"))
	total := after.verbatim + after.counted
	t.Logf("flood %.0f msg/s (load %s); received %d at the kill (sender had sent at most %d); written before the kill: %d verbatim + %d in summaries; crash summaries: %d; total %d, %d short",
		rate, loadavg(), received, upper, before.verbatim, before.counted, after.crash, total, received-total)
	if after.crash == 0 || after.events != 1 {
		t.Errorf("restart wrote %d counted in crash summaries and %d crash_recovered records, want some and one", after.crash, after.events)
	}
	if recoveredMetric != after.crash {
		t.Errorf("floodgate_crash_recovered_messages = %d, want the %d the crash summaries count", recoveredMetric, after.crash)
	}
	if total > upper {
		t.Errorf("%d messages accounted for, more than the %d ever sent: some were counted twice", total, upper)
	}
	if short := received - total; float64(short) > 2*rate {
		t.Errorf("%d of %d received messages unaccounted for: more than two seconds' worth at %.0f msg/s", short, received, rate)
	}
	if st, err := os.ReadFile(filepath.Join(dir, "state", "checkpoint.json")); err != nil || regexp.MustCompile(`"count"`).Match(st) {
		t.Errorf("after a clean shutdown the checkpoint holds %s (%v), want nothing pending", st, err)
	}
}

// tally is what the records of a run stand for.
type tally struct {
	verbatim, counted, crash int64
	events                   int
}

func accountFor(t *testing.T, root string) tally {
	t.Helper()
	var c tally
	for _, r := range readRecords(t, root) {
		switch {
		case r.App == "floodgate":
			if r.Event == "crash_recovered" {
				c.events++
			}
		case r.Summary != nil:
			c.counted += r.Summary.Count
			if regexp.MustCompile(`"reason":"crash"`).Match(r.Raw) {
				c.crash += r.Summary.Count
			}
		default:
			c.verbatim++
		}
	}
	return c
}

// scrapeSum sums every sample of the metric named.
func scrapeSum(t *testing.T, addr, name string) int64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, m := range regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+`(?:\{[^}]*\})? (\S+)$`).FindAllSubmatch(b, -1) {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		sum += v
	}
	return int64(sum)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if len(b) > 14 {
		return string(b[:14])
	}
	return string(b)
}
