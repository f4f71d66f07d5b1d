package forward

import (
	"testing"
)

// BenchmarkForward measures records queued, sent over loopback TCP and
// read by the receiver.
func BenchmarkForward(b *testing.B) {
	r := newReceiver(b, nil)
	r.start()
	f, err := New(Options{Type: TypeForward, Address: r.addr, MaxBuffer: 64 << 20}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := msg(1)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if n++; n%4096 == 0 {
			for f.Queue().MemBytes > 32<<20 { // Write never waits: the benchmark does
				<-r.got
			}
		}
	}
	r.waitFrames(n)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
