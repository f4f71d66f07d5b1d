package output

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/output/format"
)

// Dest is floodgate's one destination type: records rendered into
// buffers, one per file, and written out to files named by filling the
// path's placeholders from each record (New with type "file"), or to one
// io.Writer (NewWriter, and type "stdout"). Buffering, failure, loss and
// close are the same for both; only a file output rotates, reopens files
// moved away, and guards the disk.
type Dest struct {
	opts      Options
	format    format.Format
	encoding  format.Options
	tmpl      template
	w         io.Writer // the one writer, or nil for files
	maxBuffer int
	maxOpen   int
	maxFiles  int           // max_files_total: current files at once
	idle      time.Duration // a file not written for this long frees its place
	host      string        // the relay's host name, for floodgate's own records
	clock     func() time.Time
	stats     *Stats
	log       *slog.Logger
	rot       *rotator // nil for a writer
	level     atomic.Int32
	scratch   sync.Pool // *scratch

	mu      sync.Mutex
	files   map[string]*file              // every current file, open or not, up to max_files_total
	active  *simplelru.LRU[string, *file] // files by last write, to free idle places
	current int                           // files counting against max_files_total
	open    *simplelru.LRU[string, *file]
	tick    int64 // the clock at the last Flush, UnixNano: when files were last written
	// createAt is when opening a new file may be tried again after one
	// failed, and backoff the wait after the next failure.
	createAt int64
	backoff  time.Duration
	ovPath   []byte // scratch for an overflow file's path
	// inodes estimates the free inodes of the base directory's
	// filesystem: read once a second, less two for every new file since;
	// -1 when the filesystem does not count them.
	inodes   int64
	warnedAt int64 // when the last overflow warning was written
	ovSince  int64 // messages sent to overflow files since then
	pending  int   // bytes buffered over all files
	failing  bool  // a write failed; only Flush tries again
	lost     *Losses
	closed   bool
	closing  bool  // Close's last Flush: try every file once more
	seq      int64 // names rotated files uniquely until the rotator numbers them
	list     []*file
	spare    []byte // a writer's record over max_buffer, taken back out

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ Output = (*Dest)(nil)

// file is one output file, or the one writer, and its buffer.
type file struct {
	path    string
	fd      *os.File // nil while closed
	dev     uint64   // identity of the open file, to notice it replaced
	ino     uint64
	size    int64
	midLine bool // the last write ended inside a line: do not rotate now
	buf     []byte
	// extra corrects the lines in buf that do not stand for one message
	// each, so that what Close cannot write is counted in messages.
	extra []extraCount
	// last is the Dest's tick when the file was last written to.
	last int64
	// exempt files do not count against max_files_total: overflow files
	// and those of floodgate's own records.
	exempt bool
	// overflow is the path of the overflow file for this file's records,
	// and redirect sends them there: the file could not be created for
	// want of space or inodes.
	overflow string
	redirect bool
	// retryAt is when opening the file may be tried again after it
	// failed, and backoff the wait after its next failure.
	retryAt int64
	backoff time.Duration
}

// extraCount is a line in a buffer that does not stand for one message: it
// ends at end and stands for n messages more than one (a summary), or -1
// (floodgate's own record).
type extraCount struct {
	end int
	n   int64
}

// buffer appends line, which encodes r, to fl's buffer.
func (fl *file) buffer(line []byte, r *floodgate.Record) {
	fl.buf = append(fl.buf, line...)
	fl.note(r)
}

// note records what r, the line just appended, stands for when that is
// not one message.
func (fl *file) note(r *floodgate.Record) {
	msgs := r.Messages()
	if r.Summary == nil && r.Syntax == floodgate.Internal {
		msgs = 0 // floodgate's own record stands for no message received
	}
	if n := msgs - 1; n != 0 {
		fl.extra = append(fl.extra, extraCount{end: len(fl.buf), n: n})
	}
}

// consume forgets the first n bytes of fl's buffer, written out.
func (fl *file) consume(n int) {
	fl.buf = fl.buf[:copy(fl.buf, fl.buf[n:])]
	if len(fl.extra) == 0 {
		return
	}
	i := 0
	for i < len(fl.extra) && fl.extra[i].end <= n {
		i++
	}
	fl.extra = fl.extra[:copy(fl.extra, fl.extra[i:])]
	for j := range fl.extra {
		fl.extra[j].end -= n
	}
}

// messages returns how many messages the lines in fl's buffer stand for.
func (fl *file) messages() int64 {
	n := int64(bytes.Count(fl.buf, newline))
	for _, e := range fl.extra {
		n += e.n
	}
	return n
}

// scratch holds a record's path and line while it is encoded outside the
// lock.
type scratch struct{ path, line []byte }

// maxScratch is the largest encoding buffer kept for reuse.
const maxScratch = 64 << 10

// diskInterval is how often the disk guard reads free space.
const diskInterval = time.Second

// New returns the output o describes: for type "file" a Dest writing files,
// with its base directory created (so a bad path is an error here rather
// than at the first write) and its disk guard and rotator running; for
// "stdout" a Dest writing to o.Writer (os.Stdout when nil). Fields of o
// left at zero take DefaultOptions' values (see Options). log may be nil; the caller scopes
// it (component, output). stats may be nil when nobody reads them.
func New(o Options, log *slog.Logger, stats *Stats) (*Dest, error) {
	o = o.filled()
	switch o.Type {
	case "file":
	case "stdout":
		fm, err := format.Parse(o.Format)
		if err != nil {
			return nil, fmt.Errorf("stdout output: %w", err)
		}
		w := o.Writer
		if w == nil {
			w = os.Stdout
		}
		return newDest(o, fm, w, log, stats), nil
	default:
		return nil, fmt.Errorf("output type %q: want \"file\" or \"stdout\"", o.Type)
	}
	d, err := newFileDest(o, log, stats)
	if err != nil {
		return nil, err
	}
	d.checkDisk()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.diskLoop()
	}()
	d.rot.start()
	return d, nil
}

