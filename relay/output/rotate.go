package output

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"time"
)

// rotator numbers, compresses and prunes rotated files in one goroutine,
// in the order the rotations happened. Being the only one to touch the
// numbered names, it needs no coordination with the writers beyond its
// queue.
type rotator struct {
	maxFiles int
	compress bool
	maxTotal int64
	base     string
	rotated  *regexp.Regexp
	stats    *Stats
	log      *slog.Logger
	// idx knows the size of every file under base; nil without max_total.
	idx *sizeIndex

	mu      sync.Mutex
	cond    *sync.Cond // signals new jobs, and idleness to wait
	jobs    []rotation
	busy    bool
	pruning bool // a prune-only job is queued
	stopped bool
	done    chan struct{}
}

// rotation is a current file renamed aside, to become path.1; a rotation
// with no path only prunes, making room for need bytes more.
type rotation struct {
	path, aside string
	need        int64
}

// newRotator returns the rotator of an output; with max_total it indexes
// the files under the base directory first, once, by a walk.
func newRotator(t template, o Options, stats *Stats, log *slog.Logger) *rotator {
	r := &rotator{
		maxFiles: o.MaxFiles, compress: o.Compress, maxTotal: o.MaxTotal,
		base: t.base, rotated: t.rotated(), stats: stats, log: log,
		done: make(chan struct{}),
	}
	r.cond = sync.NewCond(&r.mu)
	if r.maxTotal > 0 {
		r.idx = newSizeIndex()
		r.idx.build(r.base, r.rotated.MatchString)
	}
	return r
}

// setCurrent tells the index the size of a current file.
func (r *rotator) setCurrent(path string, size int64) {
	if r.idx != nil {
		r.idx.setCurrent(path, size)
	}
}

// overTotal reports whether the files under the base directory take more
// than max_total.
func (r *rotator) overTotal() bool {
	return r.idx != nil && r.idx.Total() > r.maxTotal
}

// makeRoom removes the oldest rotated files, before a write of n bytes,
// until the write fits in max_total, and waits for it: max_total holds at
// every moment, not only at rotations. It costs nothing while there is
// room, and nothing when no rotated file is left to remove.
func (r *rotator) makeRoom(n int64) {
	if r.idx == nil || !r.idx.overLimit(r.maxTotal-n) {
		return
	}
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.jobs = append(r.jobs, rotation{need: n})
	r.mu.Unlock()
	r.cond.Broadcast()
	r.wait()
}

// prune queues a prune unless one is queued: the current files have grown
// past max_total between rotations.
func (r *rotator) prune() {
	r.mu.Lock()
	if r.pruning || r.stopped {
		r.mu.Unlock()
		return
	}
	r.pruning = true
	r.jobs = append(r.jobs, rotation{})
	r.mu.Unlock()
	r.cond.Broadcast()
}

func (r *rotator) start() { go r.loop() }

// add queues a rotation of path, of size bytes, renamed aside; it never
// blocks on the work.
func (r *rotator) add(path, aside string, size int64) {
	if r.idx != nil {
		r.idx.rotate(path, aside, size, time.Now().UnixNano())
	}
	r.mu.Lock()
	r.jobs = append(r.jobs, rotation{path: path, aside: aside})
	r.mu.Unlock()
	r.cond.Broadcast()
}

// close finishes the queued work and stops the goroutine.
func (r *rotator) close() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.cond.Broadcast()
	<-r.done
}

// wait blocks until the queue is empty and no job runs.
func (r *rotator) wait() {
	r.mu.Lock()
	for len(r.jobs) > 0 || r.busy {
		r.cond.Wait()
	}
	r.mu.Unlock()
}

func (r *rotator) loop() {
	defer close(r.done)
	r.mu.Lock()
	for {
		for len(r.jobs) == 0 && !r.stopped {
			r.cond.Wait()
		}
		if len(r.jobs) == 0 {
			r.mu.Unlock()
			return
		}
		j := r.jobs[0]
		r.jobs = r.jobs[1:]
		r.busy = true
		if j.path == "" {
			r.pruning = false
		}
		r.mu.Unlock()

		if j.path != "" {
			r.rotate(j)
		}
		r.pruneOldest(j.need)

		r.mu.Lock()
		r.busy = false
		r.cond.Broadcast()
	}
}

