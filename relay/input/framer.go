package input

import (
	"bytes"
	"errors"
	"io"
)

// Framing limits.
const (
	// maxOctetCount is the largest octet count ever taken as a frame
	// length, whatever the maximum message size.
	maxOctetCount = 64 << 20
	// plausibleFactor: a count up to this many times the maximum message
	// size (and at least minPlausible) is a frame too long, skipped; a
	// larger one is no count at all and the stream is resynchronised.
	plausibleFactor = 16
	minPlausible    = 1 << 20

	// maxDigits bounds the digits of an octet count (maxOctetCount has 8).
	maxDigits = 9
	// headerRoom is what a frame may need beyond its body in the buffer:
	// an octet count and its space, or a CR and the LF.
	headerRoom = maxDigits + 1 + 2
	// minBuffer is the smallest read buffer: small messages are read 64
	// KiB at a time.
	minBuffer = 64 << 10
	// maxEmptyReads is how many (0, nil) reads in a row are taken as a
	// broken reader.
	maxEmptyReads = 100
)

// errWouldRead is next's answer when a frame needs bytes not yet read and
// reading is not allowed.
var errWouldRead = errors.New("frame needs more input")

// Framer splits a byte stream into syslog messages, each frame on its own
// by how it starts, much as rsyslog's imtcp does: digits, a space and the
// '<' of a message's PRI start an RFC 6587 octet count ("123 <13>...");
// anything else is a line ended by LF or NUL, with a trailing CR trimmed.
// Capture files, stdin, and TCP and unix stream connections all use it.
//
// Memory is bounded by the maximum message size: a line longer than the
// maximum is cut at the maximum and the rest of it skipped; an
// octet-counted frame longer than the maximum, but plausibly a frame
// (a count up to 16 times the maximum, and at least 1 MiB), is delivered
// as its first bytes, for its header, marked in Oversized, and the rest is
// skipped without being buffered.
//
// A count that cannot start a frame (a sign, a leading zero, too many
// digits, a count far beyond the maximum, no '<' after its space) is
// garbage, and the Framer resynchronises: the garbage, up to the next LF
// or NUL or the next place where a frame plausibly starts ("LEN <PRI>"
// with LEN within the maximum, followed where it can be seen by the start
// of another frame), is delivered as a frame of its own (cut at the
// maximum like any line) and counted bad, and framing goes on from
// there. The rest of a line too long is skipped the same way, up to the
// next LF, NUL or frame start, so a flood of bytes without LF costs the
// frames after it nothing. A bare line such as "200 OK" that ends in LF
// is delivered as it is.
//
// Every byte is thus delivered or counted: Stats counts truncated lines,
// skipped oversize frames, bad frames and the bytes skipped.
// Empty frames (blank lines) are dropped.
//
// Frames are slices of the Framer's buffer: steady state reads allocate
// nothing. A Framer is not safe for concurrent use.
type Framer struct {
	rd    io.Reader
	buf   []byte
	r, w  int // buffered, unframed input is buf[r:w]
	max   int
	limit int // the buffer never grows beyond this

	// mode is what the frame at r is: undecided, a line, or garbage
	// after a bad count, to be resynchronised.
	mode int
	// scanned is how much of a pending line at r has been searched for
	// its terminator already, and bscanned for a frame start, so a line
	// arriving byte by byte costs linear time.
	scanned, bscanned int
	// from is where a frame start may begin in a line: past the bad
	// count of a garbage frame, and never at the line's first byte.
	from int
	// skip is the number of bytes of an oversize octet-counted frame
	// still to discard.
	skip int
	// skipLine is set while the rest of a truncated line is discarded.
	skipLine bool
	// err is the sticky read error, returned once buffered input is
	// framed.
	err error
	// done counts the frames finished, delivered or skipped, so that a
	// reader can tell one pending frame from the next.
	done uint64

	stats *Stats
	// oversize is the length of the oversize frame whose first bytes
	// next just returned, else 0; over lists those of the last ReadBatch.
	oversize int
	over     []Oversize
}

