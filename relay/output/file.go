package output

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/relay/output/format"
)

// File is the file output: records go to files named by filling the
// configured path's placeholders from each record.
type File struct {
	cfg       config.Output
	format    format.Format
	tmpl      template
	maxBuffer int
	maxOpen   int
	stats     *Stats
	log       *errLog
	rot       *rotator
	level     atomic.Int32
	scratch   sync.Pool // *scratch

	mu      sync.Mutex
	files   map[string]*file // every file with an open handle or buffered data
	open    *simplelru.LRU[string, *file]
	pending int  // bytes buffered over all files
	failing bool // a write failed; only Flush tries again
	lost    losses
	closed  bool
	seq     int64 // names rotated files uniquely until the rotator numbers them
	list    []*file

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ Output = (*File)(nil)

// file is one output file and its buffer.
type file struct {
	path    string
	fd      *os.File // nil while closed
	dev     uint64   // identity of the open file, to notice it replaced
	ino     uint64
	size    int64
	midLine bool // the last write ended inside a line: do not rotate now
	buf     []byte
}

// scratch holds a record's path and line while it is encoded outside the
// lock.
type scratch struct{ path, line []byte }

// maxScratch is the largest encoding buffer kept for reuse.
const maxScratch = 64 << 10

// diskInterval is how often the disk guard reads free space.
const diskInterval = time.Second

// NewFile returns the file output cfg describes, with its base directory
// created and its disk guard and rotator running. log may be nil; stats
// may be nil when nobody reads them.
func NewFile(cfg config.Output, log *slog.Logger, stats *Stats) (*File, error) {
	f, err := newFile(cfg, log, stats)
	if err != nil {
		return nil, err
	}
	f.checkDisk()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.diskLoop()
	}()
	f.rot.start()
	return f, nil
}