// NewWriter returns a Dest that writes records to w in the named format
// ("traditional", "rfc5424", "json"; "" is traditional, and so is a name
// config validation would have rejected). Close flushes but does not close
// w: the caller owns it. stats may be nil.
func NewWriter(w io.Writer, formatName string, stats *Stats) *Dest {
	fm, err := format.Parse(formatName)
	if err != nil {
		fm = format.Traditional
	}
	return newDest(Options{Type: "stdout", Format: fm.String()}.filled(), fm, w, nil, stats)
}

// newDest builds a Dest to w without goroutines of its own.
func newDest(o Options, fm format.Format, w io.Writer, log *slog.Logger, stats *Stats) *Dest {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if stats == nil {
		stats = new(Stats)
	}
	d := &Dest{
		opts: o, format: fm, encoding: format.Options{RawControl: o.RawControl}, w: w, stats: stats, log: log,
		maxBuffer: o.MaxBuffer, maxOpen: o.MaxOpenFiles, maxFiles: o.MaxFilesTotal, idle: o.FileIdle,
		host: o.Host, clock: time.Now,
		files: map[string]*file{}, lost: NewLosses(lostFP, lostReason, "write"), stop: make(chan struct{}),
	}
	if d.host == "" {
		d.host, _ = os.Hostname()
	}
	if d.host == "" {
		d.host = ownApp
	}
	d.tick = d.clock().UnixNano()
	d.inodes = -1
	d.active, _ = simplelru.NewLRU[string, *file](math.MaxInt32, nil)
	d.scratch.New = func() any { return new(scratch) }
	// One more slot than the cap: ensureOpen closes the oldest itself, so
	// that closing flushes, and the LRU never evicts on its own.
	d.open, _ = simplelru.NewLRU[string, *file](d.maxOpen+1, nil)
	return d
}

