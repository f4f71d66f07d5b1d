package main

// End-to-end tests of the forward output against a real rsyslogd as the
// central receiver, over TCP and over TLS (rsyslog's gtls driver, with
// certificates made by the test), through an outage of the receiver and
// a restart of floodgate in the middle of it.

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/syncbuf"
	"github.com/floodgate/floodgate/internal/testcert"
)

// upstream is a central rsyslogd receiving syslog over TCP or TLS and
// writing, per record, its app, its structured data and its text.
type upstream struct {
	t     *testing.T
	dir   string
	certs *testcert.Set // nil: plain TCP
	port  string
	cmd   *exec.Cmd
	done  chan error
	log   *syncbuf.Buffer
}

func rsyslogdPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("rsyslogd")
	if err != nil {
		p = "/usr/sbin/rsyslogd"
	}
	if _, err := os.Stat(p); err != nil {
		t.Skip("rsyslogd not installed")
	}
	return p
}

func newUpstream(t *testing.T, certs *testcert.Set) *upstream {
	t.Helper()
	if certs != nil {
		if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"); err != nil {
			if m, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(m) == 0 {
				t.Skip("rsyslog-gnutls not installed")
			}
		}
	}
	u := &upstream{t: t, dir: t.TempDir(), certs: certs, port: "0"}
	t.Cleanup(func() {
		if u.cmd != nil && u.cmd.ProcessState == nil {
			_ = u.cmd.Process.Kill()
			<-u.done
		}
	})
	return u
}

// start runs rsyslogd and waits until it listens; the first start binds
// port 0, and later ones the port it got.
func (u *upstream) start() {
	u.t.Helper()
	portFile := filepath.Join(u.dir, "imtcp.port")
	_ = os.Remove(portFile)
	var global, driver string
	if c := u.certs; c != nil {
		global = fmt.Sprintf(` DefaultNetstreamDriverCAFile=%q DefaultNetstreamDriverCertFile=%q DefaultNetstreamDriverKeyFile=%q`,
			c.CA, c.ServerCert, c.ServerKey)
		// Mutual TLS: floodgate must present a certificate the CA signed.
		driver = ` StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="x509/certvalid"`
	}
	conf := fmt.Sprintf(`global(workDirectory=%q%s)
module(load="imtcp"%s)
template(name="acct" type="string" string="%%app-name%% %%structured-data%% %%msg%%\n")
ruleset(name="in") {
  action(type="omfile" file=%q template="acct")
}
input(type="imtcp" address="127.0.0.1" port=%q listenPortFileName=%q ruleset="in")
`, u.dir, global, driver, filepath.Join(u.dir, "received.log"), u.port, portFile)
	u.cmd, u.done, u.log, u.port = runRsyslogd(u.t, u.dir, conf, portFile, u.port)
}

// runRsyslogd checks conf with rsyslogd -N1 and runs it in dir, then waits
// until its imtcp listens: until it has written portFile when port is "0"
// (the first start), or until port answers (a restart). It returns the
// process, a channel that gets Wait's result, its output and the port.
func runRsyslogd(t *testing.T, dir, conf, portFile, port string) (*exec.Cmd, chan error, *syncbuf.Buffer, string) {
	t.Helper()
	rsyslogd := rsyslogdPath(t)
	cfg := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(rsyslogd, "-N1", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd rejects its test config: %v\n%s", err, out)
	}
	log := &syncbuf.Buffer{}
	cmd := exec.Command(rsyslogd, "-n", "-f", cfg, "-i", filepath.Join(dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = log, log
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
	deadline := time.Now().Add(20 * time.Second)
	for {
		// rsyslogd writes the port file only for port 0; on a restart
		// the port it listens on answers.
		if b, err := os.ReadFile(portFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return cmd, done, log, string(bytes.TrimSpace(b))
		}
		if port != "0" {
			if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port)); err == nil {
				c.Close()
				return cmd, done, log, port
			}
		}
		select {
		case err := <-done:
			t.Fatalf("rsyslogd exited before listening: %v\n%s", err, log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd did not listen:\n%s", log.String())
		}
	}
}

// stop sends rsyslogd SIGTERM and waits for it to exit.
func (u *upstream) stop() {
	u.t.Helper()
	if err := u.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		u.t.Fatal(err)
	}
	select {
	case <-u.done:
	case <-time.After(20 * time.Second):
		u.t.Fatalf("rsyslogd did not stop:\n%s", u.log.String())
	}
}

var sdCount = regexp.MustCompile(`\[floodgate@32473 [^]]*count="(\d+)"`)

