package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/procfs"
)

// Ctrl-C on `floodgate bench run ... -- COMMAND` stops COMMAND, which the
// harness started in a process group of its own, out of the terminal's
// reach: the harness must stop it on its way out.
func TestBenchCtrlCStopsTheTarget(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sink.sock")
	sinkLog := filepath.Join(out, "sink.log")
	cmd := exec.Command(binary, "bench", "run", "-to", "unix://"+sock, "-out", out,
		"-rate", "200", "-n", "1000000", "-probe", "0", "-grace", "5s",
		"--", benchBin, "sink", "-listen", "unix://"+sock, "-o", sinkLog)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// A shell job: its own process group, which the terminal signals.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})

	// The run is under way once the target has received messages.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := os.Stat(sinkLog); err == nil && st.Size() > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("bench run exited before sending: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the target received nothing:\n%s", stderr.String())
		}
	}
	target := findProcess(t, sock)
	if target == cmd.Process.Pid {
		t.Fatal("the target found is the harness")
	}

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("bench run did not exit after Ctrl-C:\n%s", stderr.String())
	}
	if err := syscall.Kill(target, 0); !errors.Is(err, syscall.ESRCH) {
		_ = syscall.Kill(target, syscall.SIGKILL)
		t.Fatalf("the target (pid %d) outlived the harness (kill 0: %v):\n%s", target, err, stderr.String())
	}
}

// findProcess returns the pid of the sink listening on sock.
func findProcess(t *testing.T, sock string) int {
	t.Helper()
	procs, err := procfs.AllProcs()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		args, err := p.CmdLine()
		if err != nil || len(args) < 2 || args[1] != "sink" {
			continue
		}
		if strings.Contains(strings.Join(args, " "), sock) {
			return p.PID
		}
	}
	t.Fatalf("no process listens on %s", sock)
	return 0
}

func TestBenchWithoutTheHarnessSaysHowToBuildIt(t *testing.T) {
	dir := t.TempDir()
	alone := filepath.Join(dir, "floodgate")
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(alone, "bench", "gen", "-n", "1")
	cmd.Env = append(os.Environ(), "PATH="+dir)
	outb, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("floodgate bench without floodgate-bench: %v, want exit 1\n%s", err, outb)
	}
	if !strings.Contains(string(outb), "go build -o "+filepath.Join(dir, "floodgate-bench")+" ./bench/cmd/floodgate-bench") {
		t.Errorf("the error does not say how to build the harness:\n%s", outb)
	}
}
