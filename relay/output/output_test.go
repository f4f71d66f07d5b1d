package output

import (
	"bytes"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/floodgate/floodgate/internal/logging"
)

// TestErrorLogLimited checks that a storm of write errors, logged through
// floodgate's rate-limited logger, makes a bounded number of lines, each
// naming the component once.
func TestErrorLogLimited(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logging.NewLimited(slog.NewTextHandler(&buf, nil), rate.Every(time.Hour), 3))
	w := &flaky{down: true, err: syscall.ENOSPC}
	o := NewWriter(w, "json", nil)
	o.log = log.With("component", "output")
	for i := range 100 {
		_ = o.Write(rec("h", "a", i))
		_ = o.Flush() // fails, logs
	}
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 3 {
		t.Fatalf("%d lines for 100 write errors, want the burst of 3:\n%s", n, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if n := strings.Count(line, "component=output"); n != 1 {
			t.Errorf("component=output %d times in %q", n, line)
		}
	}
	w.down = false
	if err := o.Close(); err != nil {
		t.Fatalf("Close after recovery: %v", err)
	}
}
