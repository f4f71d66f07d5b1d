package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBudgetOnATenMinuteFlood replays ten minutes of one source at 50
// times its budget: what it writes of its info lines stays within
// burst + rate x duration, every err line is written (the protected
// budget is not exceeded), nothing is lost, and the output directory
// never exceeds max_total while the flood is written.
func TestBudgetOnATenMinuteFlood(t *testing.T) {
	const (
		rate     = 1024    // bytes/s
		burst    = 8 << 10 // bytes
		duration = 600     // seconds
		perSec   = 50 * rate / 100
		maxTotal = 96 << 10 // bytes
	)
	var capture bytes.Buffer
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	sent, errs := 0, 0
	for s := 0; s < duration; s++ {
		ts := start.Add(time.Duration(s) * time.Second).Format(time.Stamp)
		for i := 0; i < perSec; i++ {
			pri, word := 30, "served" // daemon.info
			if sent%100 == 7 {
				pri, word, errs = 27, "FAILED", errs+1 // daemon.err
			}
			// About 100 bytes a line, every line unique in words so that
			// only the budget, not dedupe, decides.
			line := fmt.Sprintf("<%d>%s web api[42]: request %06d %s for client %s with status %03d",
				pri, ts, sent, word, strings.Repeat(string(rune('a'+sent%26)), 8), 200+sent%300)
			capture.WriteString(line + "\n")
			sent++
		}
	}
	in := writeFile(t, "flood.log", capture.String())
	out := t.TempDir()
	cfg := writeFile(t, "floodgate.toml", fmt.Sprintf(`
[[output]]
type = "file"
path = %q
format = "traditional"
max_size = "16KiB"
max_files = 100
max_total = "%dB"

[dedupe]
enabled = false

[ratelimit]
enabled = true
rate = "%dB"
burst = "%dB"
protect = "err"
protect_rate = "64KiB"
protect_burst = "256KiB"

[metrics]
address = ""
`, filepath.Join(out, "{host}", "{app}.log"), maxTotal, rate, burst))

	// Sample the directory's size while the replay writes.
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var size int64
			_ = filepath.WalkDir(out, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if fi, err := d.Info(); err == nil {
						size += fi.Size()
					}
				}
				return nil
			})
			if size > peak.Load() {
				peak.Store(size)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	// A second copy of the output, unrotated, to account for every line.
	all := filepath.Join(t.TempDir(), "all.log")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"replay", "-config", cfg, in}, nil, &stdout, &stderr)
	done <- struct{}{}
	<-done
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr.String())
	}
	// -o is one whole file, whatever rotation the config's output has.
	if err := run(context.Background(), []string{"replay", "-q", "-config", cfg, "-o", all, in}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("replay -o: %v\n%s", err, stderr.String())
	}

	f, err := os.Open(all)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var infoBytes, summaryBytes int64
	var written, errWritten, counted int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "[floodgate kind="); i >= 0 {
			summaryBytes += int64(len(line)) + 1
			var n int64
			if _, err := fmt.Sscanf(line[strings.Index(line, "count="):], "count=%d", &n); err != nil {
				t.Fatalf("summary without count: %s", line)
			}
			if strings.Contains(line, " web api") {
				counted += n
			}
			continue
		}
		if !strings.Contains(line, " web api[42]: ") {
			continue // floodgate's own records
		}
		written++
		if strings.Contains(line, " FAILED ") {
			errWritten++
			continue
		}
		// The budget charges the message as received: "<30>" and the
		// line, which the traditional output writes without the PRI.
		infoBytes += int64(len(line)) + 4
	}
	bound := int64(burst + rate*duration)
	if infoBytes > bound+200 { // one line over at most: the bucket is charged after the fact
		t.Errorf("info bytes written %d, bound burst+rate*duration = %d", infoBytes, bound)
	}
	if infoBytes < bound*9/10 {
		t.Errorf("info bytes written %d, far under the budget %d: the limit is too strict", infoBytes, bound)
	}
	if errWritten != int64(errs) {
		t.Errorf("%d of %d err lines written: errors must pass an info flood", errWritten, errs)
	}
	if written+counted != int64(sent) {
		t.Errorf("sent %d, written %d + counted %d", sent, written, counted)
	}
	if p := peak.Load(); p > maxTotal {
		t.Errorf("output directory reached %d bytes, max_total is %d", p, maxTotal)
	}
	t.Logf("sent %d lines (%d bytes, %d err) over %ds at 50x a %dB/s budget: info written %d bytes of a %d bound (%.2f%%), "+
		"summaries %d bytes (%.3f%% overhead), errors written %d/%d, directory peak %d of max_total %d",
		sent, capture.Len(), errs, duration, rate, infoBytes, bound, 100*float64(infoBytes)/float64(bound),
		summaryBytes, 100*float64(summaryBytes)/float64(bound), errWritten, errs, peak.Load(), maxTotal)
}
