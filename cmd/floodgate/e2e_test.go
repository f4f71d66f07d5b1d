package main

// End-to-end tests: the real floodgate binary on loopback, fed by the real
// peers an operator has: util-linux's logger and rsyslogd forwarding with
// omfwd. They assert what arrives in the files, field by field, and that a
// clean shutdown loses nothing.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/syncbuf"
)

// binary is floodgate, built once by TestMain, with the bench harness
// floodgate-bench beside it, where `floodgate bench` looks first.
var binary, benchBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "floodgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "floodgate")
	b := exec.Command("go", "build", "-race", "-o", binary, ".")
	b.Stdout, b.Stderr = os.Stderr, os.Stderr
	if err := b.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build floodgate:", err)
		os.Exit(1)
	}
	benchBin = filepath.Join(dir, "floodgate-bench")
	b = exec.Command("go", "build", "-o", benchBin, "../../bench/cmd/floodgate-bench")
	b.Stdout, b.Stderr = os.Stderr, os.Stderr
	if err := b.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build floodgate-bench:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// record is one line of JSON output, as docs/output-format.md defines it.
type record struct {
	Time     string          `json:"time"`
	Host     string          `json:"host"`
	App      string          `json:"app"`
	ProcID   string          `json:"procid"`
	Facility string          `json:"facility"`
	Severity string          `json:"severity"`
	Msg      string          `json:"msg"`
	Event    string          `json:"event"`
	Summary  *summaryRecord  `json:"summary"`
	Raw      json.RawMessage `json:"-"`
}

type summaryRecord struct {
	Kind  string `json:"kind"`
	FP    string `json:"fp"`
	Count int64  `json:"count"`
	First string `json:"first"`
	Last  string `json:"last"`
}

// daemon is a floodgate run started by a test.
type daemon struct {
	t       *testing.T
	cmd     *exec.Cmd
	dir     string
	stderr  *syncbuf.Buffer
	addrs   map[string]string // input type -> bound address
	metrics string            // metrics endpoint, when asked for
	done    chan error
}

// startDaemon runs `floodgate run` with config (where {dir} stands for the
// test's directory) and waits until every input is listening.
func startDaemon(t *testing.T, config string, inputs int) *daemon {
	t.Helper()
	return startDaemonIn(t, t.TempDir(), config, inputs)
}