// Oversize is an octet-counted frame longer than the maximum message size
// but plausibly a frame: it is delivered as its first bytes (at most
// oversizeStub and the maximum, cut at a space), for its header, and the
// rest is skipped
// unread. Frame is its index in the batch, Size the length its count
// gave.
type Oversize struct {
	Frame, Size int
}

// oversizeStub is how much of an oversize frame is delivered: enough for
// any syslog header.
const oversizeStub = 1024

// Framing modes of the frame at the read position.
const (
	modeHead   = iota // not decided yet
	modeLine          // a line, ended by LF or NUL
	modeResync        // garbage after a bad count
)

// NewFramer returns a Framer reading r with messages of at most maxSize
// bytes (DefaultOptions' MaxMessageSize when maxSize <= 0).
func NewFramer(r io.Reader, maxSize int) *Framer {
	if maxSize <= 0 {
		maxSize = DefaultOptions().MaxMessageSize
	}
	limit := maxSize + headerRoom
	return &Framer{
		rd: r,
		// A large maximum costs memory only while a frame that large
		// is read: the buffer starts at 64 KiB and doubles as needed.
		buf:   make([]byte, max(minBuffer, min(limit, minBuffer+headerRoom))),
		max:   maxSize,
		limit: max(limit, minBuffer),
		stats: new(Stats),
	}
}

// SetStats makes the Framer count truncated lines, skipped oversize frames
// and bad frames into s. Messages and bytes are counted by whoever
// delivers the frames.
func (f *Framer) SetStats(s *Stats) {
	if s != nil {
		f.stats = s
	}
}

// Next returns the next frame, reading as needed. The frame is valid until
// the following call to Next or ReadBatch. At the end of the input it
// returns io.EOF; a read error is returned once the frames before it are
// out. Input left at the end is a frame of its own: a last line without
// its LF, or what arrived of an octet-counted frame (counted bad).
func (f *Framer) Next() ([]byte, error) {
	return f.next(true)
}

// ReadBatch appends to dst the next frame, reading as needed, and then at
// most limit-1 more frames that are already buffered. The frames are valid
// until the following call to Next or ReadBatch. It returns an error only
// when it has no frame to append.
func (f *Framer) ReadBatch(dst [][]byte, limit int) ([][]byte, error) {
	f.over = f.over[:0]
	frame, err := f.next(true)
	if err != nil {
		return dst, err
	}
	dst = f.appendFrame(dst, frame)
	for n := 1; n < limit; n++ {
		frame, err := f.next(false)
		if err != nil {
			break
		}
		dst = f.appendFrame(dst, frame)
	}
	return dst, nil
}

func (f *Framer) appendFrame(dst [][]byte, frame []byte) [][]byte {
	if f.oversize > 0 {
		f.over = append(f.over, Oversize{Frame: len(dst), Size: f.oversize})
	}
	return append(dst, frame)
}

// Oversized returns the oversize frames of the last ReadBatch, by their
// index in the slice it appended to (when it was empty); valid until the
// next ReadBatch.
func (f *Framer) Oversized() []Oversize { return f.over }

// pending reports whether the Framer is in the middle of a frame: it holds
// part of one, or is discarding the rest of one.
func (f *Framer) pending() bool {
	return f.r < f.w || f.skip > 0 || f.skipLine
}

// next frames buffered input, reading more only when mayRead is set.
func (f *Framer) next(mayRead bool) ([]byte, error) {
	f.oversize = 0
	for {
		if f.skip > 0 {
			n := min(f.skip, f.w-f.r)
			f.r += n
			f.skip -= n
			f.stats.SkippedBytes.Add(uint64(n))
			if f.skip == 0 {
				f.done++
			}
			if f.skip > 0 {
				if err := f.more(mayRead); err != nil {
					return nil, err
				}
				continue
			}
		}
		if f.skipLine && !f.skipRest() {
			if err := f.more(mayRead); err != nil {
				return nil, err
			}
			continue
		}
		if f.r < f.w {
			frame, ok := f.frame(f.err != nil)
			if ok {
				f.done++
				if len(frame) == 0 {
					continue
				}
				return frame, nil
			}
		}
		if err := f.more(mayRead); err != nil {
			return nil, err
		}
	}
}

