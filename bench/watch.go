package bench

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Sample is one point of a run's time series: seconds since the start,
// bytes sent and bytes on disk in the target's output so far.
type Sample struct {
	T   float64 `json:"t"`
	In  int64   `json:"in"`
	Out int64   `json:"out"`
}

// watcher tails a target's output directory: the total size for the
// chart and the settle test, new complete lines for probes. It reads only
// what was appended since the last look, so it costs the machine little
// while the target works.
type watcher struct {
	dirs   []string
	probes *Probes
	live   *Counters
	begin  time.Time

	mu      sync.Mutex
	samples []Sample
	out     int64
	changed time.Time // last time the output grew
	files   map[string]*tailState
	buf     []byte // read buffer of tail, reused
}

type tailState struct {
	off  int64
	part []byte // an incomplete last line
}

func newWatcher(dirs []string, probes *Probes, live *Counters) *watcher {
	now := time.Now()
	return &watcher{dirs: dirs, probes: probes, live: live, begin: now, changed: now, files: map[string]*tailState{}}
}

// run looks every interval until ctx ends.
func (w *watcher) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		w.look()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *watcher) look() {
	now := time.Now()
	var total int64
	for _, dir := range w.dirs {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil // a file that vanished mid-walk (rotation) is no error
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			total += info.Size()
			if w.probes != nil {
				w.tail(path, info.Size(), now)
			}
			return nil
		})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if total != w.out {
		w.changed = now
	}
	w.out = total
	w.samples = append(w.samples, Sample{T: now.Sub(w.begin).Seconds(), In: w.live.Bytes.Load(), Out: total})
}

// tail reads what path gained since the last look and passes complete
// lines to the probes. It reads all of it, in chunks: a watcher that
// fell behind a fast writer would report its own lag as the target's
// latency.
func (w *watcher) tail(path string, size int64, now time.Time) {
	st := w.files[path]
	if st == nil {
		st = &tailState{}
		w.files[path] = st
	}
	if size < st.off { // truncated or replaced: start over
		st.off, st.part = 0, nil
	}
	if size == st.off {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if w.buf == nil {
		w.buf = make([]byte, 4<<20)
	}
	for st.off < size {
		n, _ := f.ReadAt(w.buf[:min(size-st.off, int64(len(w.buf)))], st.off)
		if n == 0 {
			return
		}
		buf := w.buf[:n]
		st.off += int64(n)
		last := bytes.LastIndexByte(buf, '\n')
		if last < 0 {
			st.part = append(st.part, buf...)
			continue
		}
		if len(st.part) > 0 {
			w.probes.find(append(st.part, buf[:last+1]...), now)
		} else {
			w.probes.find(buf[:last+1], now)
		}
		st.part = append(st.part[:0], buf[last+1:]...)
	}
}

// quietFor reports how long the output has not grown.
func (w *watcher) quietFor() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Since(w.changed)
}

// lastGrowth returns when the output last grew, relative to the start.
func (w *watcher) lastGrowth() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changed.Sub(w.begin)
}

func (w *watcher) series() []Sample {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Sample(nil), w.samples...)
}
