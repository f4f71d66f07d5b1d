package output

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/golden"

	"github.com/floodgate/floodgate"
)

func TestWriterGolden(t *testing.T) {
	for _, format := range []string{"traditional", "rfc5424", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			stats := new(Stats)
			o := NewWriter(&buf, format, stats)
			for _, r := range fixture() {
				if err := o.Write(r); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before Flush: it should buffer", buf.Len())
			}
			if err := o.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			golden.Check(t, filepath.Join("testdata", "writer-"+format, "want.golden"), buf.Bytes())
			if got := stats.Records.Load(); got != int64(len(fixture())) {
				t.Errorf("Stats.Records = %d, want %d", got, len(fixture()))
			}
			if got := stats.Bytes.Load(); got != int64(buf.Len()) {
				t.Errorf("Stats.Bytes = %d, want %d", got, buf.Len())
			}
		})
	}
}

// flaky fails writes while down, writing nothing.
type flaky struct {
	bytes.Buffer
	down bool
	err  error
}

func (f *flaky) Write(p []byte) (int, error) {
	if f.down {
		return 0, f.err
	}
	return f.Buffer.Write(p)
}

// TestWriterErrors checks that a writer that fails keeps what it can,
// counts what it drops per source, and stands for it with a suppressed
// summary once writing works again.
func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		n    int // records written while down
	}{
		{name: "within the buffer", err: syscall.EIO, n: 100},
		{name: "past the buffer", err: syscall.ENOSPC, n: 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &flaky{down: true, err: tt.err}
			stats := new(Stats)
			o := newTestWriter(w, "json", 64<<10, stats)
			want := map[string]int64{}
			dropped := 0
			for i := range tt.n {
				host := []string{"a", "b", "c"}[i%3]
				err := o.Write(rec(host, "app", i))
				switch {
				case errors.Is(err, ErrDropped):
					dropped++
				case err != nil:
					t.Fatalf("Write: %v", err)
				}
				want[host+"/app"]++
			}
			if err := o.Flush(); !errors.Is(err, tt.err) {
				t.Errorf("Flush while down = %v, want %v", err, tt.err)
			}
			if stats.WriteErrors.Load() == 0 {
				t.Error("no write errors counted")
			}
			if got := stats.Lost.Load(); got != int64(dropped) {
				t.Errorf("Stats.Lost = %d, want %d", got, dropped)
			}
			w.down = false
			if err := o.Close(); err != nil {
				t.Fatalf("Close after recovery: %v", err)
			}
			got, summaries := account(t, &w.Buffer)
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s: written + counted = %d, want %d", k, got[k], n)
				}
			}
			if wantSum := min(dropped, 3); summaries != wantSum {
				t.Errorf("%d write-error summaries, want %d", summaries, wantSum)
			}
		})
	}
}

func TestWriterClosed(t *testing.T) {
	var buf bytes.Buffer
	o := NewWriter(&buf, "", nil)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Write(rec("h", "a", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := o.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// TestWriterCloseDown checks that Close on a dead writer reports the loss
// rather than hiding it.
func TestWriterCloseDown(t *testing.T) {
	w := &flaky{down: true, err: syscall.EIO}
	stats := new(Stats)
	o := NewWriter(w, "json", stats)
	for i := range 10 {
		o.Write(rec("h", "a", i))
	}
	if err := o.Close(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Close = %v, want an error wrapping EIO", err)
	}
	if got := stats.Lost.Load(); got != 10 {
		t.Errorf("Stats.Lost = %d, want 10", got)
	}
}

// partial writes a few bytes of each call, then fails, while down.
type partial struct {
	bytes.Buffer
	down bool
}

func (p *partial) Write(b []byte) (int, error) {
	if !p.down {
		return p.Buffer.Write(b)
	}
	n, _ := p.Buffer.Write(b[:min(len(b), 37)])
	return n, syscall.EIO
}

// TestWriterAccountingRandom runs random sequences of writes, summaries,
// flushes and outages, partial writes included, and checks the accounting
// invariant at the end: for every source, written + counted = sent.
func TestWriterAccountingRandom(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run("seed "+itoa(int(seed)), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 99))
			w := &partial{}
			stats := new(Stats)
			o := newTestWriter(w, "json", 64<<10, stats)
			sent := map[string]int64{}
			var dropped int64
			for i := range 8000 {
				switch op := rnd.IntN(1000); {
				case op < 2:
					w.down = !w.down
				case op < 20:
					o.Flush()
				default:
					host := "h" + itoa(rnd.IntN(4))
					r := rec(host, "app", i)
					if rnd.IntN(10) == 0 {
						r.Summary = &floodgate.Summary{Kind: floodgate.Repeat, FP: "fp", Count: int64(1 + rnd.IntN(100)), First: t0, Last: t0}
					}
					sent[host+"/app"] += r.Messages()
					if errors.Is(o.Write(r), ErrDropped) {
						dropped += r.Messages()
					}
				}
			}
			w.down = false
			if err := o.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got, _ := account(t, &w.Buffer)
			for k, n := range sent {
				if got[k] != n {
					t.Errorf("%s: written + counted = %d, sent %d", k, got[k], n)
				}
			}
			if stats.Lost.Load() != dropped {
				t.Errorf("Stats.Lost = %d, dropped %d", stats.Lost.Load(), dropped)
			}
			t.Logf("dropped %d messages, %d write errors, %d summaries", dropped, stats.WriteErrors.Load(), stats.Summaries.Load())
		})
	}
}

