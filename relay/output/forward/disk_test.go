package forward

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate/relay/output"
)

// checkOrder fails unless frames are requests first to first+len-1, in
// order, each once.
func checkOrder(t *testing.T, frames []string, first int) {
	t.Helper()
	for i, fr := range frames {
		if want := fmt.Sprintf(" request %d took 3ms", first+i); !strings.HasSuffix(fr, want) {
			t.Fatalf("frame %d = %q, want ...%q: lost, repeated or out of order", i, fr, want)
		}
	}
}

func TestDiskQueueSurvivesRestart(t *testing.T) {
	r := newReceiver(t, nil) // down until the end
	dir := t.TempDir()
	o := Options{Address: r.addr, QueueDir: dir, MaxBuffer: 64 << 10}
	f, _ := openForward(t, o)
	for i := range 3000 {
		if err := f.Write(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	if q := f.Queue(); q.DiskRecords == 0 || q.MemRecords == 0 {
		t.Fatalf("Queue() = %+v: want records in memory and on disk", q)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close with the upstream down = %v, want the queue spilled", err)
	}

	// The next run finds all 3000 on disk, queues new records behind
	// them, and sends everything in order once the upstream is up.
	f2, st := openForward(t, o)
	if q := f2.Queue(); q.DiskRecords+q.MemRecords != 3000 || q.Oldest.IsZero() || q.Up {
		t.Fatalf("after restart Queue() = %+v, want 3000 records, the oldest's age, the upstream down", q)
	}
	for i := 3000; i < 3100; i++ {
		if err := f2.Write(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	r.start()
	frames := r.waitFrames(3100)
	checkOrder(t, frames, 0)
	if err := f2.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Lost.Load() != 0 {
		t.Errorf("Lost = %d, want 0", st.Lost.Load())
	}
	// Everything was delivered: a third run has nothing to send.
	f3, _ := openForward(t, o)
	if q := f3.Queue(); q.DiskRecords != 0 || q.MemRecords != 0 {
		t.Errorf("third run Queue() = %+v, want empty", q)
	}
	if len(r.received()) != 3100 {
		t.Errorf("received %d frames, want 3100", len(r.received()))
	}
}

func TestDiskQueueFullIsCounted(t *testing.T) {
	r := newReceiver(t, nil)
	f, st := openForward(t, Options{Address: r.addr, QueueDir: t.TempDir(), MaxBuffer: 64 << 10, QueueMax: 1 << 20})
	const n = 30000
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
	if dropped == 0 {
		t.Fatal("nothing dropped: queue_max does not bound the disk queue")
	}
	if q := f.Queue(); q.DiskBytes > 1<<20 {
		t.Errorf("disk queue holds %d bytes, over queue_max", q.DiskBytes)
	}
	r.start()
	waitAccount(t, r, n)
	if st.Lost.Load() != int64(dropped) {
		t.Errorf("Lost = %d, want %d", st.Lost.Load(), dropped)
	}
}

func TestDiskQueueOwedSummarySurvivesRestart(t *testing.T) {
	r := newReceiver(t, nil)
	dir := t.TempDir()
	o := Options{Address: r.addr, QueueDir: dir, MaxBuffer: 64 << 10, QueueMax: 1 << 20}
	f, _ := openForward(t, o)
	const n = 30000
	for i := range n {
		_ = f.Write(msg(i)) // some are dropped, and owed a summary
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f2, _ := openForward(t, o)
	r.start()
	waitAccount(t, r, n)
	waitFor(t, "the queue to drain", func() bool { q := f2.Queue(); return q.MemRecords == 0 && q.DiskRecords == 0 })
	if verbatim, counted := account(t, r.received()); verbatim+int(counted) != n {
		t.Errorf("across a restart: verbatim %d + counted %d != %d received", verbatim, counted, n)
	}
}

func TestDiskQueueAfterCrash(t *testing.T) {
	tests := []struct {
		name string
		tail []byte // what a crash left after the last whole frame
	}{
		{name: "clean end"},
		{name: "frame cut short", tail: []byte{200, 0, 0, 0, 1, 2, 3}},
		{name: "garbage", tail: []byte("\xff\xff\xff\xff\xff\xff\xff\xffnot a frame")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			d, err := openDisk(dir, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 100 {
				if err := d.push(newItem(msg(i), []byte(fmt.Sprintf("request %d", i)), time.Now())); err != nil {
					t.Fatal(err)
				}
			}
			// The process dies: the buffer was written out, nothing
			// else happened, and the kernel dropped its lock.
			if err := d.flush(); err != nil {
				t.Fatal(err)
			}
			d.lock.Close()
			seg := segName(dir, d.wseg)
			fd, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fd.Write(tt.tail); err != nil {
				t.Fatal(err)
			}
			fd.Close()

			d2, err := openDisk(dir, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if d2.unread != 100 {
				t.Fatalf("after the crash %d records unread, want 100", d2.unread)
			}
			if err := d2.push(newItem(msg(100), []byte("request 100"), time.Now())); err != nil {
				t.Fatal(err)
			}
			for i := range 101 {
				it, err := d2.pop()
				if err != nil || it == nil {
					t.Fatalf("pop %d = %v, %v", i, it, err)
				}
				if want := fmt.Sprintf("request %d", i); string(it.data) != want || it.host != "web-1" || it.msgs != 1 {
					t.Fatalf("pop %d = %q %s %d, want %q", i, it.data, it.host, it.msgs, want)
				}
			}
			if it, err := d2.pop(); it != nil || err != nil {
				t.Fatalf("pop past the end = %v, %v", it, err)
			}
		})
	}
}

func TestDiskQueueCommitRemovesSegments(t *testing.T) {
	dir := t.TempDir()
	d, err := openDisk(dir, 1<<20) // 128KiB segments
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("x", 1000)
	for i := range 1000 {
		if err := d.push(newItem(msg(i), []byte(payload), time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	segs := func() int {
		m, _ := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
		return len(m)
	}
	before := segs()
	if before < 5 {
		t.Fatalf("%d segments for 1 MB in 128KiB segments", before)
	}
	var last pos
	for range 1000 {
		it, err := d.pop()
		if err != nil || it == nil {
			t.Fatal(it, err)
		}
		last = it.disk
	}
	d.commit(last)
	if err := d.save(); err != nil {
		t.Fatal(err)
	}
	if after := segs(); after > 2 {
		t.Errorf("%d segments left after everything was acknowledged, want at most the last and the tail", after)
	}
	head, err := readHead(dir)
	if err != nil || head != last {
		t.Errorf("head = %v, %v; want %v", head, err, last)
	}
}

// waitAccount waits until the frames received stand for n messages, and
// fails if they stand for more.
func waitAccount(t *testing.T, r *receiver, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		verbatim, counted := account(t, r.received())
		switch got := verbatim + int(counted); {
		case got == n:
			return
		case got > n:
			t.Fatalf("verbatim %d + counted %d = %d, more than the %d received", verbatim, counted, got, n)
		}
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("verbatim %d + counted %d, want %d", verbatim, counted, n)
		}
	}
}

func TestDiskQueueIsLocked(t *testing.T) {
	dir := t.TempDir()
	d, err := openDisk(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openDisk(dir, 1<<30); !errors.Is(err, errLocked) {
		t.Fatalf("second open = %v, want errLocked", err)
	}
	if err := d.close(nil); err != nil {
		t.Fatal(err)
	}
	d2, err := openDisk(dir, 1<<30)
	if err != nil {
		t.Fatalf("open after close = %v", err)
	}
	_ = d2.close(nil)
}