// skipRest discards the rest of a truncated line up to its LF or NUL, or
// up to a frame start, whichever comes first; it reports whether it got
// there.
func (f *Framer) skipRest() bool {
	data := f.buf[f.r:f.w]
	lim := len(data)
	end := indexTerm(data)
	if end >= 0 {
		lim = end
	}
	j, pending := f.boundary(data, 0, 0, lim)
	switch {
	case j >= 0:
		f.discard(j)
	case end >= 0:
		f.discard(end + 1)
	case pending >= 0 && f.err == nil:
		// What may start a frame stays for the next read to decide.
		f.discard(pending)
		return false
	default:
		f.discard(len(data))
		return false
	}
	f.skipLine = false
	return true
}

// discard drops n buffered bytes, counted as skipped.
func (f *Framer) discard(n int) {
	f.r += n
	f.stats.SkippedBytes.Add(uint64(n))
}

// more reads more input into the buffer, or says why it cannot.
func (f *Framer) more(mayRead bool) error {
	if f.err != nil {
		if f.r == f.w {
			f.r, f.w = 0, 0
		}
		return f.err
	}
	if !mayRead {
		return errWouldRead
	}
	if f.r == f.w {
		f.r, f.w = 0, 0
	} else if f.r > 0 {
		// The pending frame spans the end of what was read: move it to
		// the front (the only copy a frame ever needs).
		f.w = copy(f.buf, f.buf[f.r:f.w])
		f.r = 0
	}
	if f.w == len(f.buf) {
		// Only a frame longer than the buffer gets here; frame() decides
		// every frame within limit bytes.
		nb := make([]byte, min(2*len(f.buf), f.limit))
		copy(nb, f.buf[:f.w])
		f.buf = nb
	}
	for range maxEmptyReads {
		n, err := f.rd.Read(f.buf[f.w:])
		f.w += n
		if err != nil {
			f.err = err
			return nil
		}
		if n > 0 {
			return nil
		}
	}
	f.err = io.ErrNoProgress
	return nil
}

// What a frame's first bytes say it is (head).
const (
	headMore     = iota // undecided until more input comes
	headFrame           // an octet-counted frame within the maximum
	headOversize        // a plausible octet-counted frame over the maximum
	headBad             // a count that cannot start a frame: garbage
	headLine            // a line
)

// frame takes the frame at buf[r:w] (not empty) if it is complete, or if
// atEOF, whatever there is of it. An empty frame with ok set means the
// input was consumed without a frame to show (skipped).
func (f *Framer) frame(atEOF bool) (frame []byte, ok bool) {
	data := f.buf[f.r:f.w]
	if f.mode == modeHead {
		kind, n, h := f.head(data)
		switch kind {
		case headMore:
			if !atEOF {
				return nil, false
			}
			// The stream ended inside what looked like a count.
			f.stats.BadFrames.Add(1)
			f.mode, f.from = modeLine, 1
		case headFrame:
			if len(data) >= h+n {
				f.r += h + n
				return trimLF(data[h : h+n]), true
			}
			if !atEOF {
				return nil, false
			}
			// The stream ended inside the frame: keep what came.
			f.stats.BadFrames.Add(1)
			f.r = f.w
			return data[h:], true
		case headOversize:
			// Its first bytes are delivered, marked oversize, for the
			// relay to count the frame under its source; the rest is
			// skipped unread.
			want := min(n, oversizeStub, f.max)
			if len(data)-h < want && !atEOF {
				return nil, false // the header is still coming
			}
			f.stats.OversizeSkipped.Add(1)
			stub := data[h:]
			stub = stub[:min(len(stub), want)]
			if len(stub) < n {
				// Cut at a space, so that the header's last word is
				// whole or absent.
				if i := bytes.LastIndexByte(stub, ' '); i > 0 {
					stub = stub[:i]
				}
			}
			f.r += h + len(stub)
			f.skip = n - len(stub)
			f.oversize = n
			return stub, true
		case headBad:
			f.stats.BadFrames.Add(1)
			f.mode, f.from = modeResync, h
		default:
			f.mode, f.from = modeLine, 1
		}
	}
	return f.line(data, atEOF)
}

