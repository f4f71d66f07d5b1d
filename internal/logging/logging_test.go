package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestLimitedHoldsBackAFloodAndCountsIt(t *testing.T) {
	var buf bytes.Buffer
	h := NewLimited(slog.NewTextHandler(&buf, nil), rate.Every(time.Minute), 3)
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 100; i++ {
		r := slog.NewRecord(base.Add(time.Duration(i)*time.Millisecond), slog.LevelError, "write failed", 0)
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	// Another message has its own budget.
	_ = h.Handle(context.Background(), slog.NewRecord(base, slog.LevelInfo, "other", 0))
	// A minute later one more gets through and reports what was held back.
	_ = h.Handle(context.Background(), slog.NewRecord(base.Add(time.Minute+time.Second), slog.LevelError, "write failed", 0))
	out := buf.String()
	if n := strings.Count(out, "write failed"); n != 4 {
		t.Errorf("%d records of the flooding message written, want 3 + 1:\n%s", n, out)
	}
	if !strings.Contains(out, "msg=other") {
		t.Errorf("another message was held back:\n%s", out)
	}
	if !strings.Contains(out, "suppressed=97") {
		t.Errorf("the held-back count is not reported:\n%s", out)
	}
}

func TestNewRejectsUnknownLevel(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, "loud"); err == nil {
		t.Fatal("level \"loud\" accepted")
	}
}