// newFileDest builds the file output without starting its goroutines.
func newFileDest(o Options, log *slog.Logger, stats *Stats) (*Dest, error) {
	fm, err := format.Parse(o.Format)
	if err != nil {
		return nil, fmt.Errorf("file output: %w", err)
	}
	tmpl, err := parseTemplate(o.Path)
	if err != nil {
		return nil, fmt.Errorf("file output: %w", err)
	}
	if err := os.MkdirAll(tmpl.base, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := newDest(o, fm, nil, log.With(logPath, o.Path), stats)
	d.tmpl = tmpl
	d.rot = newRotator(tmpl, o, d.stats, d.log)
	return d, nil
}

// DiskLevel returns how close the output's filesystems are to full, as of
// the last check (once a second) or the last ENOSPC. A writer's is always
// DiskOK.
func (d *Dest) DiskLevel() floodgate.DiskLevel { return floodgate.DiskLevel(d.level.Load()) }

// Write implements Output.
func (f *Dest) Write(r *floodgate.Record) error {
	if f.w != nil {
		return f.writeToWriter(r)
	}
	sc := f.scratch.Get().(*scratch)
	sc.path = f.pathOf(sc.path[:0], r)
	sc.line = f.encoding.Append(sc.line[:0], f.format, r)
	f.mu.Lock()
	err := f.writeLocked(sc.path, sc.line, r)
	f.mu.Unlock()
	if cap(sc.line) <= maxScratch { // one huge message should not stay pinned
		f.scratch.Put(sc)
	}
	return err
}

// writeToWriter renders r straight into the one writer's buffer, under the
// lock: one destination needs no path and no copy through a scratch
// buffer. Past max_buffer it takes r back out and goes the common way,
// which makes room or drops and counts it.
func (f *Dest) writeToWriter(r *floodgate.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	fl := f.files[""]
	if fl == nil {
		fl = &file{}
		f.files[""] = fl
	}
	mark := len(fl.buf)
	fl.buf = f.encoding.Append(fl.buf, f.format, r)
	size := len(fl.buf) - mark
	if f.pending > 0 && f.pending+size > f.maxBuffer {
		f.spare = append(f.spare[:0], fl.buf[mark:]...)
		fl.buf = fl.buf[:mark]
		return f.writeLocked(nil, f.spare, r)
	}
	fl.note(r)
	f.pending += size
	if len(fl.buf) >= flushSize && !f.failing {
		f.writeOut(fl) // errors are counted and logged; the data stays
	}
	return nil
}

func (f *Dest) writeLocked(path, line []byte, r *floodgate.Record) error {
	if f.closed {
		return ErrClosed
	}
	if f.pending+len(line) > f.maxBuffer && !f.failing {
		f.writeOutAll() // make room; errors are counted and logged
	}
	if f.pending > 0 && f.pending+len(line) > f.maxBuffer {
		if r.Summary == nil && r.Syntax == floodgate.Internal {
			// floodgate's own record stands for no message received: it
			// is dropped without a count, as the budgets' disk policy
			// drops it, so that no summary counts it as a message.
			return ErrDropped
		}
		f.lost.AddRecord(r, len(line))
		f.stats.Lost.Add(r.Messages())
		return ErrDropped
	}
	fl := f.fileFor(path, r)
	fl.buffer(line, r)
	f.pending += len(line)
	if len(fl.buf) >= flushSize && !f.failing {
		f.writeOut(fl) // errors are counted and logged; the data stays
	}
	return nil
}

// fileFor returns the file r's line goes to: the file at path, or, when
// max_files_total files are being written and none has been idle for
// file_idle, or the file cannot be created for want of space or inodes,
// the shared overflow file. floodgate's own records always go to their
// own file.
func (f *Dest) fileFor(path []byte, r *floodgate.Record) *file {
	fl := f.files[string(path)]
	if fl != nil && !fl.redirect {
		f.touch(fl)
		return fl
	}
	if f.w != nil {
		fl = &file{}
		f.files[""] = fl
		return fl
	}
	if fl == nil {
		exempt := r.Summary == nil && r.Syntax == floodgate.Internal
		room := f.inodes < 0 || f.inodes >= inodeReserve
		if exempt || room && (f.current < f.maxFiles || f.evictIdle()) && f.tick >= f.createAt {
			fl = &file{path: string(path), exempt: exempt, last: f.tick}
			f.ovPath = f.tmpl.appendOverflow(f.ovPath[:0], r)
			fl.overflow = string(f.ovPath)
			f.files[fl.path] = fl
			f.active.Add(fl.path, fl)
			if !exempt {
				f.current++
			}
			if f.inodes > 0 {
				f.inodes -= 2 // perhaps a directory and a file, until checkDisk knows
			}
			return fl
		}
	}
	// Past max_files_total, or the file could not be created: the shared
	// overflow file, and a warning of floodgate's own now and then.
	f.ovPath = f.tmpl.appendOverflow(f.ovPath[:0], r)
	ov := f.files[string(f.ovPath)]
	if ov == nil {
		ov = &file{path: string(f.ovPath), exempt: true, last: f.tick}
		ov.overflow = ov.path
		f.files[ov.path] = ov
		f.active.Add(ov.path, ov)
	} else {
		f.touch(ov)
	}
	msgs := r.Messages()
	f.stats.Overflow.Add(msgs)
	f.ovSince += msgs
	if f.warnedAt == 0 || f.tick-f.warnedAt >= int64(overflowWarnEvery) {
		why := fmt.Sprintf("%d files are being written (max_files_total), none idle for %s (file_idle)", f.current, f.idle)
		switch {
		case f.inodes >= 0 && f.inodes < inodeReserve:
			why = "the filesystem has almost no inodes left"
		case fl != nil || f.current < f.maxFiles:
			why = "new files cannot be created"
		}
		f.warnOverflow(ov.path, why)
	}
	return ov
}

// inodeReserve is how many free inodes the output keeps for its overflow
// files and its own records: with fewer left, new sources go to the
// overflow file rather than take the last inodes for files of their own.
var inodeReserve int64 = 64 // a variable for tests

// overflowWarnEvery is how often, at most, a warning says that messages
// go to an overflow file.
const overflowWarnEvery = time.Minute

// ownApp is the app (and the host, when the machine has no name) of
// floodgate's own records.
const ownApp = "floodgate"

// EventOverflow names the warning record of floodgate's own that says
// messages of new sources go to an overflow file.
const EventOverflow = "overflow"

// warnOverflow writes a warning record of floodgate's own, under its own
// file, that messages go to the overflow file ov.
func (f *Dest) warnOverflow(ov, why string) {
	f.warnedAt = max(f.tick, 1)
	text := fmt.Sprintf("%s: %d messages of new sources went to %s since the last warning, and more will", why, f.ovSince, ov)
	f.ovSince = 0
	syslogFacility, _ := floodgate.ParseFacility("syslog")
	r := &floodgate.Record{Message: floodgate.Message{
		Time: time.Unix(0, f.tick).UTC(), Host: f.host, App: ownApp, Event: EventOverflow,
		Facility: syslogFacility, Severity: floodgate.Warning, Text: text, Syntax: floodgate.Internal, Size: len(text),
	}}
	f.stats.Warnings.Add(1)
	var path []byte
	path = f.tmpl.append(path, r)
	line := f.encoding.Append(nil, f.format, r)
	f.writeLocked(path, line, r) // dropped without a count when max_buffer is full, as any own record
}

// evictAllIdle frees every place idle for file_idle.
func (f *Dest) evictAllIdle() {
	for f.evictIdle() {
		continue
	}
}

// touch marks fl written now.
func (f *Dest) touch(fl *file) {
	if fl.last != f.tick {
		fl.last = f.tick
		f.active.Get(fl.path) // most recently written now
	}
}

// evictIdle frees the place of the least recently written file when it
// has not been written for file_idle (yesterday's {date}, a host gone
// quiet) and holds no data, and reports whether it did.
func (f *Dest) evictIdle() bool {
	_, old, ok := f.active.GetOldest()
	if !ok || f.tick-old.last < int64(f.idle) {
		return false
	}
	if len(old.buf) > 0 && !f.failing {
		f.writeOut(old) // errors are counted and logged; the data stays
	}
	if len(old.buf) > 0 {
		return false
	}
	f.closeFD(old)
	f.active.Remove(old.path)
	delete(f.files, old.path)
	if !old.exempt {
		f.current--
	}
	return true
}

// writeOutAll writes out every buffer and returns the first error: on a
// full disk every file fails alike, each failure is counted and logged by
// fail, and one error says it (errors.Join would repeat it per file).
func (f *Dest) writeOutAll() error {
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

// pathOf appends the path of r's file: the placeholders filled from r, or
// nothing for a writer.
func (f *Dest) pathOf(dst []byte, r *floodgate.Record) []byte {
	if f.w != nil {
		return dst
	}
	return f.tmpl.append(dst, r)
}

// writeOut writes fl's buffer to its file, rotating on the way when the
// file would outgrow max_size. What could not be written stays buffered.
func (f *Dest) writeOut(fl *file) error {
	if f.w != nil {
		return f.writeOutWriter(fl)
	}
	maxSize := f.opts.MaxSize
	deleted := 0
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
		f.rot.makeRoom(int64(len(chunk)))
		n, err := fl.fd.Write(chunk)
		if n > 0 && unlinked(fl.fd) {
			// The file was removed under us (rm -rf of the directory):
			// what went to it is gone. Reopen, and write it again.
			f.stats.FilesDeleted.Add(1)
			f.stats.Rewritten.Add(int64(n))
			f.log.Warn("output file removed while open: reopening it and writing again what went to it",
				logFile, fl.path, logBytes, n)
			f.closeFD(fl)
			if deleted++; deleted > 3 {
				return f.fail("write", fl, errors.New("file removed as soon as created"))
			}
			continue
		}
		if n > 0 {
			f.rot.setCurrent(fl.path, fl.size+int64(n))
			fl.size += int64(n)
			fl.midLine = chunk[n-1] != '\n'
			f.pending -= n
			f.stats.Bytes.Add(int64(n))
			f.stats.Records.Add(int64(bytes.Count(chunk[:n], newline)))
			fl.consume(n)
		}
		if err != nil {
			return f.fail("write", fl, err)
		}
	}
	return nil
}

// writeOutWriter writes fl's buffer to the one writer, keeping what could
// not be written.
func (f *Dest) writeOutWriter(fl *file) error {
	if len(fl.buf) == 0 {
		return nil
	}
	n, err := f.w.Write(fl.buf)
	if n < 0 || n > len(fl.buf) {
		n = 0
	}
	if err == nil && n < len(fl.buf) {
		err = io.ErrShortWrite
	}
	f.pending -= n
	f.stats.Bytes.Add(int64(n))
	f.stats.Records.Add(int64(bytes.Count(fl.buf[:n], newline)))
	fl.consume(n)
	if err != nil {
		return f.fail("write", fl, err)
	}
	return nil
}

var newline = []byte{'\n'}

// fail counts and logs a failed operation on fl, marks the output failing
// until the next Flush, and notes a full disk at once.
func (f *Dest) fail(op string, fl *file, err error) error {
	f.failing = true
	f.stats.WriteErrors.Add(1)
	if f.w == nil && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) {
		f.setLevel(floodgate.DiskFull)
	}
	if f.w != nil {
		f.log.Error("output write error", logOp, op, logErr, err, logBuffered, f.pending)
		return fmt.Errorf("%s output: %w", op, err)
	}
	f.log.Error("output file error", logOp, op, logFile, fl.path, logErr, err, logBuffered, f.pending)
	return fmt.Errorf("%s %s: %w", op, fl.path, err)
}