// What Close cannot write is counted in messages: a summary for its count,
// floodgate's own record for none.
func TestCloseCountsLostMessages(t *testing.T) {
	w := &flaky{down: true, err: syscall.EIO}
	stats := new(Stats)
	o := NewWriter(w, "json", stats)
	recs := fixture()
	var want int64
	for _, r := range recs {
		if err := o.Write(r); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if r.Summary != nil || r.Syntax != floodgate.Internal {
			want += r.Messages()
		}
	}
	if err := o.Close(); err == nil {
		t.Fatal("Close with the writer down succeeded")
	}
	if got := stats.Lost.Load(); got != want {
		t.Errorf("Stats.Lost = %d, want %d messages", got, want)
	}
}

func TestWriterEscapeControl(t *testing.T) {
	tests := []struct {
		name string
		raw  bool
		want string
	}{
		{name: "escaped by default", want: "h a: #033[2Jbell#007\n"},
		{name: "raw", raw: true, want: "h a: \x1b[2Jbell\x07\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o, err := New(Options{Type: "stdout", Writer: &buf, RawControl: tt.raw}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := &floodgate.Record{Message: floodgate.Message{Host: "h", App: "a", Text: "\x1b[2Jbell\x07"}}
			if err := o.Write(r); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if err := o.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := buf.String(); !bytes.HasSuffix(buf.Bytes(), []byte(tt.want)) {
				t.Errorf("got %q, want it to end in %q", got, tt.want)
			}
		})
	}
}

// What a full buffer drops is counted in messages too: floodgate's own
// records stand for none, so the shutdown report and the suppressed
// summary never count them.
func TestDroppedOwnRecordsAreNoMessages(t *testing.T) {
	w := &flaky{down: true, err: syscall.ENOSPC}
	stats := new(Stats)
	o, err := New(Options{Type: "stdout", Format: "json", Writer: w, MaxBuffer: 64 << 10}, nil, stats)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	big := &floodgate.Record{Message: floodgate.Message{Time: at, Host: "h", App: "a", Text: strings.Repeat("x", 60<<10)}}
	own := &floodgate.Record{Message: floodgate.Message{Time: at, Host: "relay", App: "floodgate", Syntax: floodgate.Internal, Event: "disk_full", Text: strings.Repeat("y", 8<<10)}}
	sum := &floodgate.Record{Message: floodgate.Message{Time: at, Host: "h", App: "a", Text: strings.Repeat("z", 8<<10)},
		Summary: &floodgate.Summary{Kind: floodgate.Repeat, FP: "ab", Count: 5, First: at, Last: at}}
	if err := o.Write(big); err != nil {
		t.Fatalf("Write: %v", err)
	}
	for _, r := range []*floodgate.Record{own, own, sum, own} {
		if err := o.Write(r); !errors.Is(err, ErrDropped) {
			t.Fatalf("Write with a full buffer: %v, want ErrDropped", err)
		}
	}
	err = o.Close()
	if err == nil || !strings.Contains(err.Error(), "1 buffered messages") || !strings.Contains(err.Error(), "and 5 counted messages not written") {
		t.Errorf("Close: %v, want 1 buffered and 5 counted messages", err)
	}
	if got := stats.Lost.Load(); got != 6 {
		t.Errorf("Stats.Lost = %d, want 6 messages", got)
	}
}
