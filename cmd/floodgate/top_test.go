package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/floodgate/floodgate/relay"
)

const liveConfig = `
[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[output]]
type = "file"
path = "{dir}/out/{app}.log"
format = "json"

[ratelimit]
rate = "1MiB"
burst = "1MiB"

[metrics]
address = "127.0.0.1:0"
token_file = "{dir}/token"
sources = 2
`

// startLive runs the relay with the live views behind token "s3cret".
func startLive(t *testing.T) *daemon {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return startDaemonWithMetrics(t, strings.ReplaceAll(liveConfig, "{dir}", dir), 1)
}

// flood sends n lines from dockerd on host flood-1 and one line for
// every hundred of them from sshd on host quiet-1, over one connection;
// n < 0 sends until stop is closed, at most a million lines.
func flood(t *testing.T, addr string, n int, stop <-chan struct{}) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer c.Close()
	w := bufio.NewWriterSize(c, 64<<10)
	sent := 0
	for i := 0; n < 0 || i < n; i++ {
		if n < 0 && (i >= 1_000_000 || i%1000 == 0 && closed(stop)) {
			break
		}
		fmt.Fprintf(w, "<30>Sep 11 01:24:02 flood-1 dockerd[12436]: level=error msg=\"pull failed\" layer=%x attempt=%d error=\"context deadline exceeded\"\n", i*7919, i)
		sent++
		if i%100 == 0 {
			fmt.Fprintf(w, "<38>Sep 11 01:24:02 quiet-1 sshd[99]: Accepted publickey for deploy from 10.0.0.%d port 22\n", i%250)
			sent++
		}
		if n < 0 && i%200 == 0 {
			time.Sleep(time.Millisecond) // a steady flood, not a burst: the view is what is tested
		}
	}
	if err := w.Flush(); err != nil {
		t.Error(err)
	}
	return sent
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestLiveAPIUnderFlood(t *testing.T) {
	d := startLive(t)
	base := "http://" + d.metrics
	if code := getJSON(t, base+"/api/v1/sources", "", nil); code != http.StatusUnauthorized {
		t.Errorf("without the token: status %d, want 401", code)
	}
	const n = 200_000
	sent := flood(t, d.addrs["tcp"], n, nil)

	// The totals reach what was sent within a second or so of the last
	// message; poll until they do.
	var v relay.SourcesView
	deadline := time.Now().Add(30 * time.Second)
	for getJSON(t, base+"/api/v1/sources?sort=total", "s3cret", &v); v.Total.Messages < int64(sent); getJSON(t, base+"/api/v1/sources?sort=total", "s3cret", &v) {
		if time.Now().After(deadline) {
			t.Fatalf("total %d messages, sent %d", v.Total.Messages, sent)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v.Total.Messages != int64(sent) || len(v.Sources) != 2 {
		t.Fatalf("total %d messages in %d sources, sent %d from 2", v.Total.Messages, len(v.Sources), sent)
	}
	f := v.Sources[0]
	if f.Host != "flood-1" || f.App != "dockerd" || f.Messages != n {
		t.Errorf("first source %s/%s with %d messages, want flood-1/dockerd with %d", f.Host, f.App, f.Messages, n)
	}
	if f.Folded < n/2 {
		t.Errorf("dockerd: %d folded of %d", f.Folded, n)
	}
	var p relay.PatternsView
	getJSON(t, base+"/api/v1/patterns?n=1&sort=total", "s3cret", &p)
	if len(p.Patterns) != 1 || p.Patterns[0].App != "dockerd" || !strings.HasPrefix(p.Patterns[0].Exemplar, `level=error msg="pull failed" layer=0 attempt=0`) {
		t.Errorf("top pattern %+v, want dockerd's with its first line as exemplar", p.Patterns)
	}

	// 200,000 sources of one line each: the table rolls the quiet ones
	// up and keeps every count.
	const distinct = 200_000
	c, err := net.Dial("tcp", d.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(c, 64<<10)
	for i := range distinct {
		fmt.Fprintf(w, "<30>Sep 11 01:24:03 node-%d kubelet[7]: node status updated\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	sent += distinct
	for getJSON(t, base+"/api/v1/sources?sort=total&n=1000", "s3cret", &v); v.Total.Messages < int64(sent); getJSON(t, base+"/api/v1/sources?sort=total&n=1000", "s3cret", &v) {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("total %d messages, sent %d", v.Total.Messages, sent)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sum := v.Other.Messages
	for _, s := range v.Sources {
		sum += s.Messages
	}
	if len(v.Sources) != 1000 || sum != int64(sent) || v.Sources[0].App != "dockerd" || v.Sources[0].Messages != n {
		t.Errorf("%d rows adding up to %d with other, sent %d; first %s/%s with %d", len(v.Sources), sum, sent, v.Sources[0].Host, v.Sources[0].App, v.Sources[0].Messages)
	}

	// Once sampled, the flood's source has a series of its own.
	d.waitMetric(`floodgate_source_received_messages_total{app="dockerd",host="flood-1"}`, func(v float64) bool { return v == n })
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`(?m)^floodgate_build_info\{goversion="go[^"]+",version="[^"]+"\} 1$`).Match(b) {
		t.Errorf("no floodgate_build_info in /metrics")
	}
	d.stop()
}

func TestTopOnceWithoutTerminal(t *testing.T) {
	d := startLive(t)
	sent := flood(t, d.addrs["tcp"], 20_000, nil)
	var v relay.SourcesView
	for getJSON(t, "http://"+d.metrics+"/api/v1/sources", "s3cret", &v); v.Total.Messages < int64(sent); getJSON(t, "http://"+d.metrics+"/api/v1/sources", "s3cret", &v) {
		time.Sleep(50 * time.Millisecond)
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"top", "-addr", d.metrics, "-token", "s3cret"}, strings.NewReader(""), &out, &errb)
	if err != nil {
		t.Fatalf("top: %v\n%s", err, errb.String())
	}
	lines := strings.Split(out.String(), "\n")
	i := 0
	for i < len(lines) && !strings.HasPrefix(lines[i], "HOST") {
		i++
	}
	if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "flood-1 ") || !strings.Contains(lines[i+1], "dockerd") {
		t.Errorf("the flood is not the first source:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "pull failed") {
		t.Errorf("no pattern of the flood:\n%s", out.String())
	}
	d.stop()
}

// tmux drives a terminal of its own: a server on a socket only this test
// uses.
type tmux struct {
	t      *testing.T
	socket string
}

func (x *tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.socket}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// waitScreen captures the pane until ok holds, or fails after 20 s.
func (x *tmux) waitScreen(what string, ok func(screen string) bool) string {
	x.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := x.run("capture-pane", "-p", "-t", "top")
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("the screen never showed %s:\n%s", what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// firstRow returns the line after the table header that starts with
// head.
func firstRow(screen, head string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, head) && i+1 < len(lines) {
			return lines[i+1]
		}
	}
	return ""
}

func TestTopInTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (test.sh installs it)")
	}
	d := startLive(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		flood(t, d.addrs["tcp"], -1, stop)
	}()
	defer wg.Wait()
	defer close(stop)

	x := &tmux{t: t, socket: fmt.Sprintf("floodgate-test-%d", os.Getpid())}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", x.socket, "kill-server").Run() })
	cmd := fmt.Sprintf("%s top -addr %s -token s3cret; echo top exited $?; sleep 60", binary, d.metrics)
	x.run("new-session", "-d", "-s", "top", "-x", "160", "-y", "40", "sh", "-c", cmd)

	x.waitScreen("the flood first among sources", func(s string) bool {
		r := firstRow(s, "HOST")
		return strings.HasPrefix(r, "flood-1 ") && strings.Contains(r, "dockerd")
	})
	x.run("send-keys", "-t", "top", "Tab")
	x.waitScreen("the flood's pattern first", func(s string) bool {
		return strings.Contains(firstRow(s, "FP"), "pull failed")
	})
	x.run("send-keys", "-t", "top", "s")
	x.waitScreen("the order by messages", func(s string) bool { return strings.Contains(s, "sort: messages") })
	x.run("send-keys", "-t", "top", "q")
	s := x.waitScreen("top exiting", func(s string) bool { return strings.Contains(s, "top exited") })
	if !strings.Contains(s, "top exited 0") || strings.Contains(s, "LAST MINUTE") || strings.Contains(s, "floodgate top") {
		t.Errorf("after q, the terminal is not restored or top failed:\n%s", s)
	}
}