// ensureOpen opens fl's file unless it is open, closing the least recently
// used handle first when max_open_files are open.
func (f *Dest) ensureOpen(fl *file) error {
	if fl.fd != nil {
		f.open.Get(fl.path) // most recently used now
		return nil
	}
	if (f.tick < f.createAt || f.tick < fl.retryAt) && !f.closing {
		return errBackoff // a create failed lately: no system call until later
	}
	if f.open.Len() >= f.maxOpen {
		if _, old, ok := f.open.RemoveOldest(); ok {
			f.closeFile(old)
		}
	}
	if err := os.MkdirAll(filepath.Dir(fl.path), 0o755); err != nil {
		return f.createFailed("create directory for", fl, err)
	}
	fd, err := os.OpenFile(fl.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return f.createFailed("open", fl, err)
	}
	f.backoff, fl.backoff = 0, 0
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return f.fail("stat", fl, err)
	}
	fl.fd, fl.size, fl.midLine = fd, st.Size(), false
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		fl.dev, fl.ino = uint64(sys.Dev), sys.Ino
	}
	f.rot.setCurrent(fl.path, fl.size)
	f.open.Add(fl.path, fl)
	f.stats.FilesOpened.Add(1)
	return nil
}

// errBackoff is ensureOpen's error while creating files waits after a
// failure.
var errBackoff = errors.New("creating files backs off after a failure")