// newFile builds the output without starting its goroutines.
func newFile(cfg config.Output, log *slog.Logger, stats *Stats) (*File, error) {
	fm, err := format.Parse(cfg.Format)
	if err != nil {
		return nil, fmt.Errorf("file output: %w", err)
	}
	tmpl, err := parseTemplate(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("file output: %w", err)
	}
	if err := os.MkdirAll(tmpl.base, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	if stats == nil {
		stats = new(Stats)
	}
	f := &File{
		cfg: cfg, format: fm, tmpl: tmpl, stats: stats, log: newErrLog(log),
		maxBuffer: int(cfg.MaxBuffer), maxOpen: cfg.MaxOpenFiles,
		files: map[string]*file{}, lost: losses{}, stop: make(chan struct{}),
	}
	if f.maxBuffer <= 0 {
		f.maxBuffer = defaultMaxBuffer
	}
	if f.maxOpen <= 0 {
		f.maxOpen = 256
	}
	f.log.log = f.log.log.With(logPath, cfg.Path)
	f.scratch.New = func() any { return new(scratch) }
	// One more slot than the cap: ensureOpen closes the oldest itself, so
	// that closing flushes, and the LRU never evicts on its own.
	f.open, _ = simplelru.NewLRU[string, *file](f.maxOpen+1, nil)
	f.rot = newRotator(tmpl, cfg, stats, f.log)
	return f, nil
}

// DiskLevel returns how close the output's filesystems are to full, as of
// the last check (once a second) or the last ENOSPC.
func (f *File) DiskLevel() floodgate.DiskLevel { return floodgate.DiskLevel(f.level.Load()) }

// Write implements Output.
func (f *File) Write(r *floodgate.Record) error {
	sc := f.scratch.Get().(*scratch)
	sc.path = f.tmpl.append(sc.path[:0], r)
	sc.line = format.Append(sc.line[:0], f.format, r)
	f.mu.Lock()
	err := f.writeLocked(sc.path, sc.line, r)
	f.mu.Unlock()
	if cap(sc.line) <= maxScratch { // one huge message should not stay pinned
		f.scratch.Put(sc)
	}
	return err
}

func (f *File) writeLocked(path, line []byte, r *floodgate.Record) error {
	if f.closed {
		return ErrClosed
	}
	if f.pending+len(line) > f.maxBuffer && !f.failing {
		f.writeOutAll() // make room; errors are counted and logged
	}
	if f.pending > 0 && f.pending+len(line) > f.maxBuffer {
		f.lost.add(r, len(line))
		f.stats.Lost.Add(r.Messages())
		return ErrDropped
	}
	fl := f.files[string(path)]
	if fl == nil {
		fl = &file{path: string(path)}
		f.files[fl.path] = fl
	}
	fl.buf = append(fl.buf, line...)
	f.pending += len(line)
	if len(fl.buf) >= flushSize && !f.failing {
		f.writeOut(fl) // errors are counted and logged; the data stays
	}
	return nil
}

// writeOutAll writes out every buffer and returns the first error.
func (f *File) writeOutAll() error {
	f.list = f.list[:0]
	for _, fl := range f.files {
		if len(fl.buf) > 0 {
			f.list = append(f.list, fl)
		}
	}
	var first error
	for i, fl := range f.list {
		if err := f.writeOut(fl); err != nil && first == nil {
			first = err
		}
		f.list[i] = nil
	}
	return first
}

// writeOut writes fl's buffer to its file, rotating on the way when the
// file would outgrow max_size. What could not be written stays buffered.
func (f *File) writeOut(fl *file) error {
	maxSize := int64(f.cfg.MaxSize)
	for len(fl.buf) > 0 {
		if err := f.ensureOpen(fl); err != nil {
			return err
		}
		chunk := fl.buf
		if maxSize > 0 && fl.size+int64(len(chunk)) > maxSize {
			// Whole lines that still fit; the rest goes to a new file.
			room := max(maxSize-fl.size, 0)
			cut := bytes.LastIndexByte(chunk[:min(room, int64(len(chunk)))], '\n') + 1
			if fl.midLine {
				// Finish the line begun before a failed write first.
				if cut = bytes.IndexByte(chunk, '\n') + 1; cut == 0 {
					cut = len(chunk)
				}
			}
			if cut == 0 && fl.size > 0 {
				if err := f.rotate(fl); err == nil {
					continue
				}
				cut = len(chunk) // cannot rotate: keep writing
			}
			if cut == 0 {
				// A line longer than max_size in an empty file.
				if cut = bytes.IndexByte(chunk, '\n') + 1; cut == 0 {
					cut = len(chunk)
				}
			}
			chunk = chunk[:cut]
		}
		n, err := fl.fd.Write(chunk)
		if n > 0 {
			fl.size += int64(n)
			fl.midLine = chunk[n-1] != '\n'
			f.pending -= n
			f.stats.Bytes.Add(int64(n))
			f.stats.Records.Add(int64(bytes.Count(chunk[:n], newline)))
			fl.buf = fl.buf[:copy(fl.buf, fl.buf[n:])]
		}
		if err != nil {
			return f.fail("write", fl, err)
		}
	}
	return nil
}

// fail counts and logs a failed operation on fl, marks the output failing
// until the next Flush, and notes a full disk at once.
func (f *File) fail(op string, fl *file, err error) error {
	f.failing = true
	f.stats.WriteErrors.Add(1)
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		f.setLevel(floodgate.DiskFull)
	}
	f.log.error("output file error", logOp, op, logFile, fl.path, logErr, err, logBuffered, f.pending)
	return fmt.Errorf("%s %s: %w", op, fl.path, err)
}

// ensureOpen opens fl's file unless it is open, closing the least recently
// used handle first when max_open_files are open.
func (f *File) ensureOpen(fl *file) error {
	if fl.fd != nil {
		f.open.Get(fl.path) // most recently used now
		return nil
	}
	if f.open.Len() >= f.maxOpen {
		if _, old, ok := f.open.RemoveOldest(); ok {
			f.closeFile(old)
		}
	}
	if err := os.MkdirAll(filepath.Dir(fl.path), 0o755); err != nil {
		return f.fail("create directory for", fl, err)
	}
	fd, err := os.OpenFile(fl.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return f.fail("open", fl, err)
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return f.fail("stat", fl, err)
	}
	fl.fd, fl.size, fl.midLine = fd, st.Size(), false
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		fl.dev, fl.ino = uint64(sys.Dev), sys.Ino
	}
	f.open.Add(fl.path, fl)
	f.stats.FilesOpened.Add(1)
	return nil
}