// rotate shifts path.1 … path.N-1 up by one, removing path.N, and makes
// the file set aside path.1, gzipped when compress is on.
func (r *rotator) rotate(j rotation) {
	if r.maxFiles <= 0 {
		r.remove(j.aside)
		return
	}
	// Only the run of numbers in use moves: probing all max_files names
	// on every rotation would cost thousands of system calls with a large
	// max_files.
	top := 0
	for top < r.maxFiles && (exists(numbered(j.path, top+1, "")) || exists(numbered(j.path, top+1, ".gz"))) {
		top++
	}
	if top == r.maxFiles {
		for _, ext := range []string{"", ".gz"} {
			if name := numbered(j.path, top, ext); exists(name) {
				r.remove(name)
			}
		}
		top--
	}
	for i := top; i >= 1; i-- {
		for _, ext := range []string{"", ".gz"} {
			from, to := numbered(j.path, i, ext), numbered(j.path, i+1, ext)
			err := os.Rename(from, to)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				r.failed("rename rotated file", err)
			}
			if err == nil {
				r.renamed(from, to)
			}
		}
	}
	first := numbered(j.path, 1, "")
	if err := os.Rename(j.aside, first); err != nil {
		r.failed("rename rotated file", err)
		return
	}
	r.renamed(j.aside, first)
	if r.compress {
		r.gzip(first)
	}
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

func numbered(path string, i int, ext string) string { return fmt.Sprintf("%s.%d%s", path, i, ext) }

func (r *rotator) renamed(from, to string) {
	if r.idx != nil {
		r.idx.rename(from, to)
	}
}

// remove removes a rotated file. One already gone (the directory removed
// by hand, say) is only forgotten.
func (r *rotator) remove(name string) {
	err := os.Remove(name)
	if r.idx != nil && (err == nil || errors.Is(err, fs.ErrNotExist)) {
		r.idx.remove(name)
	}
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.failed("remove rotated file", err)
		}
		return
	}
	r.stats.FilesRemoved.Add(1)
}

func (r *rotator) failed(op string, err error) {
	r.stats.WriteErrors.Add(1)
	r.log.Error("rotation error", logOp, op, logErr, err)
}

// gzip compresses name into name.gz and removes name; on failure (a full
// disk, say) it removes the partial .gz and keeps name as it is.
func (r *rotator) gzip(name string) {
	size, err := gzipFile(name)
	if err != nil {
		r.failed("compress rotated file", err)
		return
	}
	if r.idx != nil {
		r.idx.replace(name, name+".gz", size)
	}
	r.stats.FilesCompressed.Add(1)
	if err := os.Remove(name); err != nil {
		r.failed("remove compressed file", err)
	}
}

// gzipFile writes name.gz and returns its size.
func gzipFile(name string) (size int64, err error) {
	src, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	tmp := name + ".gz.tmp"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	// Speed over ratio: rotations come in floods, on the relay's CPU, and
	// repetitive logs compress well at any level.
	zw, err := gzip.NewWriterLevel(dst, gzip.BestSpeed)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(zw, src); err != nil {
		return 0, fmt.Errorf("compress %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("compress %s: %w", name, err)
	}
	st, err := dst.Stat()
	if err != nil {
		return 0, fmt.Errorf("compress %s: %w", name, err)
	}
	if err := dst.Close(); err != nil {
		return 0, fmt.Errorf("compress %s: %w", name, err)
	}
	return st.Size(), os.Rename(tmp, name+".gz")
}

// pruneOldest removes the oldest rotated files, by age across every
// source as journald vacuums, while the files under the base directory
// take more than max_total bytes really on disk, less need bytes about to
// be written. Current files are never
// removed, so a directory whose current files alone exceed max_total stays
// over it. The sizes come from the index, not from a walk.
func (r *rotator) pruneOldest(need int64) {
	if r.idx == nil {
		return
	}
	for {
		name := r.idx.over(r.maxTotal - need)
		if name == "" {
			return
		}
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.failed("remove rotated file", err)
		} else if err == nil {
			r.stats.FilesRemoved.Add(1)
		}
		r.idx.remove(name) // removed, gone already, or not removable: forget it
	}
}