// Backoff of file creation after a failed mkdir or open.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// createFailed counts a failed mkdir or open, and makes opening the file
// wait, doubling the wait up to maxBackoff; when the system is out of
// space, inodes or file descriptors, creating any file waits so, so that
// a full filesystem costs a few failed system calls a second rather than
// one per file and Flush. A file that could not be created for want of
// space or inodes sends what it holds, and its later records, to the
// overflow file, which either exists already or is one file more.
func (f *Dest) createFailed(op string, fl *file, err error) error {
	fl.backoff = min(max(2*fl.backoff, minBackoff), maxBackoff)
	fl.retryAt = f.tick + int64(fl.backoff)
	full := errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
	if full || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		f.backoff = min(max(2*f.backoff, minBackoff), maxBackoff)
		f.createAt = f.tick + int64(f.backoff)
	}
	err = f.fail(op, fl, err)
	if full && fl.overflow != fl.path && fl.overflow != "" && !fl.midLine {
		f.redirectToOverflow(fl)
	}
	return err
}

// redirectToOverflow moves fl's buffer to its overflow file's, and sends
// fl's later records there too.
func (f *Dest) redirectToOverflow(fl *file) {
	ov := f.files[fl.overflow]
	if ov == nil {
		ov = &file{path: fl.overflow, overflow: fl.overflow, exempt: true, last: f.tick}
		f.files[ov.path] = ov
		f.active.Add(ov.path, ov)
	}
	base := len(ov.buf)
	ov.buf = append(ov.buf, fl.buf...)
	for _, e := range fl.extra {
		ov.extra = append(ov.extra, extraCount{end: base + e.end, n: e.n})
	}
	msgs := fl.messages()
	f.stats.Overflow.Add(msgs)
	f.ovSince += msgs
	fl.buf, fl.extra, fl.redirect = nil, nil, true
	if f.warnedAt == 0 || f.tick-f.warnedAt >= int64(overflowWarnEvery) {
		f.warnOverflow(ov.path, "a new file cannot be created for want of space or inodes")
	}
}