// startDaemonIn is startDaemon in dir, which a run before may have used.
func startDaemonIn(t *testing.T, dir, config string, inputs int) *daemon {
	t.Helper()
	cfg := filepath.Join(dir, "floodgate.toml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(config, "{dir}", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, stderr: &syncbuf.Buffer{}, addrs: map[string]string{}, done: make(chan error, 1)}
	d.cmd = exec.Command(binary, "run", "-config", cfg)
	d.cmd.Dir = dir
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			_ = d.cmd.Process.Kill()
			<-d.done
		}
	})
	listening := regexp.MustCompile(`msg=listening input="?(\w+) [^ ]*"? address=(\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ms := listening.FindAllStringSubmatch(d.stderr.String(), -1)
		if len(ms) >= inputs {
			for _, m := range ms {
				d.addrs[m[1]] = m[2]
			}
			return d
		}
		select {
		case err := <-d.done:
			t.Fatalf("floodgate exited before listening: %v\n%s", err, d.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("floodgate did not listen on %d inputs:\n%s", inputs, d.stderr.String())
		}
	}
}

// waitLog waits until floodgate has logged msg.
func (d *daemon) waitLog(msg string) {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.stderr.String(), "msg=\""+msg+"\"") && !strings.Contains(d.stderr.String(), "msg="+msg+" ") {
		select {
		case err := <-d.done:
			d.t.Fatalf("floodgate exited before logging %q: %v\n%s", msg, err, d.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("floodgate did not log %q:\n%s", msg, d.stderr.String())
		}
	}
}

// stop sends SIGTERM and waits for exit 0.
func (d *daemon) stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Fatalf("floodgate exited with %v after SIGTERM:\n%s", err, d.stderr.String())
		}
	case <-time.After(30 * time.Second):
		d.t.Fatalf("floodgate did not exit after SIGTERM:\n%s", d.stderr.String())
	}
}

// records reads every JSON record under the daemon's out directory.
func (d *daemon) records() []record {
	d.t.Helper()
	return readRecords(d.t, filepath.Join(d.dir, "out"))
}

func readRecords(t *testing.T, root string) []record {
	t.Helper()
	var recs []record
	err := filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return fmt.Errorf("%s: %v: %q", path, err, sc.Text())
			}
			r.Raw = append(json.RawMessage(nil), sc.Bytes()...)
			recs = append(recs, r)
		}
		return sc.Err()
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return recs
}

func find(recs []record, msg string) *record {
	for i := range recs {
		if recs[i].Msg == msg && recs[i].Summary == nil {
			return &recs[i]
		}
	}
	return nil
}

const jsonConfig = `
[[input]]
type = "udp"
address = "127.0.0.1:0"

[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[input]]
type = "unix"
address = "{dir}/floodgate.sock"

[[output]]
type = "file"
path = "{dir}/out/{host}/{app}.log"
format = "json"

[metrics]
address = ""
`

func TestLoggerOverEveryTransport(t *testing.T) {
	d := startDaemon(t, jsonConfig, 3)
	udp, tcp := d.addrs["udp"], d.addrs["tcp"]
	host, port, _ := net.SplitHostPort(udp)
	_, tport, _ := net.SplitHostPort(tcp)
	sock := filepath.Join(d.dir, "floodgate.sock")
	type send struct {
		name string
		args []string
		sev  string
		fac  string
	}
	sends := []send{
		{"udp rfc5424", []string{"-n", host, "-P", port, "-d", "-t", "e2e-udp", "-p", "daemon.err", "--id=4242"}, "err", "daemon"},
		{"udp rfc3164", []string{"-n", host, "-P", port, "-d", "--rfc3164", "-t", "e2e-udp3164", "-p", "local3.warning"}, "warning", "local3"},
		{"tcp plain", []string{"-n", host, "-P", tport, "-T", "-t", "e2e-tcp", "-p", "user.info", "--id=77"}, "info", "user"},
		{"tcp octet", []string{"-n", host, "-P", tport, "-T", "--octet-count", "-t", "e2e-octet", "-p", "auth.crit"}, "crit", "auth"},
		{"unix", []string{"-u", sock, "--socket-errors=on", "-t", "e2e-unix", "-p", "mail.notice"}, "notice", "mail"},
	}
	for _, s := range sends {
		msg := "hello from " + s.name + " #011tab stays"
		out, err := exec.Command("logger", append(s.args, msg)...).CombinedOutput()
		if err != nil {
			t.Fatalf("logger %s: %v: %s", s.name, err, out)
		}
	}
	d.stop()
	recs := d.records()
	hostname, _ := os.Hostname()
	for _, s := range sends {
		t.Run(s.name, func(t *testing.T) {
			r := find(recs, "hello from "+s.name+" #011tab stays")
			if r == nil {
				t.Fatalf("message not written; records: %d\n%s", len(recs), d.stderr.String())
			}
			app := s.args[indexOf(s.args, "-t")+1]
			if r.App != app || r.Severity != s.sev || r.Facility != s.fac {
				t.Errorf("app/severity/facility = %s/%s/%s, want %s/%s/%s", r.App, r.Severity, r.Facility, app, s.sev, s.fac)
			}
			if short := strings.SplitN(hostname, ".", 2)[0]; r.Host != hostname && r.Host != short {
				t.Errorf("host = %q, want %q", r.Host, hostname)
			}
			if i := indexOf(s.args, "--id=4242"); i >= 0 && r.ProcID != "4242" {
				t.Errorf("procid = %q, want 4242", r.ProcID)
			}
			if _, err := time.Parse(time.RFC3339, r.Time); err != nil {
				t.Errorf("time %q is not RFC 3339: %v", r.Time, err)
			}
		})
	}
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

// TestRsyslogForwardsToFloodgate runs a real rsyslogd that receives over
// TCP and forwards with omfwd over TCP, octet-counted, to floodgate: the
// way operators put floodgate in front of the disk. Every hop is a stream,
// so the counts are exact. Nobody binds a port for another: floodgate and
// rsyslogd each bind port 0 and say which port they got.
func TestRsyslogForwardsToFloodgate(t *testing.T) {
	rsyslogd, err := exec.LookPath("rsyslogd")
	if err != nil {
		rsyslogd = "/usr/sbin/rsyslogd"
	}
	d := startDaemonWithMetrics(t, strings.Replace(jsonConfig, `address = ""`, `address = "127.0.0.1:0"`, 1), 3)
	_, fport, _ := net.SplitHostPort(d.addrs["tcp"])
	rdir := t.TempDir()
	portFile := filepath.Join(rdir, "imtcp.port")
	// Only what the test sends is forwarded: rsyslogd's own messages stay
	// in the default ruleset, which has no action.
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
ruleset(name="forward") {
  action(type="omfwd" target="127.0.0.1" port=%q protocol="tcp" TCP_Framing="octet-counted"
         queue.type="LinkedList" queue.size="100000" action.resumeRetryCount="-1")
}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName=%q ruleset="forward")
`, rdir, fport, portFile)
	cfg := filepath.Join(rdir, "rsyslog.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(rsyslogd, "-N1", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd rejects its test config: %v\n%s", err, out)
	}
	r := exec.Command(rsyslogd, "-n", "-f", cfg, "-i", filepath.Join(rdir, "rsyslogd.pid"))
	var rerr syncbuf.Buffer
	r.Stderr, r.Stdout = &rerr, &rerr
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	rdone := make(chan error, 1)
	go func() { rdone <- r.Wait() }()
	defer func() {
		if r.ProcessState == nil {
			_ = r.Process.Kill()
			<-rdone
		}
	}()
	// rsyslogd writes the port imtcp bound once it listens.
	var rport string
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(portFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			rport = string(bytes.TrimSpace(b))
			break
		}
		select {
		case err := <-rdone:
			t.Fatalf("rsyslogd exited before listening: %v\n%s", err, rerr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd wrote no port to %s:\n%s", portFile, rerr.String())
		}
	}

	const n = 200
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", rport))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(c)
	for i := 0; i < n; i++ {
		pri := 3*8 + 6 // daemon.info
		if i%50 == 0 {
			pri = 3*8 + 3 // daemon.err
		}
		msg := fmt.Sprintf("request %d served in %d ms by worker-%c", i, i%7, 'a'+byte(i%3))
		fmt.Fprintf(w, "<%d>Nov 27 10:00:%02d webhost webapp[31337]: %s\n", pri, i%60, msg)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// rsyslog forwards asynchronously: wait until floodgate has parsed
	// every message, then stop both.
	d.waitMetric("floodgate_messages_parsed_total", func(v float64) bool { return v >= n })
	if err := r.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rdone:
	case <-time.After(20 * time.Second):
		t.Fatalf("rsyslogd did not stop:\n%s", rerr.String())
	}
	d.stop()
	recs := d.records()
	var verbatim, counted int64
	for _, rec := range recs {
		if rec.App != "webapp" {
			t.Errorf("a record of another app was forwarded: %s", rec.Raw)
			continue
		}
		if rec.Summary != nil {
			counted += rec.Summary.Count
			continue
		}
		verbatim++
		if rec.Host != "webhost" || rec.ProcID != "31337" || rec.Facility != "daemon" {
			t.Errorf("forwarded record lost host, procid or facility: %s", rec.Raw)
		}
	}
	if verbatim+counted != n {
		t.Fatalf("sent %d messages through rsyslog; floodgate wrote %d verbatim + %d counted = %d\nfloodgate:\n%s\nrsyslogd:\n%s",
			n, verbatim, counted, verbatim+counted, d.stderr.String(), rerr.String())
	}
	// The first of the flood got through verbatim, and so did the first
	// error of the same wording: a severity is part of a pattern.
	for _, want := range []struct{ msg, sev string }{
		{"request 0 served in 0 ms by worker-a", "err"},
		{"request 1 served in 1 ms by worker-b", "info"},
	} {
		rec := find(recs, want.msg)
		if rec == nil {
			t.Errorf("%q not written verbatim", want.msg)
		} else if rec.Severity != want.sev {
			t.Errorf("%q has severity %s, want %s", want.msg, rec.Severity, want.sev)
		}
	}
	if verbatim >= n/2 {
		t.Errorf("%d of %d templated lines written verbatim: nothing collapsed", verbatim, n)
	}
}

