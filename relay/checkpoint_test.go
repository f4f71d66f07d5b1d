package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/relay/input"
	"github.com/floodgate/floodgate/relay/output"
)

// crashOutput is an output that, at every moment a crash would matter,
// checks what a crash there would leave: the records written so far plus
// the checkpoint on disk must never stand for more messages than the
// relay has taken in.
type crashOutput struct {
	t        *testing.T
	path     string
	received *atomic.Int64

	mu         sync.Mutex
	written    int64 // messages the records written stand for
	summaries  int
	crashes    int   // moments checked
	worst      int64 // the largest double count seen
	maxLost    int64 // the largest count a crash would have lost
	recovered  int64 // at the last check: what the checkpoint held
	last       []byte
	violations []string
}

func (o *crashOutput) Write(r *floodgate.Record) error {
	if r.Syntax == floodgate.Internal && r.Summary == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if r.Summary != nil {
		o.summaries++
	}
	o.written += r.Messages()
	if holds(r) {
		// A crash right after this record reached the files.
		o.crash("after writing a summary")
	}
	return nil
}

func (o *crashOutput) Flush() error { return nil }
func (o *crashOutput) Close() error { return nil }

// crash checks the state a crash now would leave; called with mu held.
func (o *crashOutput) crash(where string) {
	o.t.Helper()
	data, err := os.ReadFile(o.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		o.violations = append(o.violations, fmt.Sprintf("%s: %v", where, err))
		return
	}
	held := o.recovered
	if !bytes.Equal(data, o.last) {
		// Parsed only when changed: most moments share a checkpoint.
		var st checkpointState
		if len(data) > 0 {
			if err := json.Unmarshal(data, &st); err != nil {
				o.violations = append(o.violations, fmt.Sprintf("%s: %v", where, err))
				return
			}
		}
		held = 0
		for _, s := range st.Sources {
			held += s.Count
		}
		o.last = data
	}
	o.crashes++
	o.recovered = held
	recv := o.received.Load()
	if d := o.written + held - recv; d > 0 {
		o.worst = max(o.worst, d)
		o.violations = append(o.violations, fmt.Sprintf("%s: %d written + %d in the checkpoint > %d received", where, o.written, held, recv))
	}
	o.maxLost = max(o.maxLost, recv-o.written-held)
}

// counter counts the messages a chain takes in, at its head.
type counter struct {
	next floodgate.Handler
	n    *atomic.Int64
}

func (c counter) Handle(now time.Time, r *floodgate.Record) {
	c.n.Add(1)
	c.next.Handle(now, r)
}
func (c counter) Tick(now time.Time, final bool) { c.next.Tick(now, final) }

