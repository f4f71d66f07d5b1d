package forward

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/output"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

func msg(i int) *floodgate.Record {
	return &floodgate.Record{Message: floodgate.Message{
		Time: t0.Add(time.Duration(i) * time.Millisecond), Host: "web-1", App: "api", ProcID: "42",
		Facility: 3, Severity: floodgate.Info, Text: fmt.Sprintf("request %d took 3ms", i), Syntax: floodgate.SyntaxRFC3164,
	}}
}

func summary(count int64) *floodgate.Record {
	return &floodgate.Record{
		Message: floodgate.Message{Time: t0, Host: "web-1", App: "api", Facility: 3, Severity: floodgate.Info, Text: "last message repeated", Syntax: floodgate.Internal},
		Summary: &floodgate.Summary{Kind: floodgate.Repeat, FP: "9c41e0a7", Count: count, First: t0, Last: t0.Add(time.Second)},
	}
}

func openForward(t *testing.T, o Options) (*Output, *output.Stats) {
	t.Helper()
	o.Type = TypeForward
	if o.ReconnectMax == 0 {
		o.ReconnectMin, o.ReconnectMax = 5*time.Millisecond, 50*time.Millisecond
	}
	st := &output.Stats{}
	f, err := New(o, nil, st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, st
}

var countRE = regexp.MustCompile(`count="(\d+)"`)

// account returns the messages the frames stand for: one per verbatim
// message, the count of each summary.
func account(t *testing.T, frames []string) (verbatim int, counted int64) {
	t.Helper()
	for _, f := range frames {
		if strings.HasPrefix(f, "ERROR") {
			t.Fatalf("receiver: %s", f)
		}
		if m := countRE.FindStringSubmatch(f); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			counted += n
			continue
		}
		verbatim++
	}
	return verbatim, counted
}

