// Package logging builds floodgate's own logger: log/slog text on stderr,
// with each message rate limited, because a relay that floods its own log
// is the bug floodgate exists to prevent.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// New returns a text logger at level ("debug", "info", "warn", "error")
// whose records are limited to a burst of 10 and then one every 6 s per
// message text; what it holds back it counts, and says so on the next
// record of that message that gets through.
func New(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})
	return slog.New(NewLimited(h, rate.Every(6*time.Second), 10)), nil
}

// Limited is a slog.Handler that rate limits records per message.
type Limited struct {
	next  slog.Handler
	every rate.Limit
	burst int
	st    *state
}

type state struct {
	mu     sync.Mutex
	perMsg map[string]*limit
}

type limit struct {
	lim     *rate.Limiter
	dropped int
}

// maxMessages bounds the table of limiters; messages are fixed strings,
// so this is only a guard against a bug that puts data into them.
const maxMessages = 1024

// NewLimited wraps next.
func NewLimited(next slog.Handler, every rate.Limit, burst int) *Limited {
	return &Limited{next: next, every: every, burst: burst, st: &state{perMsg: map[string]*limit{}}}
}

// Enabled implements slog.Handler.
func (h *Limited) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Limited) Handle(ctx context.Context, r slog.Record) error {
	h.st.mu.Lock()
	lm := h.st.perMsg[r.Message]
	if lm == nil {
		if len(h.st.perMsg) >= maxMessages {
			clear(h.st.perMsg)
		}
		lm = &limit{lim: rate.NewLimiter(h.every, h.burst)}
		h.st.perMsg[r.Message] = lm
	}
	if !lm.lim.AllowN(r.Time, 1) {
		lm.dropped++
		h.st.mu.Unlock()
		return nil
	}
	dropped := lm.dropped
	lm.dropped = 0
	h.st.mu.Unlock()
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", dropped))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Limited) WithAttrs(as []slog.Attr) slog.Handler {
	return &Limited{next: h.next.WithAttrs(as), every: h.every, burst: h.burst, st: h.st}
}

// WithGroup implements slog.Handler.
func (h *Limited) WithGroup(name string) slog.Handler {
	return &Limited{next: h.next.WithGroup(name), every: h.every, burst: h.burst, st: h.st}
}
