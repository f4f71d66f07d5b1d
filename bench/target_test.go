package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary play a target: with BENCH_TEST_SINK set
// it runs "floodgate bench sink" with the arguments after "--", so that
// run's start, SIGTERM and wait4 path is tested on a real child process.
func TestMain(m *testing.M) {
	if os.Getenv("BENCH_TEST_SINK") == "1" {
		args := os.Args
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		if err := Main(context.Background(), args, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRunStartsTarget runs a target as a child process: the report's
// CPU and RSS come from wait4, the target is stopped with SIGTERM and
// flushes before the output is counted, and nothing is lost.
func TestRunStartsTarget(t *testing.T) {
	t.Setenv("BENCH_TEST_SINK", "1")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	addr := "tcp://" + freePort(t)
	jsonPath := filepath.Join(dir, "r.json")
	stdout, _, err := runMain(t, "run", "-to", addr, "-out", out, "-kind", "java", "-n", "5000",
		"-settle", "300ms", "-interval", "20ms", "-json", jsonPath, "-log", filepath.Join(dir, "target.log"),
		"--", os.Args[0], "-test.run=^$", "--", "sink", "-listen", addr, "-o", filepath.Join(out, "sink.log"))
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "target.log"))
		t.Fatalf("run: %v\n%s\ntarget log:\n%s", err, stdout, log)
	}
	var r Report
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.ProcSource != "wait4" || r.PeakRSS <= 0 {
		t.Errorf("process figures %q, peak RSS %d: want wait4's", r.ProcSource, r.PeakRSS)
	}
	if r.Lost != 0 || r.Sent < 5000 {
		t.Errorf("sent %d, lost %d: want every message written", r.Sent, r.Lost)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "target.log"))
	if !strings.Contains(string(log), fmt.Sprintf("sink: %d messages", r.Sent)) {
		t.Errorf("the target did not end cleanly on SIGTERM; its log:\n%s", log)
	}
}

// TestRunRefusesTakenEndpoint keeps a flood from reaching a process that
// is not the target.
func TestRunRefusesTakenEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	_, _, err = runMain(t, "run", "-to", "tcp://"+ln.Addr().String(), "-out", t.TempDir(), "-n", "10", "--", "true")
	if err == nil || !strings.Contains(err.Error(), "already taken") {
		t.Errorf("run against a taken endpoint: %v, want a refusal", err)
	}
}

func TestMainCount(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.log"), []byte("x\nmessage repeated 3 times: [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runMain(t, "count", dir)
	if err != nil || !strings.Contains(stdout, "accounted 4") {
		t.Errorf("count: %v, %q", err, stdout)
	}
}