// head decides what the frame at the start of data is. For a frame it
// returns the count n and the header's length h; for garbage, in h, where
// the bad count ends.
func (f *Framer) head(data []byte) (kind, n, h int) {
	c := data[0]
	signed := c == '+' || c == '-'
	if !signed && !isDigit(c) {
		return headLine, 0, 0
	}
	start := 0
	if signed {
		start = 1
	}
	run := start
	for run < len(data) && isDigit(data[run]) {
		if run-start == maxDigits {
			// Too many digits for a count, whatever follows them.
			if signed {
				return headLine, 0, 0
			}
			return headBad, 0, run
		}
		n = n*10 + int(data[run]-'0')
		run++
	}
	digits := run - start
	if run == len(data) {
		return headMore, 0, 0
	}
	if data[run] != ' ' || digits == 0 {
		// "2026-11-27 boot", "12:00", "-- a line": a line, and nothing
		// wrong with it.
		return headLine, 0, 0
	}
	h = run + 1
	if h == len(data) {
		return headMore, 0, 0
	}
	if signed {
		if h < len(data) && data[h] == '<' {
			return headBad, 0, h // "-5 <13>..."
		}
		return headLine, 0, 0 // "-1 is the answer"
	}
	if data[0] == '0' {
		return headBad, 0, h
	}
	if data[h] != '<' {
		// Every syslog message starts with its <PRI>: a count followed
		// by anything else is no count ("200 OK" in a capture).
		return headBad, 0, h
	}
	switch {
	case n > f.plausible():
		return headBad, 0, h
	case n > f.max:
		return headOversize, n, h
	}
	return headFrame, n, h
}

// plausible is the largest count taken for a frame, skipped when over the
// maximum; beyond it a count is garbage.
func (f *Framer) plausible() int {
	return min(maxOctetCount, max(plausibleFactor*f.max, minPlausible))
}

// line frames a line, or the garbage after a bad count, at the start of
// data.
func (f *Framer) line(data []byte, atEOF bool) ([]byte, bool) {
	// Searching max+2 bytes is enough to know whether the line, without
	// a trailing CR, fits.
	window := data[:min(len(data), f.max+2)]
	end := -1
	if i := indexTerm(window[f.scanned:]); i >= 0 {
		end = f.scanned + i
	} else {
		f.scanned = len(window)
	}
	full := end < 0 && len(data) >= f.max+2
	if f.mode == modeResync || full {
		// Garbage ends where a frame starts; so does a line too long,
		// which may be garbage that never ends in LF.
		lim := len(window)
		if end >= 0 {
			lim = end
		}
		j, pending := f.boundary(data, f.from, max(f.from, f.bscanned), lim)
		switch {
		case j >= 0:
			return f.cut(data, j), true
		case pending >= 0 && full:
			return f.cut(data, pending), true
		case pending >= 0 && !atEOF:
			f.bscanned = pending
			return nil, false
		}
		f.bscanned = max(f.from, lim-1)
	}
	if end >= 0 {
		f.r += end + 1
		f.reset()
		line := trimCR(data[:end])
		if len(line) > f.max {
			f.stats.Truncated.Add(1)
			f.stats.SkippedBytes.Add(uint64(len(line) - f.max))
			line = line[:f.max]
		}
		return line, true
	}
	if full {
		// Too long: the first max bytes are the message, the rest of
		// the line is skipped.
		f.stats.Truncated.Add(1)
		f.r += f.max
		f.reset()
		f.skipLine = true
		return data[:f.max], true
	}
	if !atEOF {
		return nil, false
	}
	f.r = f.w
	f.reset()
	line := trimCR(data)
	if len(line) > f.max {
		f.stats.Truncated.Add(1)
		f.stats.SkippedBytes.Add(uint64(len(line) - f.max))
		line = line[:f.max]
	}
	return line, true
}

// cut ends the line or garbage at the start of data where a frame starts,
// at j, and returns it, cut at the maximum.
func (f *Framer) cut(data []byte, j int) []byte {
	if f.mode == modeLine {
		// A line that ended without its LF: the stream is no LF
		// stream here.
		f.stats.BadFrames.Add(1)
	}
	f.r += j
	f.reset()
	frame := data[:j]
	if len(frame) > f.max {
		f.stats.Truncated.Add(1)
		f.stats.SkippedBytes.Add(uint64(len(frame) - f.max))
		frame = frame[:f.max]
	}
	return frame
}

