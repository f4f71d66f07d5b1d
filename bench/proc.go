package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// ProcStats are what the kernel says a target process cost.
type ProcStats struct {
	CPU     time.Duration // user + system
	PeakRSS int64         // bytes
}

// ReadProc reads a running process's CPU time from /proc/PID/stat and its
// peak resident set (VmHWM) from /proc/PID/status: the figures for a
// target the harness did not start and so cannot wait4.
func ReadProc(pid int) (ProcStats, error) {
	var st ProcStats
	p, err := procfs.NewProc(pid)
	if err != nil {
		return st, fmt.Errorf("read process %d: %w", pid, err)
	}
	stat, err := p.Stat()
	if err != nil {
		return st, fmt.Errorf("read process %d: %w", pid, err)
	}
	st.CPU = time.Duration(stat.CPUTime() * float64(time.Second))
	status, err := p.NewStatus()
	if err != nil {
		return st, fmt.Errorf("read process %d: %w", pid, err)
	}
	st.PeakRSS = int64(status.VmHWM)
	return st, nil
}

// ResetPeak asks the kernel to restart a process's VmHWM from its
// current RSS (writing 5 to /proc/PID/clear_refs), so that the peak read
// after a run is the run's and not the process's lifetime's. It needs
// the right to write the process's clear_refs; without it the peak is the
// lifetime's, and the error says so.
func ResetPeak(pid int) error {
	if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS of %d: %w", pid, err)
	}
	return nil
}

// target is a process under test that the harness started.
type target struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startTarget starts argv with its output to log, in its own process
// group so that a signal to the harness's terminal does not reach it
// before the harness has stopped it cleanly.
func startTarget(argv []string, log io.Writer) (*target, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start target %s: %w", argv[0], err)
	}
	t := &target{cmd: cmd, done: make(chan struct{})}
	go func() {
		t.err = cmd.Wait()
		close(t.done)
	}()
	return t, nil
}

// stop sends SIGTERM, waits up to grace for the target to flush and exit,
// then kills it; it returns the kernel's account of the whole life.
func (t *target) stop(grace time.Duration) (ProcStats, error) {
	select {
	case <-t.done:
	default:
		t.cmd.Process.Signal(syscall.SIGTERM)
		timer := time.NewTimer(grace)
		select {
		case <-t.done:
			timer.Stop()
		case <-timer.C:
			t.cmd.Process.Kill()
			<-t.done
		}
	}
	var st ProcStats
	ps := t.cmd.ProcessState
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		st.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		st.PeakRSS = ru.Maxrss << 10 // kilobytes on Linux
	}
	var exit *exec.ExitError
	if t.err != nil && !errors.As(t.err, &exit) {
		return st, fmt.Errorf("wait for target: %w", t.err)
	}
	if code := ps.ExitCode(); code != 0 {
		return st, fmt.Errorf("target exited with %s", ps)
	}
	return st, nil
}

// exited reports whether the target has already ended.
func (t *target) exited() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// waitReady waits until the endpoint accepts: a stream endpoint until a
// connection succeeds, a unixgram socket until its file exists, a UDP
// port until it shows in /proc/net/udp. It gives up after timeout, or
// when the target exits first.
func waitReady(ctx context.Context, e Endpoint, t *target, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if t != nil && t.exited() {
			return fmt.Errorf("target exited before %s was ready: %v", e, t.cmd.ProcessState)
		}
		if ready(e) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v", e, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func ready(e Endpoint) bool {
	switch e.Network {
	case "tcp", "unix":
		c, err := net.DialTimeout(e.Network, e.Address, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	case "unixgram":
		_, err := os.Stat(e.Address)
		return err == nil
	case "udp":
		_, port, _ := net.SplitHostPort(e.Address)
		p, err := strconv.Atoi(port)
		if err != nil {
			return false
		}
		return udpBound(p)
	}
	return true
}

// udpBound reports whether a UDP socket is bound to port, from
// /proc/net/udp and /proc/net/udp6.
func udpBound(port int) bool {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return false
	}
	for _, read := range []func() (procfs.NetUDP, error){fs.NetUDP, fs.NetUDP6} {
		table, err := read()
		if err != nil {
			continue
		}
		for _, s := range table {
			if s.LocalPort == uint64(port) {
				return true
			}
		}
	}
	return false
}
