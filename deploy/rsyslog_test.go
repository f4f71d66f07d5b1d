package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/syncbuf"
)

// TestRsyslogQueueOutlivesFloodgate runs the README's rsyslog snippet in a
// real rsyslogd in front of a real floodgate and takes floodgate away:
// what rsyslog receives meanwhile waits in its queue, survives a restart
// of rsyslog itself (saved to disk on shutdown), and reaches floodgate
// once it is back, every message exactly once.
func TestRsyslogQueueOutlivesFloodgate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds floodgate and runs rsyslogd")
	}
	rsyslogd := lookSbin(t, "rsyslogd", "the README's rsyslog queue not run")
	dir := t.TempDir()
	bin := filepath.Join(dir, "floodgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/floodgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// floodgate's port: taken free now, bound by floodgate only later,
	// since rsyslog must be told it before floodgate runs.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fport := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	// rsyslog: the README's snippet with floodgate's port, behind an imtcp
	// input the test writes to, and a file action before it that shows
	// when a message has reached the ruleset.
	snippet := readmeBlock(t, "", `type="omfwd"`)
	snippet = strings.Replace(snippet, `port="5514"`, fmt.Sprintf("port=%q", fport), 1)
	work := filepath.Join(dir, "spool")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	seen := filepath.Join(dir, "seen.log")
	portFile := filepath.Join(dir, "imtcp.port")
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName=%q)
if $programname == "fgtest" then action(type="omfile" file=%q template="RSYSLOG_FileFormat")
%s`, work, portFile, seen, snippet)), 0o644); err != nil {
		t.Fatal(err)
	}

	fconf := filepath.Join(dir, "floodgate.toml")
	out := filepath.Join(dir, "out")
	if err := os.WriteFile(fconf, []byte(fmt.Sprintf(`[[input]]
type = "tcp"
address = "127.0.0.1:%s"

[[output]]
type = "file"
path = "%s/{app}.log"
format = "json"

[dedupe]
enabled = false

[ratelimit]
enabled = false

[metrics]
address = ""
`, fport, out)), 0o644); err != nil {
		t.Fatal(err)
	}

	const n1, n2 = 300, 200

	// floodgate is down: rsyslog takes the first messages and keeps them
	// through its own restart.
	r := start(t, "rsyslogd", rsyslogd, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	send(t, waitPort(t, r, portFile), 0, n1)
	waitFor(t, r, fmt.Sprintf("%d messages through rsyslog's ruleset", n1), func() bool { return lines(seen) >= n1 })
	r.stop(t)
	if q, _ := filepath.Glob(filepath.Join(work, "floodgate.*")); len(q) == 0 {
		t.Fatalf("rsyslog saved no queue in its work directory:\n%s", r.out.String())
	}

	// floodgate comes up, rsyslog comes back with its saved queue, and
	// more messages follow.
	f := start(t, "floodgate", bin, "run", "-config", fconf)
	waitFor(t, f, "floodgate running", func() bool { return strings.Contains(f.out.String(), `msg="floodgate running"`) })
	os.Remove(portFile)
	r = start(t, "rsyslogd", rsyslogd, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	send(t, waitPort(t, r, portFile), n1, n2)
	got := filepath.Join(out, "fgtest.log")
	waitFor(t, f, fmt.Sprintf("%d messages at floodgate", n1+n2), func() bool { return lines(got) >= n1+n2 })
	r.stop(t)
	f.stop(t)

	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for line := range strings.Lines(string(b)) {
		var rec struct {
			Msg string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		count[rec.Msg]++
	}
	for i := range n1 + n2 {
		if c := count[message(i)]; c != 1 {
			t.Errorf("%q arrived %d times, want once", message(i), c)
		}
	}
	if len(count) != n1+n2 {
		t.Errorf("floodgate wrote %d distinct messages, want %d", len(count), n1+n2)
	}
}

func message(i int) string { return fmt.Sprintf("deploy test message %d", i) }

// proc is a command the test started and stops.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
}

func start(t *testing.T, name, path string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(path, args...), out: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop:\n%s", p.name, p.out.String())
	}
	if !p.cmd.ProcessState.Success() {
		t.Fatalf("%s: %v\n%s", p.name, p.cmd.ProcessState, p.out.String())
	}
}

// waitFor polls cond until it holds, failing if p exits or 30 s pass.
func waitFor(t *testing.T, p *proc, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-p.done:
			t.Fatalf("%s exited waiting for %s:\n%s", p.name, what, p.out.String())
		case <-deadline:
			t.Fatalf("no %s after 30 s; %s said:\n%s", what, p.name, p.out.String())
		case <-tick.C:
		}
	}
}

// waitPort returns the address rsyslog's imtcp bound, once it has.
func waitPort(t *testing.T, p *proc, file string) string {
	t.Helper()
	var port []byte
	waitFor(t, p, "imtcp port", func() bool {
		port, _ = os.ReadFile(file)
		return len(bytes.TrimSpace(port)) > 0
	})
	return net.JoinHostPort("127.0.0.1", string(bytes.TrimSpace(port)))
}

// send writes messages from..from+n-1 to addr, one LF-framed line each.
func send(t *testing.T, addr string, from, n int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(c)
	for i := from; i < from+n; i++ {
		fmt.Fprintf(w, "<14>Nov 27 10:00:00 webhost fgtest[42]: %s\n", message(i))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// lines counts the lines of the file at path, 0 when it is missing.
func lines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}