// unlinked reports whether fd's file has been removed from every
// directory: what is written to it is gone.
func unlinked(fd *os.File) bool {
	var st unix.Stat_t
	return unix.Fstat(int(fd.Fd()), &st) == nil && st.Nlink == 0
}

// closeFile writes out fl's buffer unless writes are failing, and closes
// its handle; the file keeps its place among the current files, closed,
// until it goes idle.
func (f *Dest) closeFile(fl *file) {
	if len(fl.buf) > 0 && !f.failing {
		f.writeOut(fl) // errors are counted and logged; the data stays
	}
	f.closeFD(fl)
	if len(fl.buf) == 0 {
		fl.buf, fl.extra = nil, nil // a closed file holds no memory
	}
}

// closeFD closes fl's handle without writing.
func (f *Dest) closeFD(fl *file) {
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
func (f *Dest) rotate(fl *file) error {
	f.closeFD(fl)
	f.seq++
	aside := fmt.Sprintf("%s.rotating-%d", fl.path, f.seq)
	if err := os.Rename(fl.path, aside); err != nil {
		return f.fail("rotate", fl, err)
	}
	f.stats.FilesRotated.Add(1)
	f.rot.add(fl.path, aside, fl.size)
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
func (f *Dest) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	return f.flushLocked()
}

func (f *Dest) flushLocked() error {
	f.failing = false
	f.tick = f.clock().UnixNano()
	if f.w == nil {
		f.evictAllIdle()
	}
	for _, fl := range f.files {
		if f.w == nil && fl.fd != nil && len(fl.buf) > 0 && fl.replaced() {
			f.closeFD(fl)
		}
	}
	if err := f.writeOutAll(); err != nil {
		return err
	}
	if f.lost.Len() == 0 {
		return nil
	}
	for _, r := range f.lost.Take() {
		sc := f.scratch.Get().(*scratch)
		sc.path = f.pathOf(sc.path[:0], &r)
		sc.line = f.encoding.Append(sc.line[:0], f.format, &r)
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
// guard and waits for the rotator to finish its work. A writer is flushed
// and left open: its owner closes it. What could not be written is counted
// in Stats.Lost, in messages, and reported in the error and the log.
func (f *Dest) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closing = true
	err := f.flushLocked() // before closed is set: it may write summaries
	f.closed = true
	var msgs, size int64
	for _, fl := range f.files {
		msgs += fl.messages()
		size += int64(len(fl.buf))
		f.closeFD(fl)
	}
	counted := f.lost.Total()
	f.mu.Unlock()

	close(f.stop)
	f.wg.Wait()
	if f.rot != nil {
		if f.rot.overTotal() {
			f.rot.prune()
		}
		f.rot.close()
	}
	if err == nil {
		return nil
	}
	f.stats.Lost.Add(msgs)
	f.log.Error("output closed with messages not written", logMessages, msgs, logBytes, size, logCounted, counted, logErr, err)
	what := "output"
	if f.w == nil {
		what += " " + f.opts.Path
	}
	return fmt.Errorf("close %s: %d buffered messages (%d bytes) and %d counted messages not written: %w", what, msgs, size, counted, err)
}
