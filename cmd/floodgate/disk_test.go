package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestFullDiskOnRealTmpfs fills a real, small filesystem under floodgate
// while it writes: below min_free only errors and summaries are written,
// below hard_min_free nothing is, what is not written is counted, and
// writing resumes when space returns. The guard in the file output
// measures, the budget stage decides; this checks the two together.
func TestFullDiskOnRealTmpfs(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "out")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (tests need root for this): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })

	d := startDaemonWithMetrics(t, fmt.Sprintf(`
[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[output]]
type = "file"
path = %q
format = "json"
min_free = "50%%"
hard_min_free = "25%%"

[dedupe]
enabled = false

[ratelimit]
enabled = false

[metrics]
address = "127.0.0.1:0"
`, filepath.Join(mnt, "{host}", "{app}.log")), 1)

	conn, err := net.Dial("tcp", d.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	sent := map[string]int{}
	send := func(phase, sev string, n int) {
		t.Helper()
		pri := map[string]int{"info": 30, "err": 27}[sev]
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, "<%d>Nov 27 10:00:00 web %s: %s message %d in phase %s\n", pri, phase, sev, i, phase)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		sent[phase] += n
	}
	filler := filepath.Join(mnt, "filler")
	fill := func(bytes int64) {
		t.Helper()
		f, err := os.OpenFile(filler, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.CopyN(f, zeroReader{}, bytes)
		f.Close()
		if err != nil {
			t.Fatalf("fill %d bytes: %v", bytes, err)
		}
	}

	send("ok", "info", 50)
	d.waitMetric(`floodgate_output_records_total{output="0"}`, func(v float64) bool { return v >= 50 })

	fill(2<<20 + 512<<10) // 2.5 of 4 MiB: under min_free, over hard_min_free
	d.waitMetric(`floodgate_disk_level{output="0"}`, func(v float64) bool { return v == 1 })
	send("low", "info", 100)
	send("low", "err", 20)
	d.waitMetric(`floodgate_messages_parsed_total`, func(v float64) bool { return v >= 170 })

	fill(3<<20 + 512<<10) // 3.5 of 4 MiB: under hard_min_free
	d.waitMetric(`floodgate_disk_level{output="0"}`, func(v float64) bool { return v == 2 })
	send("full", "err", 30)
	d.waitMetric(`floodgate_messages_parsed_total`, func(v float64) bool { return v >= 200 })

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	d.waitMetric(`floodgate_disk_level{output="0"}`, func(v float64) bool { return v == 0 })
	send("back", "info", 10)
	d.waitMetric(`floodgate_messages_parsed_total`, func(v float64) bool { return v >= 210 })
	conn.Close()
	d.stop()

	verbatim := map[string]int{}
	counted := map[string]int64{}
	internal := 0
	for _, r := range readRecords(t, mnt) {
		if r.App == "floodgate" && r.Event != "" {
			internal++ // the guard's own warnings: not received messages
			if host, _ := os.Hostname(); r.Host != host {
				t.Errorf("floodgate's own record from host %q, want this machine's %q", r.Host, host)
			}
			continue
		}
		if r.Summary != nil {
			counted[r.App] += r.Summary.Count
			continue
		}
		verbatim[r.App]++
		if r.App == "low" && r.Severity != "err" {
			t.Errorf("under min_free an %s message was written: %s", r.Severity, r.Raw)
		}
		if r.App == "full" {
			t.Errorf("under hard_min_free a message was written: %s", r.Raw)
		}
	}
	for phase, n := range sent {
		if got := int64(verbatim[phase]) + counted[phase]; got != int64(n) {
			t.Errorf("phase %s: sent %d, written %d + counted %d", phase, n, verbatim[phase], counted[phase])
		}
	}
	if verbatim["ok"] != 50 || verbatim["low"] != 20 || verbatim["back"] != 10 {
		t.Errorf("written per phase %v, want ok 50, low 20 (the errors), back 10", verbatim)
	}
	if internal == 0 {
		t.Errorf("no warning record from floodgate itself when the watermarks were crossed")
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// startDaemonWithMetrics is startDaemon for a config with a metrics
// endpoint, whose address it reads from the log.
func startDaemonWithMetrics(t *testing.T, config string, inputs int) *daemon {
	t.Helper()
	return startDaemonWithMetricsIn(t, t.TempDir(), config, inputs)
}

// startDaemonWithMetricsIn is startDaemonWithMetrics in dir.
func startDaemonWithMetricsIn(t *testing.T, dir, config string, inputs int) *daemon {
	t.Helper()
	d := startDaemonIn(t, dir, config, inputs)
	// The metrics endpoint binds, and says so, after the inputs.
	re := regexp.MustCompile(`msg="serving metrics" address=(\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := re.FindStringSubmatch(d.stderr.String()); m != nil {
			d.metrics = m[1]
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics address in the log:\n%s", d.stderr.String())
		}
		select {
		case err := <-d.done:
			t.Fatalf("floodgate exited: %v\n%s", err, d.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitMetric polls /metrics until the sample named (with its labels)
// satisfies ok, or fails after 20 s.
func (d *daemon) waitMetric(name string, ok func(float64) bool) {
	d.t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`)
	deadline := time.Now().Add(20 * time.Second)
	last := "absent"
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + d.metrics + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := re.FindSubmatch(b); m != nil {
				last = string(m[1])
				if v, err := strconv.ParseFloat(last, 64); err == nil && ok(v) {
					return
				}
			}
		}
		select {
		case err := <-d.done:
			d.t.Fatalf("floodgate exited: %v\n%s", err, d.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	d.t.Fatalf("metric %s = %s, never as expected\n%s", name, last, d.stderr.String())
}