// closeFile writes out fl's buffer unless writes are failing, and closes
// its handle; a file left with buffered data stays known, closed, until a
// Flush writes it.
func (f *File) closeFile(fl *file) {
	if len(fl.buf) > 0 && !f.failing {
		f.writeOut(fl) // errors are counted and logged; the data stays
	}
	f.closeFD(fl)
	if len(fl.buf) == 0 {
		delete(f.files, fl.path)
	}
}

// closeFD closes fl's handle without writing.
func (f *File) closeFD(fl *file) {
	if fl.fd == nil {
		return
	}
	if err := fl.fd.Close(); err != nil {
		f.fail("close", fl, err)
	}
	fl.fd = nil
	f.open.Remove(fl.path)
}

// rotate renames fl's file aside for the rotator to number, compress and
// prune; the next write opens a new file.
func (f *File) rotate(fl *file) error {
	f.closeFD(fl)
	f.seq++
	aside := fmt.Sprintf("%s.rotating-%d", fl.path, f.seq)
	if err := os.Rename(fl.path, aside); err != nil {
		return f.fail("rotate", fl, err)
	}
	f.stats.FilesRotated.Add(1)
	f.rot.add(fl.path, aside)
	if f.rot.maxTotal > 0 {
		// max_total is a promise about the disk: do not write on before
		// the rotator has made room, however busy the machine is.
		f.rot.wait()
	}
	return nil
}

// replaced reports whether fl's path no longer names its open file: it was
// removed or renamed under us, perhaps with its directory.
func (fl *file) replaced() bool {
	st, err := os.Stat(fl.path)
	if err != nil {
		return true
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && (uint64(sys.Dev) != fl.dev || sys.Ino != fl.ino)
}

// Flush implements Output. Before writing out a buffer it checks that the
// file is still there, and reopens it (creating its directory) when not.
// Once every buffer is written, it writes suppressed summaries for what
// was dropped while writes failed.
func (f *File) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	return f.flushLocked()
}

func (f *File) flushLocked() error {
	f.failing = false
	for _, fl := range f.files {
		if fl.fd != nil && len(fl.buf) > 0 && fl.replaced() {
			f.closeFD(fl)
		}
	}
	if err := f.writeOutAll(); err != nil {
		return err
	}
	if len(f.lost) == 0 {
		return nil
	}
	for _, r := range f.lost.take() {
		sc := f.scratch.Get().(*scratch)
		sc.path = f.tmpl.append(sc.path[:0], &r)
		sc.line = format.Append(sc.line[:0], f.format, &r)
		// A summary that cannot be buffered is counted again, with its
		// count: the accounting stays whole.
		if f.writeLocked(sc.path, sc.line, &r) == nil {
			f.stats.Summaries.Add(1)
		}
		f.scratch.Put(sc)
	}
	return f.writeOutAll()
}

// Close implements Output: it flushes, closes every file, stops the disk
// guard and waits for the rotator to finish its work.
func (f *File) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	err := f.flushLocked() // before closed is set: it may write summaries
	f.closed = true
	var lines, size int64
	for _, fl := range f.files {
		lines += int64(bytes.Count(fl.buf, newline))
		size += int64(len(fl.buf))
		f.closeFD(fl)
	}
	counted := f.lost.total()
	f.mu.Unlock()

	close(f.stop)
	f.wg.Wait()
	f.rot.close()
	if err == nil {
		return nil
	}
	f.stats.Lost.Add(lines)
	f.log.log.Error("output closed with records not written", logRecords, lines, logBytes, size, logCounted, counted, logErr, err)
	return fmt.Errorf("close output %s: %d records (%d bytes) and %d counted messages not written: %w", f.cfg.Path, lines, size, counted, err)
}