// account reads what rsyslogd wrote: records written verbatim, the sum of
// the counts of summaries, and the summaries by kind. floodgate's own
// records stand for no message and are left out.
func (u *upstream) account() (verbatim, counted int64, kinds map[string]int) {
	u.t.Helper()
	kinds = map[string]int{}
	b, err := os.ReadFile(filepath.Join(u.dir, "received.log"))
	if err != nil && !os.IsNotExist(err) {
		u.t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		app, rest, _ := strings.Cut(line, " ")
		if app == "floodgate" {
			continue
		}
		if m := sdCount.FindStringSubmatch(rest); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			counted += n
			if k := regexp.MustCompile(`kind="(\w+)"`).FindStringSubmatch(rest); k != nil {
				kinds[k[1]]++
			}
			continue
		}
		verbatim++
	}
	return verbatim, counted, kinds
}

// waitAccount waits until the upstream's records stand for n messages;
// it fails at once if they stand for more.
func (u *upstream) waitAccount(n int64, d *daemon) {
	u.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, c, _ := u.account()
		if v+c == n {
			return
		}
		if v+c > n {
			u.t.Fatalf("upstream has %d verbatim + %d counted = %d, more than the %d sent", v, c, v+c, n)
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("upstream has %d verbatim + %d counted = %d of %d\nfloodgate:\n%s\nrsyslogd:\n%s", v, c, v+c, n, d.stderr.String(), u.log.String())
		}
		time.Sleep(50 * time.Millisecond) // polling a file rsyslogd appends to: there is no event to wait on
	}
}

// forwardConfig is floodgate with one TCP input and the forward output to
// u; extra is appended.
func forwardConfig(u *upstream, queueDir, queueMax, extra string) string {
	c := fmt.Sprintf(`
[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[output]]
type = "forward"
address = "127.0.0.1:%s"
reconnect_min = "20ms"
reconnect_max = "250ms"
`, u.port)
	if cs := u.certs; cs != nil {
		c += fmt.Sprintf("protocol = \"tls\"\nca = %q\ncert = %q\nkey = %q\nserver_name = \"localhost\"\n", cs.CA, cs.ClientCert, cs.ClientKey)
	}
	if queueDir != "" {
		c += fmt.Sprintf("queue_dir = %q\nmax_buffer = \"64KiB\"\nqueue_max = %q\n", queueDir, queueMax)
	}
	return c + `
[metrics]
address = "127.0.0.1:0"
` + extra
}

