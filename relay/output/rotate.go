package output

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
)

// rotator numbers, compresses and prunes rotated files in one goroutine,
// in the order the rotations happened. Being the only one to touch the
// numbered names, it needs no coordination with the writers beyond its
// queue.
type rotator struct {
	maxFiles int
	compress bool
	maxTotal int64
	maxSize  int64
	base     string
	rotated  *regexp.Regexp
	stats    *Stats
	log      *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond // signals new jobs, and idleness to wait
	jobs    []rotation
	busy    bool
	stopped bool
	done    chan struct{}
}

// rotation is a current file renamed aside, to become path.1.
type rotation struct{ path, aside string }

func newRotator(t template, o Options, stats *Stats, log *slog.Logger) *rotator {
	r := &rotator{
		maxFiles: o.MaxFiles, compress: o.Compress, maxTotal: o.MaxTotal, maxSize: o.MaxSize,
		base: t.base, rotated: t.rotated(), stats: stats, log: log,
		done: make(chan struct{}),
	}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *rotator) start() { go r.loop() }

// add queues a rotation; it never blocks on the work.
func (r *rotator) add(path, aside string) {
	r.mu.Lock()
	r.jobs = append(r.jobs, rotation{path, aside})
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
		r.mu.Unlock()

		r.rotate(j)
		r.prune(j.path)

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
			err := os.Rename(numbered(j.path, i, ext), numbered(j.path, i+1, ext))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				r.failed("rename rotated file", err)
			}
		}
	}
	first := numbered(j.path, 1, "")
	if err := os.Rename(j.aside, first); err != nil {
		r.failed("rename rotated file", err)
		return
	}
	if r.compress {
		r.gzip(first)
	}
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

func numbered(path string, i int, ext string) string { return fmt.Sprintf("%s.%d%s", path, i, ext) }

func (r *rotator) remove(name string) {
	if err := os.Remove(name); err != nil {
		r.failed("remove rotated file", err)
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
	if err := gzipFile(name); err != nil {
		r.failed("compress rotated file", err)
		return
	}
	r.stats.FilesCompressed.Add(1)
	if err := os.Remove(name); err != nil {
		r.failed("remove compressed file", err)
	}
}

func gzipFile(name string) (err error) {
	src, err := os.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := name + ".gz.tmp"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
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
		return err
	}
	if _, err := io.Copy(zw, src); err != nil {
		return fmt.Errorf("compress %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", name, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", name, err)
	}
	return os.Rename(tmp, name+".gz")
}

// prune removes the oldest rotated files until everything under the base
// directory fits in max_total. Every current file counts as if it had
// already grown to max_size, the file just started for path included, as
// it will before it is rotated: so the directory stays within max_total
// between rotations too, as long as max_total leaves room for max_size
// times the files written at once. Current files are never removed.
func (r *rotator) prune(path string) {
	if r.maxTotal <= 0 {
		return
	}
	type rotated struct {
		path string
		size int64
		mod  int64
	}
	var total int64
	var old []rotated
	started := false
	filepath.WalkDir(r.base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil // a directory removed meanwhile, say: skip it
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if rel, err := filepath.Rel(r.base, p); err == nil && r.rotated.MatchString(filepath.ToSlash(rel)) {
			total += info.Size()
			old = append(old, rotated{p, info.Size(), info.ModTime().UnixNano()})
			return nil
		}
		started = started || p == path
		total += max(info.Size(), r.maxSize)
		return nil
	})
	if !started {
		total += r.maxSize
	}
	sort.Slice(old, func(i, j int) bool { return old[i].mod < old[j].mod })
	for _, o := range old {
		if total <= r.maxTotal {
			break
		}
		if err := os.Remove(o.path); err != nil {
			r.failed("remove rotated file", err)
			continue
		}
		r.stats.FilesRemoved.Add(1)
		total -= o.size
	}
}
