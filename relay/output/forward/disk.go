package forward

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// pos is a place in the disk queue: a segment and a byte offset in it.
// Segments are numbered from 1; the zero pos is nowhere.
type pos struct {
	seg uint64
	off int64
}

// diskQueue is the spill of a network output: records in order in
// numbered segment files, appended at the tail, read at the head. The
// head file names the position of the first record not yet acknowledged
// by the upstream, so that what was read but not sent is read again after
// a restart. Its owner locks it.
type diskQueue struct {
	dir     string
	max     int64 // bound on the bytes unread
	segSize int64

	segs []uint64 // segment files, ascending

	wseg  uint64 // the tail segment, appended to
	w     *os.File
	wbuf  []byte
	wsize int64 // bytes of the tail, buffered ones included

	rseg   uint64 // where the next read starts
	roff   int64
	r      *os.File
	rbuf   *bufio.Reader
	unread int64 // records
	bytes  int64 // bytes of the unread records

	committed pos // after the last record the upstream acknowledged
	saved     pos // the committed pos the head file holds

	lock *os.File // holds an exclusive flock on the directory's lock file
}

// errLocked is returned when another output or process has the queue
// directory.
var errLocked = errors.New("queue directory in use by another output or process")

const (
	segSuffix = ".q"
	headFile  = "head"
	lockFile  = "lock"
	wbufSize  = 64 << 10
)

func segName(dir string, n uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016d%s", n, segSuffix))
}

// openDisk opens the disk queue in dir, creating it, and finds what an
// earlier run left there. Writing starts in a new segment, so that a
// frame a crash cut short is never appended to.
func openDisk(dir string, limit int64) (*diskQueue, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create queue directory: %w", err)
	}
	d := &diskQueue{dir: dir, max: limit, segSize: min(max(limit/8, 64<<10), 16<<20)}
	lock, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open queue lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, errLocked)
	}
	d.lock = lock
	ok := false
	defer func() {
		if !ok {
			lock.Close() // releases the flock
		}
	}()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read queue directory: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segSuffix)
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(name, 10, 64); err == nil && n > 0 {
			d.segs = append(d.segs, n)
		}
	}
	slices.Sort(d.segs)
	head, err := readHead(dir)
	if err != nil {
		return nil, err
	}
	// Segments before the head were sent in full.
	for len(d.segs) > 0 && d.segs[0] < head.seg {
		_ = os.Remove(segName(dir, d.segs[0])) // a leftover is harmless: it is skipped again
		d.segs = d.segs[1:]
	}
	if len(d.segs) > 0 {
		d.rseg = d.segs[0]
		if d.rseg == head.seg {
			d.roff = head.off
		}
	}
	if err := d.scan(); err != nil {
		return nil, err
	}
	d.committed = pos{d.rseg, d.roff}
	d.saved = d.committed
	next := uint64(1)
	if len(d.segs) > 0 {
		next = d.segs[len(d.segs)-1] + 1
	}
	if err := d.newSegment(next); err != nil {
		return nil, err
	}
	if d.rseg == 0 {
		d.rseg, d.roff = d.wseg, 0
		d.committed = pos{d.rseg, 0}
	}
	ok = true
	return d, nil
}

func readHead(dir string) (pos, error) {
	b, err := os.ReadFile(filepath.Join(dir, headFile))
	if errors.Is(err, os.ErrNotExist) {
		return pos{}, nil
	}
	if err != nil {
		return pos{}, fmt.Errorf("read queue head: %w", err)
	}
	var p pos
	if _, err := fmt.Sscanf(string(b), "%d %d", &p.seg, &p.off); err != nil {
		return pos{}, fmt.Errorf("read queue head %q: %w", b, err)
	}
	return p, nil
}

// scan counts the records from the read position on.
func (d *diskQueue) scan() error {
	for _, n := range d.segs {
		if n < d.rseg {
			continue
		}
		off := int64(0)
		if n == d.rseg {
			off = d.roff
		}
		f, err := os.Open(segName(d.dir, n))
		if err != nil {
			return fmt.Errorf("open queue segment: %w", err)
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("seek queue segment: %w", err)
		}
		br := bufio.NewReaderSize(f, 256<<10)
		for {
			_, size, err := readFrame(br, true)
			if err != nil {
				break // the end, or what a crash left: the segment ends here
			}
			d.unread++
			d.bytes += size
		}
		f.Close()
	}
	return nil
}

// readFrame reads one frame; with skipBody it checks the frame without
// decoding it and returns a nil item.
func readFrame(br *bufio.Reader, skipBody bool) (*item, int64, error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, 0, err
	}
	n := binary.LittleEndian.Uint32(h[:])
	if n > 1<<30 {
		return nil, 0, errBadFrame
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, 0, err
	}
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, 0, errBadFrame
	}
	size := int64(frameHeader) + int64(n)
	if skipBody {
		return nil, size, nil
	}
	it, err := parseFrame(body)
	return it, size, err
}

// newSegment closes the tail and starts segment n.
func (d *diskQueue) newSegment(n uint64) error {
	if err := d.closeTail(); err != nil {
		return err
	}
	f, err := os.OpenFile(segName(d.dir, n), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("create queue segment: %w", err)
	}
	d.w, d.wseg, d.wsize = f, n, 0
	if len(d.segs) == 0 || d.segs[len(d.segs)-1] != n {
		d.segs = append(d.segs, n)
	}
	return nil
}

