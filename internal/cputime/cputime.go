// Package cputime measures benchmarks in the CPU time of their own
// thread. On a machine shared with other work a benchmark's wall time
// counts the time its thread waited for a core; its CPU time does not.
package cputime

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD, which package syscall does not
// name.
const rusageThread = 1

// Thread returns the CPU time the calling OS thread has used, 0 where it
// cannot be told.
func Thread() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PerOp pins the benchmark to its thread and returns a func that, when
// deferred, reports the thread's CPU nanoseconds per operation
// ("cpu-ns/op").
func PerOp(b *testing.B) func() {
	runtime.LockOSThread()
	start := Thread()
	return func() {
		used := Thread() - start
		runtime.UnlockOSThread()
		if b.N > 0 && used > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}
