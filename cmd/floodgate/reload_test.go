package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// reloadConfig is the config of the reload tests: {rate} is the budget,
// {inputs} and {outputs} what comes beside the steady TCP input and the
// kept output.
const reloadConfig = `
[[input]]
type = "tcp"
address = "127.0.0.1:0"
{inputs}
[[output]]
type = "file"
path = "{dir}/out/{host}/{app}.log"
format = "json"
{outputs}
[dedupe]
flush = "1h"
flush_max = "1h"
exempt_apps = ["plain"]

[ratelimit]
rate = "{rate}"
burst = "64MiB"

[metrics]
address = "127.0.0.1:0"
`

func reloadConf(rate, inputs, outputs string) string {
	return strings.NewReplacer("{rate}", rate, "{inputs}", inputs, "{outputs}", outputs).Replace(reloadConfig)
}

// rewriteConfig replaces the daemon's config file, for a SIGHUP.
func (d *daemon) rewriteConfig(conf string) {
	d.t.Helper()
	conf = strings.ReplaceAll(conf, "{dir}", d.dir)
	if err := os.WriteFile(filepath.Join(d.dir, "floodgate.toml"), []byte(conf), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// hup sends SIGHUP and waits until floodgate has logged msg n times.
func (d *daemon) hup(msg string, n int) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(d.stderr.String(), "msg="+msg) < n {
		select {
		case err := <-d.done:
			d.t.Fatalf("floodgate exited: %v\n%s", err, d.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("floodgate did not log %s %d times:\n%s", msg, n, d.stderr.String())
		}
	}
}

// metric returns the value of one sample of /metrics, -1 when absent.
func (d *daemon) metric(name string) float64 {
	d.t.Helper()
	resp, err := http.Get("http://" + d.metrics + "/metrics")
	if err != nil {
		d.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// lines returns the whole lines of a file, none when it does not exist.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return strings.Split(string(b[:i]), "\n")
	}
	return nil
}

// sender writes octet-counted RFC 5424 messages on one connection, as a
// relay forwarding to floodgate does; sent counts them by source.
type sender struct {
	t    *testing.T
	c    net.Conn
	w    *bufio.Writer
	mu   sync.Mutex
	sent map[string]int64 // "host/app"
}

func newSender(t *testing.T, network, addr string) *sender {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &sender{t: t, c: c, w: bufio.NewWriter(c), sent: map[string]int64{}}
}

func (s *sender) send(host, app, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := fmt.Sprintf("<14>1 2026-12-08T01:00:00.000000Z %s %s - - - %s", host, app, text)
	if _, err := fmt.Fprintf(s.w, "%d %s", len(msg), msg); err != nil {
		return err
	}
	s.sent[host+"/"+app]++
	return nil
}

func (s *sender) flush() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Flush(); err != nil {
		s.t.Fatalf("send: %v (floodgate closed the connection)", err)
	}
}

// account sums, per source, the verbatim records and the counts of the
// summaries under root, leaving out floodgate's own records.
func account(t *testing.T, root string) (total map[string]int64, verbatim map[string]int64) {
	total, verbatim = map[string]int64{}, map[string]int64{}
	for _, r := range readRecords(t, root) {
		if r.Event != "" {
			continue
		}
		k := r.Host + "/" + r.App
		if r.Summary != nil {
			total[k] += r.Summary.Count
			continue
		}
		total[k]++
		verbatim[k]++
	}
	return total, verbatim
}

// TestReloadUnderLoad: under a steady load on one TCP connection, a
// SIGHUP with a config that changes the budget, adds an input and removes
// an output. The connection stays open and nothing is lost; the pattern
// folded before the reload is not written verbatim again after it (its
// count carries on); the new input receives; the removed output stops
// receiving and holds everything it was given.
func TestReloadUnderLoad(t *testing.T) {
	removed := `
[[output]]
type = "file"
path = "{dir}/gone/{host}/{app}.log"
format = "json"
`
	d := startDaemonWithMetrics(t, reloadConf("8MiB", "", removed), 1)
	steady := newSender(t, "tcp", d.addrs["tcp"])

	// Before: a pattern that folds (load/gen) and lines that do not
	// (plain, exempt), until the output to be removed has them.
	const before = 2000
	for i := 0; i < before; i++ {
		if err := steady.send("load", "gen", fmt.Sprintf("request %d served in %d ms", i, i%97)); err != nil {
			t.Fatal(err)
		}
		if err := steady.send("host1", "plain", fmt.Sprintf("plain line %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	steady.flush()
	gone := filepath.Join(d.dir, "gone", "host1", "plain.log")
	deadline := time.Now().Add(20 * time.Second)
	for len(lines(t, gone)) < before {
		if time.Now().After(deadline) {
			t.Fatalf("the output to be removed has %d lines of %d:\n%s", len(lines(t, gone)), before, d.stderr.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a file floodgate writes on its flush interval
	}

	// The load goes on through the reload.
	stop := make(chan struct{})
	loadDone := make(chan error, 1)
	go func() {
		for i := before; ; i++ {
			select {
			case <-stop:
				loadDone <- nil
				return
			default:
			}
			if err := steady.send("load", "gen", fmt.Sprintf("request %d served in %d ms", i, i%97)); err != nil {
				loadDone <- err
				return
			}
			if err := steady.send("host1", "plain", fmt.Sprintf("plain line %d", i)); err != nil {
				loadDone <- err
				return
			}
			if i%50 == 0 {
				steady.mu.Lock()
				err := steady.w.Flush()
				steady.mu.Unlock()
				if err != nil {
					loadDone <- err
					return
				}
			}
		}
	}()

	sock := filepath.Join(d.dir, "added.sock")
	d.rewriteConfig(reloadConf("16MiB", fmt.Sprintf("\n[[input]]\ntype = \"unix\"\naddress = %q\n", sock), ""))
	d.hup("reloaded", 1)
	if !strings.Contains(d.stderr.String(), `changed=input,output,ratelimit`) {
		t.Errorf("the reload does not name what changed:\n%s", d.stderr.String())
	}
	d.waitMetric(`floodgate_reloads_total{result="ok"}`, func(v float64) bool { return v == 1 })

	// The new input receives.
	added := newSender(t, "unix", sock)
	const addedN = 500
	for i := 0; i < addedN; i++ {
		if err := added.send("new", "newapp", fmt.Sprintf("via the added input %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	added.flush()
	added.c.Close()

	// The steady connection carries on after the reload.
	steady.mu.Lock()
	afterMark := steady.sent["host1/plain"]
	steady.mu.Unlock()
	d.waitMetric(`floodgate_input_messages_total{input="tcp 127.0.0.1:0"}`, func(v float64) bool {
		steady.mu.Lock()
		defer steady.mu.Unlock()
		return v > float64(2*afterMark+1000)
	})
	close(stop)
	if err := <-loadDone; err != nil {
		t.Fatalf("the steady connection broke across the reload: %v\n%s", err, d.stderr.String())
	}
	steady.flush()
	if v := d.metric(`floodgate_input_connections_accepted_total{input="tcp 127.0.0.1:0"}`); v != 1 {
		t.Errorf("connections accepted on the steady input = %v, want 1 (kept across the reload)", v)
	}
	steady.c.Close()
	d.stop()

	// Nothing is lost, per source, over the output that stayed.
	total, verbatim := account(t, filepath.Join(d.dir, "out"))
	want := map[string]int64{"new/newapp": addedN}
	for k, n := range steady.sent {
		want[k] = n
	}
	for k, n := range want {
		if total[k] != n {
			t.Errorf("%s: sent %d, accounted %d", k, n, total[k])
		}
	}
	for k := range total {
		if _, ok := want[k]; !ok {
			t.Errorf("records of a source never sent: %s (%d)", k, total[k])
		}
	}
	// The pattern folded before the reload goes on folding: its first
	// occurrence is its only verbatim line.
	if v := verbatim["load/gen"]; v != 1 {
		t.Errorf("load/gen written verbatim %d times, want 1: its dedupe state was lost in the reload", v)
	}
	if v := verbatim["host1/plain"]; v != steady.sent["host1/plain"] {
		t.Errorf("host1/plain: %d verbatim of %d (exempt from dedupe)", v, steady.sent["host1/plain"])
	}

	// The removed output has a prefix of what the kept one has, at least
	// everything before the SIGHUP, nothing sent after the reload, and
	// every record it was given (as it logged at its close).
	kept := lines(t, filepath.Join(d.dir, "out", "host1", "plain.log"))
	old := lines(t, gone)
	if len(old) < before || int64(len(old)) > afterMark {
		t.Errorf("the removed output has %d plain lines: want from %d (before the SIGHUP) to %d (when the reload was done)", len(old), before, afterMark)
	}
	for i := range old {
		if i >= len(kept) || old[i] != kept[i] {
			t.Fatalf("line %d of the removed output is not the kept one's:\n%s\n%s", i+1, old[i], kept[min(i, len(kept)-1)])
		}
	}
	m := regexp.MustCompile(`msg="closed removed output" output=1 records=(\d+)`).FindStringSubmatch(d.stderr.String())
	if m == nil {
		t.Fatalf("no word of the removed output's close:\n%s", d.stderr.String())
	}
	n := len(readRecords(t, filepath.Join(d.dir, "gone")))
	if strconv.Itoa(n) != m[1] {
		t.Errorf("the removed output holds %d records, it wrote %s", n, m[1])
	}
}

// TestReloadBrokenConfig: a config with a syntax error, then one with a
// bad value, leave the old one running: it still receives, and each
// failure is logged with FILE:LINE and counted.
func TestReloadBrokenConfig(t *testing.T) {
	conf := reloadConf("8MiB", "", "")
	d := startDaemonWithMetrics(t, conf, 1)
	c := newSender(t, "tcp", d.addrs["tcp"])
	path := filepath.Join(d.dir, "floodgate.toml")

	d.rewriteConfig(strings.Replace(conf, `rate = "8MiB"`, `rate = "8MiB`, 1)) // an unclosed string
	d.hup(`"reload failed`, 1)
	d.waitMetric(`floodgate_reloads_total{result="error"}`, func(v float64) bool { return v == 1 })
	if !regexp.MustCompile(regexp.QuoteMeta(path) + `:\d+: `).MatchString(d.stderr.String()) {
		t.Errorf("the syntax error is not logged with FILE:LINE:\n%s", d.stderr.String())
	}

	d.rewriteConfig(strings.Replace(conf, `rate = "8MiB"`, `rate = "0"`, 1))
	d.hup(`"reload failed`, 2)
	d.waitMetric(`floodgate_reloads_total{result="error"}`, func(v float64) bool { return v == 2 })
	line := 0
	for i, l := range strings.Split(conf, "\n") {
		if strings.HasPrefix(l, "rate = ") {
			line = i + 1
		}
	}
	if want := fmt.Sprintf("%s:%d: ratelimit.rate: ", path, line); !strings.Contains(d.stderr.String(), want) {
		t.Errorf("the bad value is not logged as %q:\n%s", want, d.stderr.String())
	}
	if v := d.metric(`floodgate_reloads_total{result="ok"}`); v != 0 {
		t.Errorf("reloads ok = %v, want 0", v)
	}

	// The old config runs on, on the same connection.
	const n = 100
	for i := 0; i < n; i++ {
		if err := c.send("h", "plain", fmt.Sprintf("still running %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	c.flush()
	d.waitMetric(`floodgate_input_messages_total{input="tcp 127.0.0.1:0"}`, func(v float64) bool { return v == n })
	c.c.Close()
	d.stop()
	if total, _ := account(t, filepath.Join(d.dir, "out")); total["h/plain"] != n {
		t.Errorf("sent %d after the failed reloads, accounted %d", n, total["h/plain"])
	}
}
