package output

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestErrLogLimited checks that a storm of write errors makes one log
// line per interval, which then says how many it left out.
func TestErrLogLimited(t *testing.T) {
	var buf bytes.Buffer
	e := newErrLog(slog.New(slog.NewTextHandler(&buf, nil)))
	for range 100 {
		e.error("output write error", logErr, "no space left on device")
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Fatalf("%d lines for 100 errors in one interval, want 1:\n%s", n, buf.String())
	}
	e.mu.Lock()
	e.last = e.last.Add(-2 * e.interval)
	e.mu.Unlock()
	e.error("output write error", logErr, "no space left on device")
	if !strings.Contains(buf.String(), logSkipped+"=99") {
		t.Errorf("second line does not count the 99 left out:\n%s", buf.String())
	}
}