func TestForwardDelivers(t *testing.T) {
	r := newReceiver(t, nil)
	r.start()
	f, st := openForward(t, Options{Address: r.addr})
	for i := range 1000 {
		if err := f.Write(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Write(summary(2646)); err != nil {
		t.Fatal(err)
	}
	frames := r.waitFrames(1001)
	for i := range 1000 {
		want := fmt.Sprintf("<30>1 %s web-1 api 42 - - request %d took 3ms", t0.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), i)
		if frames[i] != want {
			t.Fatalf("frame %d = %q, want %q", i, frames[i], want)
		}
	}
	wantSD := `<30>1 2026-11-29T10:00:00Z web-1 api - - [floodgate@32473 kind="repeat" fp="9c41e0a7" count="2646" first="2026-11-29T10:00:00Z" last="2026-11-29T10:00:01Z"] last message repeated`
	if frames[1000] != wantSD {
		t.Fatalf("summary frame = %q, want %q", frames[1000], wantSD)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := st.Records.Load(); got != 1001 {
		t.Errorf("Stats.Records = %d, want 1001 acknowledged", got)
	}
	if q := f.Queue(); q.MemRecords != 0 || q.Sent != 1001 {
		t.Errorf("Queue() = %+v, want empty with 1001 sent", q)
	}
}

func TestForwardReconnects(t *testing.T) {
	r := newReceiver(t, nil)
	f, _ := openForward(t, Options{Address: r.addr})
	for i := range 100 {
		if err := f.Write(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	if f.Queue().Up {
		t.Fatal("upstream up before it listens")
	}
	r.start()
	r.waitFrames(100)
	// The receiver goes away between records; the output notices, and
	// sends the next ones once it is back.
	r.stop()
	waitFor(t, "upstream down", func() bool { return !f.Queue().Up })
	for i := 100; i < 200; i++ {
		if err := f.Write(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	r.start()
	frames := r.waitFrames(200)
	for i, fr := range frames {
		if !strings.HasSuffix(fr, fmt.Sprintf(" request %d took 3ms", i)) {
			t.Fatalf("frame %d = %q: lost, repeated or out of order", i, fr)
		}
	}
	if n := f.Queue().Connects; n < 2 {
		t.Errorf("Connects = %d, want 2 or more", n)
	}
}

func TestForwardFullQueueIsCounted(t *testing.T) {
	r := newReceiver(t, nil)
	f, st := openForward(t, Options{Address: r.addr, MaxBuffer: 64 << 10})
	const n = 5000
	dropped := 0
	for i := range n {
		switch err := f.Write(msg(i)); err {
		case nil:
		case output.ErrDropped:
			dropped++
		default:
			t.Fatal(err)
		}
	}
	if dropped == 0 || dropped == n {
		t.Fatalf("dropped %d of %d: the memory bound should keep some and drop some", dropped, n)
	}
	if got := st.Lost.Load(); got != int64(dropped) {
		t.Errorf("Stats.Lost = %d, want %d", got, dropped)
	}
	r.start()
	frames := r.waitFrames(n - dropped + 1)
	verbatim, counted := account(t, frames)
	if verbatim+int(counted) != n {
		t.Errorf("verbatim %d + counted %d = %d, want %d", verbatim, counted, verbatim+int(counted), n)
	}
	if !strings.Contains(strings.Join(frames, "\n"), `kind="suppressed" fp="queue-full"`) {
		t.Error("no suppressed summary of reason queue full")
	}
}

func TestForwardCloseWithoutDiskReportsLoss(t *testing.T) {
	r := newReceiver(t, nil) // never started
	f, st := openForward(t, Options{Address: r.addr})
	for i := range 10 {
		if err := f.Write(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err == nil || !strings.Contains(err.Error(), "10 messages") {
		t.Fatalf("Close = %v, want the 10 messages reported lost", err)
	}
	if got := st.Lost.Load(); got != 10 {
		t.Errorf("Stats.Lost = %d, want 10", got)
	}
	if err := f.Write(msg(11)); err != output.ErrClosed {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

// TestBytesAcked pins what delivery rests on: tcpi_bytes_acked counts the
// bytes written and acknowledged, the SYN taken off.
func TestBytesAcked(t *testing.T) {
	r := newReceiver(t, nil)
	r.start()
	d, _ := newStreamDialer(Options{Address: r.addr, Timeout: time.Second}.filled())
	c, err := d.dial(context.Background(), make(chan struct{}, 1))
	if err != nil {
		t.Fatal(err)
	}
	sc := c.(*streamConn)
	defer sc.close()
	it := &item{data: []byte("<13>1 - - - - - - hello")}
	if err := sc.send([]*item{it}); err != nil {
		t.Fatal(err)
	}
	want := uint64(len("23 ") + len(it.data))
	waitFor(t, "the frame acknowledged", func() bool {
		n, err := sc.acked()
		if err != nil || n > want {
			t.Fatalf("acked = %d, %v; want at most %d", n, err, want)
		}
		return n == want
	})
	if err := sc.poll(); err != nil || !it.done.Load() {
		t.Fatalf("poll = %v, done = %v", err, it.done.Load())
	}
}

// waitFor polls cond until it holds, for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestMetrics(t *testing.T) {
	r := newReceiver(t, nil) // down
	f, _ := openForward(t, Options{Address: r.addr, QueueDir: t.TempDir(), MaxBuffer: 64 << 10})
	for i := range 2000 {
		if err := f.Write(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.Collector("0"))
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "queue" {
					name += "{" + l.GetValue() + "}"
				}
			}
			got[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	if got[metricUp] != 0 || got[metricQueueRecords+"{memory}"] == 0 || got[metricQueueRecords+"{disk}"] == 0 ||
		got[metricQueueRecords+"{memory}"]+got[metricQueueRecords+"{disk}"] != 2000 || got[metricQueueBytes+"{disk}"] == 0 {
		t.Errorf("metrics with the upstream down = %v", got)
	}
	r.start()
	r.waitFrames(2000)
	waitFor(t, "the queue to drain", func() bool { q := f.Queue(); return q.Sent == 2000 && q.Up })
	if q := f.Queue(); q.MemRecords != 0 || q.DiskRecords != 0 || !q.Oldest.IsZero() {
		t.Errorf("Queue() after the upstream came back = %+v", q)
	}
}

func TestForwardCloseDrains(t *testing.T) {
	r := newReceiver(t, nil)
	r.start()
	f, st := openForward(t, Options{Address: r.addr})
	waitFor(t, "the connection", func() bool { return f.Queue().Up })
	for i := range 5000 {
		if err := f.Write(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Close returns once the upstream acknowledged everything.
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Records.Load() != 5000 || st.Lost.Load() != 0 {
		t.Fatalf("after Close: %d records acknowledged, %d lost; want 5000, 0", st.Records.Load(), st.Lost.Load())
	}
	checkOrder(t, r.waitFrames(5000), 0)
}