// closeTail writes out and closes the tail segment.
func (d *diskQueue) closeTail() error {
	if d.w == nil {
		return nil
	}
	err := d.flush()
	if cerr := d.w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close queue segment: %w", cerr)
	}
	d.w = nil
	return err
}

// flush writes the tail's buffer to its file.
func (d *diskQueue) flush() error {
	if d.w == nil || len(d.wbuf) == 0 {
		return nil
	}
	n, err := d.w.Write(d.wbuf)
	d.wbuf = d.wbuf[:copy(d.wbuf, d.wbuf[n:])]
	if err != nil {
		return fmt.Errorf("write queue segment: %w", err)
	}
	return nil
}

// room reports whether a record of n bytes of data fits under the bound.
func (d *diskQueue) room(n int) bool { return d.bytes+int64(n)+64 <= d.max }

// push appends it at the tail.
func (d *diskQueue) push(it *item) error {
	if d.w == nil {
		return errors.New("disk queue closed")
	}
	start := len(d.wbuf)
	d.wbuf = appendFrame(d.wbuf, it)
	size := int64(len(d.wbuf) - start)
	d.wsize += size
	d.unread++
	d.bytes += size
	if len(d.wbuf) >= wbufSize {
		if err := d.flush(); err != nil {
			return err
		}
	}
	if d.wsize >= d.segSize {
		return d.newSegment(d.wseg + 1)
	}
	return nil
}

// pop reads the next record, or returns nil when none is left.
func (d *diskQueue) pop() (*item, error) {
	for d.unread > 0 {
		if d.rseg == d.wseg && len(d.wbuf) > 0 {
			if err := d.flush(); err != nil {
				return nil, err
			}
		}
		if d.r == nil {
			f, err := os.Open(segName(d.dir, d.rseg))
			if err != nil {
				return nil, fmt.Errorf("open queue segment: %w", err)
			}
			if _, err := f.Seek(d.roff, io.SeekStart); err != nil {
				f.Close()
				return nil, fmt.Errorf("seek queue segment: %w", err)
			}
			d.r = f
			d.rbuf = bufio.NewReaderSize(f, 256<<10)
		}
		it, size, err := readFrame(d.rbuf, false)
		if err == nil {
			d.roff += size
			d.unread--
			d.bytes -= size
			it.disk = pos{d.rseg, d.roff}
			return it, nil
		}
		if d.rseg == d.wseg {
			return nil, fmt.Errorf("read queue tail at %d: %w", d.roff, err)
		}
		// The end of a segment, or what a crash left at its end.
		d.r.Close()
		d.r, d.rbuf = nil, nil
		i, _ := slices.BinarySearch(d.segs, d.rseg+1)
		if i == len(d.segs) {
			return nil, fmt.Errorf("queue lost its segments after %d", d.rseg)
		}
		d.rseg, d.roff = d.segs[i], 0
	}
	return nil, nil
}

// commit notes that everything up to p was acknowledged upstream.
func (d *diskQueue) commit(p pos) {
	if p.seg > d.committed.seg || (p.seg == d.committed.seg && p.off > d.committed.off) {
		d.committed = p
	}
}

// save writes the committed position to the head file and removes the
// segments before it.
func (d *diskQueue) save() error {
	if d.committed == d.saved {
		return nil
	}
	if err := writeHead(d.dir, d.committed); err != nil {
		return err
	}
	d.saved = d.committed
	for len(d.segs) > 0 && d.segs[0] < d.committed.seg {
		if err := os.Remove(segName(d.dir, d.segs[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove queue segment: %w", err)
		}
		d.segs = d.segs[1:]
	}
	return nil
}

func writeHead(dir string, p pos) error {
	tmp := filepath.Join(dir, headFile+".tmp")
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d %d\n", p.seg, p.off)), 0o640); err != nil {
		return fmt.Errorf("write queue head: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, headFile)); err != nil {
		return fmt.Errorf("write queue head: %w", err)
	}
	return nil
}

// close spills items, the records held in memory, in order ahead of
// everything unread on disk, then saves the head and closes the files.
// The bound does not apply: a shutdown loses nothing it can keep.
func (d *diskQueue) close(items []*item) error {
	defer d.lock.Close() // releases the flock
	if err := d.closeTail(); err != nil {
		return err
	}
	if d.r != nil {
		d.r.Close()
		d.r, d.rbuf = nil, nil
	}
	if len(items) == 0 {
		d.commit(pos{d.rseg, d.roff}) // nothing read is still pending
		return errors.Join(d.save(), syncDir(d.dir))
	}
	// The segment being read is rewritten as the spilled records and
	// what of it was not read yet; the segments before it go.
	var buf []byte
	for _, it := range items {
		buf = appendFrame(buf, it)
	}
	seg := d.rseg
	if d.unread > 0 {
		f, err := os.Open(segName(d.dir, seg))
		if err != nil {
			return fmt.Errorf("open queue segment: %w", err)
		}
		_, err = f.Seek(d.roff, io.SeekStart)
		if err == nil {
			var rest []byte
			rest, err = io.ReadAll(f)
			buf = append(buf, rest...)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("read queue segment: %w", err)
		}
	} else {
		seg = d.segs[len(d.segs)-1] + 1
	}
	tmp := segName(d.dir, seg) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("create queue segment: %w", err)
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, segName(d.dir, seg))
	}
	if err != nil {
		return fmt.Errorf("spill queue: %w", err)
	}
	d.committed = pos{seg, 0}
	d.saved = pos{} // force the write
	return errors.Join(d.save(), syncDir(d.dir))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync queue directory: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync queue directory: %w", err)
	}
	return nil
}