// TestShutdownLosesNothing sends a flood over one TCP connection and
// signals floodgate as soon as the sender is done: every message must be
// accounted for, verbatim or in a summary's count.
func TestShutdownLosesNothing(t *testing.T) {
	d := startDaemon(t, jsonConfig, 3)
	c, err := net.Dial("tcp", d.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	w := bufio.NewWriter(c)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			msg := fmt.Sprintf("<30>1 2026-11-27T10:00:%02d.%06dZ node%d kubelet %d - - status %d of pod-%d ok", i/1000%60, i%1000000, i%3, 1000+i%5, i, i%11)
			fmt.Fprintf(w, "%d %s", len(msg), msg)
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("send after the signal: %v (the drain closed the connection)", err)
		}
	}
	send(0, n/2)
	// Signal while the connection is open, and send the second half once
	// floodgate says it is shutting down: only a drain that reads
	// connected clients until they close gets it.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.waitLog("shutting down")
	send(n/2, n)
	c.Close()
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, d.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	var total int64
	for _, r := range d.records() {
		total += 1
		if r.Summary != nil {
			total += r.Summary.Count - 1
		}
	}
	if total != n {
		t.Fatalf("sent %d, accounted %d\n%s", n, total, d.stderr.String())
	}
}

// TestShutdownIdleClient: SIGTERM with a client that stays connected and
// sends nothing (rsyslog's forwarding connection on a quiet host) exits 0
// after the drain grace, not the drain timeout (5m here), with every message
// the client sent accounted for.
func TestShutdownIdleClient(t *testing.T) {
	d := startDaemon(t, `
[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[output]]
type = "file"
path = "{dir}/out/{host}/{app}.log"
format = "json"

[relay]
drain_timeout = "5m"

[metrics]
address = ""
`, 1)
	c, err := net.Dial("tcp", d.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 20000
	w := bufio.NewWriter(c)
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("<30>1 2026-11-27T10:00:%02d.%06dZ node%d kubelet %d - - status %d of pod-%d ok", i/1000%60, i%1000000, i%3, 1000+i%5, i, i%11)
		fmt.Fprintf(w, "%d %s", len(msg), msg)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, d.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit with an idle client connected:\n%s", d.stderr.String())
	}
	var total int64
	for _, r := range d.records() {
		total++
		if r.Summary != nil {
			total += r.Summary.Count - 1
		}
	}
	if total != n {
		t.Fatalf("sent %d, accounted %d\n%s", n, total, d.stderr.String())
	}
}