// A crash between a summary's write and the checkpoint's next update
// never counts a message twice: at every write of a record that stands
// for counted messages, and at every checkpoint write, the written
// records and the checkpoint on disk together stand for no more messages
// than were received.
func TestCheckpointNeverCountsTwice(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Dedupe.Flush = config.Duration(5 * time.Millisecond)
	cfg.Dedupe.FlushMax = config.Duration(20 * time.Millisecond)
	// Summaries come between ticks too: the budgets close a count when
	// a source is back under budget. (A small dedupe.max_patterns would
	// add evictions, but dedupe then loses a message now and then on its
	// own, checkpoint or not: a bug of its own, reported.)
	cfg.RateLimit.Rate, cfg.RateLimit.Burst = 4<<10, 8<<10
	cfg.RateLimit.Flush = config.Duration(10 * time.Millisecond)

	var received atomic.Int64
	out := &crashOutput{t: t, path: filepath.Join(dir, checkpointFile), received: &received}
	ck, old, _, err := openCheckpoint(dir, 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || old != nil {
		t.Fatal(old, err)
	}
	ck.beforeWrite = func() {
		// A crash with the checkpoint about to change.
		out.mu.Lock()
		out.crash("before a checkpoint write")
		out.mu.Unlock()
	}
	ck.start()
	b := newChainBuilder(cfg, 1, nil, nil)
	b.outs = append(b.outs, out)
	b.flood = nil
	b.checkpoint = ck
	b.head = func(next floodgate.Handler) floodgate.Handler { return counter{next, &received} }
	p := newPipeline(pipelineOptions{Shards: 1, Queue: 4, Tick: 2 * time.Millisecond, clock: wallClock, Chain: b.chain, hooks: b.hooks})

	const total = 30000
	sent := 0
	for sent < total {
		bt := &input.Batch{Input: "test", Received: time.Now()}
		for range 200 {
			// 120 sources, each repeating a few lines: they fold, their
			// patterns get evicted, and the budgets drop some.
			src := sent % 120
			bt.Frames = append(bt.Frames, fmt.Appendf(nil, "<14>Nov 27 10:00:00 host%d app%d[1]: connection %d reset by peer %s", src%7, src, sent, [...]string{"alpha", "beta", "gamma"}[sent%3]))
			sent++
		}
		p.Deliver(bt)
		if sent%3000 == 0 {
			time.Sleep(3 * time.Millisecond) // let ticks and checkpoints run between floods
		}
	}
	p.Close()
	ck.close()

	out.mu.Lock()
	defer out.mu.Unlock()
	if out.summaries < 10 || out.crashes < 20 {
		t.Fatalf("only %d summaries and %d crash points checked: the test did not exercise the checkpoint", out.summaries, out.crashes)
	}
	for i, v := range out.violations {
		if i == 5 {
			t.Errorf("... %d more", len(out.violations)-5)
			break
		}
		t.Error(v)
	}
	if out.worst > 0 {
		t.Errorf("a crash could have counted up to %d messages twice", out.worst)
	}
	if out.written != total {
		t.Errorf("after shutdown: %d messages accounted for, want %d", out.written, total)
	}
	if st, _, err := readCheckpoint(out.path); err != nil || st != nil {
		t.Errorf("after shutdown the checkpoint holds %+v (%v), want nothing pending", st, err)
	}
	t.Logf("%d summaries, %d crash points, a crash would have lost at most %d of %d messages", out.summaries, out.crashes, out.maxLost, total)
}

// A previous run's checkpoint becomes one suppressed summary of reason
// crash per source, and one record of floodgate's own; the checkpoint is
// gone from disk before they are written.
func TestCrashRecordsAccountForTheCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ck, _, _, err := openCheckpoint(dir, 2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	ck.put(0, 1, []floodgate.Pending{
		{Host: "h", App: "a", Kind: floodgate.Repeat, FP: "1", Count: 10, First: t0, Last: t0.Add(time.Second), Severity: floodgate.Info},
		{Host: "h", App: "b", Kind: floodgate.Block, FP: "2", Count: 3, First: t0, Last: t0, Severity: floodgate.Err},
	})
	ck.put(1, 1, []floodgate.Pending{
		{Host: "h", App: "a", Kind: floodgate.Suppressed, Reason: "budget", FP: "3", Count: 5, First: t0.Add(-time.Second), Last: t0, Severity: floodgate.Warning},
	})
	ck.writeOnce()
	ck2, st, at, err := openCheckpoint(dir, 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || st == nil {
		t.Fatal(st, err)
	}
	var out recorder
	var outs crashlessOutputs
	outs.r = &out
	n, err := recoverCrash(ck2, st, at, "relayhost", outs.list())
	if err != nil {
		t.Fatal(err)
	}
	if n != 18 {
		t.Errorf("recovered %d, want 18", n)
	}
	if st, _, err := readCheckpoint(filepath.Join(dir, checkpointFile)); st != nil || err != nil {
		t.Errorf("the checkpoint is still there: %+v %v", st, err)
	}
	got := map[string]int64{}
	var events int
	for _, r := range out.recs {
		if r.Summary == nil {
			if r.Event == eventCrashRecovered && r.Host == "relayhost" {
				events++
			}
			continue
		}
		if r.Summary.Kind != floodgate.Suppressed || r.Summary.Fields[0].Value != reasonCrash {
			t.Errorf("summary %+v, want suppressed, reason crash", r.Summary)
		}
		got[r.Host+"/"+r.App] += r.Summary.Count
		if r.App == "a" && (!r.Summary.First.Equal(t0.Add(-time.Second)) || !r.Summary.Last.Equal(t0.Add(time.Second)) || r.Severity != floodgate.Warning) {
			t.Errorf("h/a: first %v last %v severity %v, want the checkpoint's earliest, latest and worst", r.Summary.First, r.Summary.Last, r.Severity)
		}
	}
	if got["h/a"] != 15 || got["h/b"] != 3 || len(got) != 2 || events != 1 {
		t.Errorf("crash summaries %v and %d events, want h/a 15, h/b 3 and one crash_recovered", got, events)
	}
}

// crashlessOutputs adapts a recorder to an output.
type crashlessOutputs struct{ r *recorder }

func (c crashlessOutputs) Write(r *floodgate.Record) error { c.r.Handle(time.Time{}, r); return nil }
func (c crashlessOutputs) Flush() error                    { return nil }
func (c crashlessOutputs) Close() error                    { return nil }

func (c crashlessOutputs) list() []output.Output { return []output.Output{c} }
