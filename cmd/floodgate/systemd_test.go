package main

// End-to-end tests of floodgate under systemd's protocols, without
// systemd: socket activation (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES and
// the sockets at descriptors 3 on) and sd_notify (datagrams to
// NOTIFY_SOCKET), exactly as systemd passes and reads them.

import (
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

// notifySocket is a unixgram socket standing for systemd's notify socket:
// each datagram is one sd_notify call.
type notifySocket struct {
	t    *testing.T
	path string
	conn *net.UnixConn
	msgs chan string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n := &notifySocket{t: t, path: path, conn: conn, msgs: make(chan string, 64)}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				close(n.msgs)
				return
			}
			n.msgs <- string(buf[:k])
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return n
}

// next returns the next notification, failing after 20 s.
func (n *notifySocket) next(d *daemon) string {
	n.t.Helper()
	select {
	case m := <-n.msgs:
		return m
	case err := <-d.done:
		n.t.Fatalf("floodgate exited (%v) before notifying:\n%s", err, d.stderr.String())
	case <-time.After(20 * time.Second):
		n.t.Fatalf("no notification in 20 s:\n%s", d.stderr.String())
	}
	return ""
}

// activated runs floodgate as systemd would for a service with sockets:
// files at descriptors 3 on, LISTEN_FDS and LISTEN_FDNAMES naming them,
// LISTEN_PID the service's own pid (set by the shell that then execs
// floodgate, so the pid is floodgate's), NOTIFY_SOCKET for sd_notify.
func activated(t *testing.T, config string, notify *notifySocket, names []string, files []*os.File) *daemon {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "floodgate.toml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(config, "{dir}", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, stderr: &syncbuf.Buffer{}, addrs: map[string]string{}, done: make(chan error, 1)}
	d.cmd = exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, binary, "run", "-config", cfg)
	d.cmd.Dir = dir
	d.cmd.Stderr = d.stderr
	d.cmd.ExtraFiles = files
	d.cmd.Env = append(os.Environ(),
		fmt.Sprintf("LISTEN_FDS=%d", len(files)),
		"LISTEN_FDNAMES="+strings.Join(names, ":"),
		"NOTIFY_SOCKET="+notify.path)
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
	return d
}

const activatedConfig = `
[[input]]
type = "tcp"
fd_name = "floodgate-tcp"

[[input]]
type = "unixgram"
fd_name = "floodgate-journal"

[[input]]
type = "unix"
address = "{dir}/bound.sock"

[[output]]
type = "file"
path = "{dir}/out/{host}/{app}.log"
format = "json"

[metrics]
address = ""
`

// TestSocketActivation passes floodgate a TCP listener and a unix datagram
// socket (journald's /run/systemd/journal/syslog stands as a path in the
// test's directory) the way systemd does; floodgate binds nothing itself,
// says READY=1 once both inputs are served, RELOADING=1 and READY=1
// around a SIGHUP, STOPPING=1 on SIGTERM, and writes what was sent to
// each socket.
func TestSocketActivation(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(t.TempDir(), "syslog")
	ug, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: journal, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	lf, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	uf, err := ug.File()
	if err != nil {
		t.Fatal(err)
	}
	notify := newNotifySocket(t)
	d := activated(t, activatedConfig, notify, []string{"floodgate-tcp", "floodgate-journal"}, []*os.File{lf, uf})
	// The sockets are floodgate's now, as after systemd hands them over.
	addr := ln.Addr().String()
	for _, c := range []interface{ Close() error }{lf, uf, ln, ug} {
		c.Close()
	}

	if got := notify.next(d); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	// READY=1 comes once every input is served: the input floodgate binds
	// itself answers at once.
	b, err := net.Dial("unix", filepath.Join(d.dir, "bound.sock"))
	if err != nil {
		t.Fatalf("READY=1 before floodgate listened: %v\n%s", err, d.stderr.String())
	}
	fmt.Fprintf(b, "<14>Nov 27 10:00:00 webhost webapp: over the socket floodgate bound\n")
	b.Close()

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "<14>Nov 27 10:00:00 webhost webapp: over the inherited tcp socket\n")
	c.Close()
	j, err := net.Dial("unixgram", journal)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(j, "<30>Nov 27 10:00:01 node1 sshd[77]: over the inherited journal socket")
	j.Close()

	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	got := notify.next(d)
	if lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n"); len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Errorf("on SIGHUP: %q, want RELOADING=1 and MONOTONIC_USEC=", got)
	}
	if got := notify.next(d); got != "READY=1" {
		t.Errorf("after the reload: %q, want READY=1", got)
	}

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := notify.next(d); got != "STOPPING=1" {
		t.Errorf("on SIGTERM: %q, want STOPPING=1", got)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, d.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("floodgate did not exit:\n%s", d.stderr.String())
	}
	log := d.stderr.String()
	for _, want := range []string{`input="tcp fd:floodgate-tcp" address=` + addr, `input="unixgram fd:floodgate-journal" address=` + journal} {
		if !strings.Contains(log, want) {
			t.Errorf("floodgate did not log %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, "no input takes") {
		t.Errorf("a passed socket is said to be unclaimed:\n%s", log)
	}
	recs := d.records()
	for _, msg := range []string{"over the inherited tcp socket", "over the inherited journal socket", "over the socket floodgate bound"} {
		if find(recs, msg) == nil {
			t.Errorf("%q not written; records:\n%v\n%s", msg, recs, d.stderr.String())
		}
	}
	// The socket file is the socket unit's: floodgate leaves it.
	if _, err := os.Stat(journal); err != nil {
		t.Errorf("journal socket file: %v", err)
	}
}

// An input naming a socket systemd did not pass is an error at start that
// names what was passed; a socket no input takes is logged.
func TestSocketActivationNames(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lf, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()

	d := activated(t, activatedConfig, newNotifySocket(t), []string{"other"}, []*os.File{lf})
	select {
	case err := <-d.done:
		if code := exitCodeOf(err); code != 1 || !strings.Contains(d.stderr.String(), `fd_name "floodgate-tcp": systemd passed no socket of that name (passed: other)`) {
			t.Errorf("exit %d, want 1 and the names passed:\n%s", code, d.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("floodgate ran without the socket its input names:\n%s", d.stderr.String())
	}

	// Two sockets, one with no input: served, and the other one logged.
	ul, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "syslog"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	uf, err := ul.File()
	if err != nil {
		t.Fatal(err)
	}
	defer uf.Close()
	notify := newNotifySocket(t)
	d = activated(t, activatedConfig, notify, []string{"floodgate-tcp", "floodgate-journal", "spare"}, []*os.File{lf, uf, lf})
	if got := notify.next(d); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	// The log is logged before READY=1, but read from floodgate's stderr
	// by a goroutine of its own: wait for it.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.stderr.String(), "no input takes") || !strings.Contains(d.stderr.String(), "fd_name=spare") {
		if time.Now().After(deadline) {
			t.Fatalf("the spare socket is not logged:\n%s", d.stderr.String())
		}
		time.Sleep(10 * time.Millisecond) // polling a pipe's copy: no event to wait on
	}
	d.stop()
}