// reset readies the Framer for a new frame at r.
func (f *Framer) reset() {
	f.mode, f.scanned, f.bscanned, f.from = modeHead, 0, 0, 0
}

// spaceLT is what separates an octet count from its message.
var spaceLT = []byte(" <")

// boundary looks in data for the first place where an octet-counted frame
// plausibly starts: a count of at most the maximum without a leading zero,
// a space, a complete <PRI>, and, where those bytes have arrived, the
// start of another frame (or an LF) right after the frame, which it waits
// for while the stream goes on and the buffer has room. The count
// begins at lo or later and before lim, its space at k or later. It
// returns the place, or -1 and the place from which more input could
// still complete a frame start (-1 for none).
func (f *Framer) boundary(data []byte, lo, k, lim int) (j, pending int) {
	// A count that starts before lim has its space within maxDigits.
	hi := min(len(data), lim+maxDigits+1)
	for k < hi {
		i := bytes.Index(data[k:hi], spaceLT)
		if i < 0 {
			break
		}
		sp := k + i
		k = sp + 1
		s := sp
		for s > lo && sp-s < maxDigits && isDigit(data[s-1]) {
			s--
		}
		if s == sp || s >= lim || inRun(data, s, lo) {
			continue
		}
		p := priLen(data[sp+1:])
		if p < 0 {
			continue
		}
		if p == 0 {
			return -1, s // the <PRI> is still coming
		}
		// The longest count first: "...took 557 <13>" may be a frame of
		// 557 bytes or, after a message ending in "5", one of 57.
		for ; s < sp; s++ {
			if data[s] == '0' {
				continue
			}
			n := atoi(data[s:sp])
			if n > f.max {
				continue
			}
			e := sp + 1 + n
			if e < len(data) {
				if !frameStart(data[e]) {
					continue
				}
				return s, -1
			}
			if f.err != nil || e >= f.limit {
				// Nothing more will come to check it against, or
				// the buffer cannot wait for it: take it.
				return s, -1
			}
			return -1, s
		}
	}
	if hi < len(data) {
		return -1, -1
	}
	// Digits, or digits and a space, at the end may be a count.
	t := hi
	if t > lo && data[t-1] == ' ' {
		t--
	}
	s := t
	for s > lo && t-s < maxDigits && isDigit(data[s-1]) {
		s--
	}
	if s < t && s < lim && !inRun(data, s, lo) {
		return -1, s
	}
	return -1, -1
}

// inRun reports whether the digits from s run on before lo, into the bad
// count a resynchronisation starts after: none of them starts a frame.
func inRun(data []byte, s, lo int) bool {
	return s == lo && lo > 0 && isDigit(data[lo-1])
}

// priLen returns the length of the <PRI> at the start of b, 0 when b ends
// before it does, or -1 when b does not start with one.
func priLen(b []byte) int {
	for i, c := range b {
		switch {
		case i == 0:
			if c != '<' {
				return -1
			}
		case isDigit(c) && i <= 3:
		case c == '>' && i > 1:
			if atoi(b[1:i]) > 191 {
				return -1
			}
			return i + 1
		default:
			return -1
		}
	}
	return 0
}

// frameStart reports whether c may begin the frame after an octet-counted
// one: a count, a <PRI>, or a line end.
func frameStart(c byte) bool {
	return ('1' <= c && c <= '9') || c == '<' || c == '\n' || c == '\r' || c == 0
}

// atoi reads the decimal digits of b, which are few enough not to
// overflow.
func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// indexTerm returns the index of the first LF or NUL in b, or -1.
func indexTerm(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.IndexByte(b, 0)
	}
	if j := bytes.IndexByte(b[:i], 0); j >= 0 {
		return j
	}
	return i
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// trimLF drops the LF (or CRLF) some senders put at the end of an
// octet-counted frame.
func trimLF(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return trimCR(b[:n-1])
	}
	return b
}