// sendTCP sends the messages msg(from) .. msg(to-1) over one connection
// and closes it.
func sendTCP(t *testing.T, addr string, from, to int, msg func(int) string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(c, 64<<10)
	for i := from; i < to; i++ {
		fmt.Fprintf(w, "%s\n", msg(i))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// startedUpstream starts a real rsyslogd to forward to, over TLS with
// certificates made for the test when tls is set.
func startedUpstream(t *testing.T, tls bool) *upstream {
	t.Helper()
	var cs *testcert.Set
	if tls {
		var err error
		if cs, err = testcert.New(t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	u := newUpstream(t, cs)
	u.start()
	return u
}

func TestForwardToRsyslog(t *testing.T) {
	tests := []struct {
		name string
		tls  bool
	}{
		{name: "tcp"},
		{name: "tls", tls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := startedUpstream(t, tt.tls)
			d := startDaemonWithMetrics(t, forwardConfig(u, "", "", ""), 1)
			// A flood that folds, lines that do not, and an error.
			const n = 3000
			sendTCP(t, d.addrs["tcp"], 0, n, func(i int) string {
				switch {
				case i == 1500:
					return "<27>Nov 29 10:00:00 web-1 api[7]: disk /var is 91% full"
				case i%100 == 0:
					return fmt.Sprintf("<30>Nov 29 10:00:00 web-1 api[7]: user %c%c%c logged in from the console", 'a'+i/100%26, 'a'+i/2600, 'k')
				}
				return fmt.Sprintf("<30>Nov 29 10:00:00 web-1 api[7]: request %d took %d ms", i, i%17)
			})
			d.waitMetric("floodgate_messages_parsed_total", func(v float64) bool { return v >= n })
			d.stop() // emits every pending summary and sends it before exit
			u.waitAccount(n, d)
			v, c, kinds := u.account()
			if kinds["repeat"] == 0 || v < 2 || c == 0 {
				t.Errorf("upstream got %d verbatim, %d counted, summaries %v: want the flood folded into repeat summaries", v, c, kinds)
			}
			b, _ := os.ReadFile(filepath.Join(u.dir, "received.log"))
			if !strings.Contains(string(b), "api - disk /var is 91% full") {
				t.Errorf("the error did not arrive verbatim:\n%.2000s", b)
			}
			u.stop()
		})
	}
}

// outageLength is how long TestForwardThroughOutage keeps the upstream
// down at least: FLOODGATE_E2E_OUTAGE (say "30s"), or only as long as the
// flood and the restart take, a second or two, under CI.
func outageLength(t *testing.T) time.Duration {
	s := os.Getenv("FLOODGATE_E2E_OUTAGE")
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("FLOODGATE_E2E_OUTAGE=%q: %v", s, err)
	}
	return d
}

// TestForwardThroughOutage floods floodgate while the central rsyslogd is
// down, restarts floodgate in the middle of the outage, and brings the
// upstream back: every message is accounted for at the upstream, verbatim
// or in a summary's count, suppressed ones included.
func TestForwardThroughOutage(t *testing.T) {
	tests := []struct {
		name string
		tls  bool
	}{
		{name: "tcp"},
		{name: "tls", tls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := startedUpstream(t, tt.tls)
			qdir := filepath.Join(t.TempDir(), "queue")
			// Dedupe and budgets off: every message is a record to carry
			// through the outage, more than memory and the disk queue
			// hold, so some are dropped and stood for by suppressed
			// summaries.
			cfg := forwardConfig(u, qdir, "1MiB", "[dedupe]\nenabled = false\n[ratelimit]\nenabled = false\n")
			msg := func(i int) string {
				return fmt.Sprintf("<30>Nov 29 10:00:00 node-%d kubelet[9]: pod-%d synced after %d retries", i%4, i, i%5)
			}
			const a, b, c = 2000, 20000, 3000
			d := startDaemonWithMetrics(t, cfg, 1)
			sendTCP(t, d.addrs["tcp"], 0, a, msg)
			u.waitAccount(a, d)

			outage := time.Now()
			u.stop()
			sendTCP(t, d.addrs["tcp"], a, a+b, msg)
			d.waitMetric("floodgate_messages_parsed_total", func(v float64) bool { return v >= a+b })
			d.waitMetric(`floodgate_output_upstream_up{output="0"}`, func(v float64) bool { return v == 0 })
			d.waitMetric(`floodgate_output_queue_records{output="0",queue="disk"}`, func(v float64) bool { return v > 0 })
			d.stop() // spills memory to the disk queue
			if !strings.Contains(d.stderr.String(), "queue spilled to disk") {
				t.Errorf("floodgate did not spill its queue at SIGTERM:\n%s", d.stderr.String())
			}

			d2 := startDaemonWithMetrics(t, cfg, 1)
			if !strings.Contains(d2.stderr.String(), "queue found on disk") {
				d2.waitLog("queue found on disk")
			}
			sendTCP(t, d2.addrs["tcp"], a+b, a+b+c, msg)
			d2.waitMetric("floodgate_messages_parsed_total", func(v float64) bool { return v >= c })
			if rest := outageLength(t) - time.Since(outage); rest > 0 {
				time.Sleep(rest) // holding the upstream down for the length asked: a span, not a wait for an event
			}
			u.start()
			t.Logf("upstream down for %v", time.Since(outage).Round(10*time.Millisecond))
			u.waitAccount(a+b+c, d2)
			d2.waitMetric(`floodgate_output_queue_records{output="0",queue="disk"}`, func(v float64) bool { return v == 0 })
			d2.stop()
			u.stop()
			v, c2, kinds := u.account()
			if v+c2 != a+b+c {
				t.Errorf("upstream has %d verbatim + %d counted (%v), want %d", v, c2, kinds, a+b+c)
			}
			if kinds["suppressed"] == 0 {
				t.Errorf("no suppressed summary at the upstream (%d verbatim, %d counted): the queues never filled", v, c2)
			}
			t.Logf("upstream: %d verbatim, %d counted in %v", v, c2, kinds)
		})
	}
}

// TestReplayForwards: `floodgate replay` with a forward output sends a
// capture upstream and exits once the upstream acknowledged it all.
func TestReplayForwards(t *testing.T) {
	u := newUpstream(t, nil)
	u.start()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "floodgate.toml")
	if err := os.WriteFile(cfg, []byte(forwardConfig(u, "", "", "")), 0o644); err != nil {
		t.Fatal(err)
	}
	var capture strings.Builder
	const n = 500
	for i := range n {
		fmt.Fprintf(&capture, "Nov 29 10:%02d:%02d node-1 sshd[%d]: Accepted publickey for deploy from 10.0.0.%d port %d\n", i/60, i%60, 1000+i, i%250, 40000+i)
	}
	capPath := filepath.Join(dir, "syslog")
	if err := os.WriteFile(capPath, []byte(capture.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "replay", "-config", cfg, capPath).CombinedOutput()
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	// replay returned: the output had every record acknowledged.
	u.waitAccount(n, &daemon{t: t, stderr: &syncbuf.Buffer{}})
	u.stop()
}