// TestSecondSignalAborts: the first SIGTERM drains, waiting for a
// connected client in the middle of a frame up to the drain timeout; a
// second one aborts at once.
func TestSecondSignalAborts(t *testing.T) {
	d := startDaemon(t, `
[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[output]]
type = "file"
path = "{dir}/out/{host}/{app}.log"

[relay]
drain_timeout = "5m"

[metrics]
address = ""
`, 1)
	c, err := net.Dial("tcp", d.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A whole message and half of the next: a client in the middle of a
	// frame holds the drain until the drain timeout.
	if _, err := c.Write([]byte("<13>Nov 27 10:00:00 h app: still connected\n<13>Nov 27 10:00:01 h app: half a mes")); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.waitLog("shutting down")
	select {
	case err := <-d.done:
		t.Fatalf("exited (%v) while a client was still connected and the drain timeout is 5m", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err == nil {
			t.Fatal("an aborted shutdown exited 0")
		}
		if !strings.Contains(d.stderr.String(), "aborted by a second signal") {
			t.Errorf("no word of the abort:\n%s", d.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("a second SIGTERM did not abort:\n%s", d.stderr.String())
	}
}

// TestSIGHUPKeepsRunning: logrotate's postrotate sends SIGHUP after moving
// the files away; floodgate must keep running and write on into a new
// file where the old one was.
func TestSIGHUPKeepsRunning(t *testing.T) {
	d := startDaemon(t, jsonConfig, 3)
	c, err := net.Dial("tcp", d.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(msg string) {
		t.Helper()
		if _, err := fmt.Fprintf(c, "<13>Nov 27 10:00:00 rot app: %s\n", msg); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(d.dir, "out", "rot", "app.log")
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s:\n%s", what, d.stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	send("before the rotation")
	waitFor("first line not written", func() bool { b, _ := os.ReadFile(file); return len(b) > 0 })
	if err := os.Rename(file, file+".1"); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("no word of the SIGHUP", func() bool { return strings.Contains(d.stderr.String(), "SIGHUP") })
	send("after the rotation")
	waitFor("no new file after the rotation", func() bool {
		b, _ := os.ReadFile(file)
		return strings.Contains(string(b), "after the rotation")
	})
	c.Close() // a connected client would hold shutdown for the drain timeout
	d.stop()
	old, _ := os.ReadFile(file + ".1")
	if !strings.Contains(string(old), "before the rotation") || strings.Contains(string(old), "after the rotation") {
		t.Errorf("rotated file holds %q", old)
	}
}

// TestStdinEOF: a stdin input ends at EOF. Where it is the only input,
// the relay then drains and exits 0 on its own, as a sidecar does when its
// app's pipe closes; beside a socket input it just ends, and the relay
// runs on until signalled.
func TestStdinEOF(t *testing.T) {
	tests := []struct {
		name   string
		inputs string
		alone  bool
	}{
		{name: "stdin alone", inputs: "[[input]]\ntype = \"stdin\"\n", alone: true},
		{name: "stdin and tcp", inputs: "[[input]]\ntype = \"stdin\"\n\n[[input]]\ntype = \"tcp\"\naddress = \"127.0.0.1:0\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "floodgate.toml")
			conf := tt.inputs + "\n[[output]]\ntype = \"stdout\"\nformat = \"json\"\n\n[metrics]\naddress = \"\"\n"
			if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binary, "run", "-config", cfg)
			cmd.Stdin = strings.NewReader("<13>1 2026-11-27T10:00:00Z h app - - - first\n<13>1 2026-11-27T10:00:01Z h app - - - last, without LF")
			var stdout bytes.Buffer
			stderr := &syncbuf.Buffer{}
			cmd.Stdout, cmd.Stderr = &stdout, stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() {
				if cmd.ProcessState == nil {
					_ = cmd.Process.Kill()
					<-done
				}
			})
			if !tt.alone {
				deadline := time.Now().Add(20 * time.Second)
				for !strings.Contains(stderr.String(), "floodgate running") {
					if time.Now().After(deadline) {
						t.Fatalf("not running:\n%s", stderr.String())
					}
					time.Sleep(10 * time.Millisecond)
				}
				select {
				case err := <-done:
					t.Fatalf("exited (%v) at stdin's EOF beside a tcp input:\n%s", err, stderr.String())
				case <-time.After(300 * time.Millisecond):
				}
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit: %v\n%s", err, stderr.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no exit after stdin's EOF:\n%s", stderr.String())
			}
			out := stdout.String()
			if !strings.Contains(out, `"msg":"first"`) || !strings.Contains(out, `"msg":"last, without LF"`) {
				t.Errorf("stdout = %q, want both messages", out)
			}
		})
	}
}
