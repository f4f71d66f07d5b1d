package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
)

// benchBinary is the flood benchmark harness, a command of its own
// (bench/cmd/floodgate-bench), so that the relay binary carries none of it.
const benchBinary = "floodgate-bench"

// exitStatus is a command that ended with a status and said why itself.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// cmdBench runs `floodgate bench ARGS` as `floodgate-bench ARGS`, found
// beside this executable or on PATH. The harness handles signals itself:
// SIGINT and SIGTERM cancel its run, which stops the target it started.
// A terminal's Ctrl-C reaches it directly (it shares our process group);
// a signal sent to this process alone is passed on.
func cmdBench(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	path, err := findBench()
	if err != nil {
		return err
	}
	// Catch the signals before starting the harness, so that none ends
	// this front and leaves the harness unsupervised.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return &exitStatus{code: max(ee.ExitCode(), 1)}
			}
			if err != nil {
				return fmt.Errorf("run %s: %w", path, err)
			}
			return nil
		case s := <-sigs:
			_ = cmd.Process.Signal(s) // it may have exited meanwhile
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			ctx = context.Background() // once
		}
	}
}

// findBench returns the path of floodgate-bench: beside this executable
// first, so that a build of both from one tree goes together, then on PATH.
func findBench() (string, error) {
	var beside string
	if exe, err := os.Executable(); err == nil {
		beside = filepath.Join(filepath.Dir(exe), benchBinary)
		if st, err := os.Stat(beside); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return beside, nil
		}
	}
	if p, err := exec.LookPath(benchBinary); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("bench: the harness is a separate binary, %s, found neither beside this one (%s) nor on PATH; "+
		"build it with: go build -o %s ./bench/cmd/floodgate-bench", benchBinary, beside, beside)
}
