package input

import (
	"bytes"
	"errors"
	"io"
)

// Framing limits.
const (
	// DefaultMaxSize is the maximum message size used when none is given.
	DefaultMaxSize = 64 << 10
	// MaxOctetCount is the largest octet count taken as a frame length.
	// A larger count is absurd (no sender writes gigabyte messages): the
	// frame is read as an LF line and counted as a bad frame, rather than
	// discarding that much of the stream.
	MaxOctetCount = 64 << 20

	// maxDigits bounds the digits of an octet count (MaxOctetCount has 8).
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
// octet-counted frame longer than the maximum is skipped without being
// buffered; a count that is not followed by a space and '<', starts with
// 0 or is absurd (over MaxOctetCount) makes the frame an LF line, so a
// bare line such as "200 OK" is never cut by length. The stream carries
// on after each of them, and each is counted in the Stats given to
// SetStats. Empty frames (blank lines) are skipped.
//
// Frames are slices of the Framer's buffer: steady state reads allocate
// nothing. A Framer is not safe for concurrent use.
type Framer struct {
	rd    io.Reader
	buf   []byte
	r, w  int // buffered, unframed input is buf[r:w]
	max   int
	limit int // the buffer never grows beyond this

	// scanned is how much of a pending line at r has been searched for
	// its terminator already, so a line arriving byte by byte costs
	// linear time.
	scanned int
	// line is set when the frame at r starts with a digit but is a line
	// (bad octet count, counted once).
	line bool
	// skip is the number of bytes of an oversize octet-counted frame
	// still to discard.
	skip int
	// skipLine is set while the rest of a truncated line is discarded.
	skipLine bool
	// err is the sticky read error, returned once buffered input is
	// framed.
	err error

	stats *Stats
}

// NewFramer returns a Framer reading r with messages of at most maxSize
// bytes (DefaultMaxSize when maxSize <= 0).
func NewFramer(r io.Reader, maxSize int) *Framer {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
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

// Buffered returns the next frame if it can be framed from input already
// read, without reading; frames returned earlier stay valid. It lets a
// reader collect every complete frame it holds into one batch.
func (f *Framer) Buffered() ([]byte, bool) {
	frame, err := f.next(false)
	return frame, err == nil
}

// ReadBatch appends to dst the next frame, reading as needed, and then at
// most limit-1 more frames that are already buffered. The frames are valid
// until the following call to Next or ReadBatch. It returns an error only
// when it has no frame to append.
func (f *Framer) ReadBatch(dst [][]byte, limit int) ([][]byte, error) {
	frame, err := f.next(true)
	if err != nil {
		return dst, err
	}
	dst = append(dst, frame)
	for n := 1; n < limit; n++ {
		frame, err := f.next(false)
		if err != nil {
			break
		}
		dst = append(dst, frame)
	}
	return dst, nil
}

// next frames buffered input, reading more only when mayRead is set.
func (f *Framer) next(mayRead bool) ([]byte, error) {
	for {
		if f.skip > 0 {
			n := min(f.skip, f.w-f.r)
			f.r += n
			f.skip -= n
			if f.skip > 0 {
				if err := f.more(mayRead); err != nil {
					return nil, err
				}
				continue
			}
		}
		if f.skipLine {
			i := indexTerm(f.buf[f.r:f.w])
			if i < 0 {
				f.r = f.w
				if err := f.more(mayRead); err != nil {
					return nil, err
				}
				continue
			}
			f.r += i + 1
			f.skipLine = false
		}
		if f.r < f.w {
			frame, ok := f.frame(f.err != nil)
			if ok {
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

// frame takes the frame at buf[r:w] (not empty) if it is complete, or if
// atEOF, whatever there is of it. An empty frame with ok set means the
// input was consumed without a frame to show (skipped).
func (f *Framer) frame(atEOF bool) (frame []byte, ok bool) {
	data := f.buf[f.r:f.w]
	if !f.line && isDigit(data[0]) {
		n, h, st := octetCount(data)
		switch st {
		case countOK:
			if n > f.max {
				f.stats.OversizeSkipped.Add(1)
				f.r += h
				f.skip = n
				return nil, true
			}
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
		case countMore:
			if !atEOF {
				return nil, false
			}
		}
		// Not a count: the frame is a line, garbage kept as it came.
		if st != countLine {
			f.stats.BadFrames.Add(1)
		}
		f.line = true
	}

	// A line: up to LF or NUL. Searching max+2 bytes is enough to know
	// whether the line, without a trailing CR, fits.
	window := data[:min(len(data), f.max+2)]
	if i := indexTerm(window[f.scanned:]); i >= 0 {
		i += f.scanned
		f.r += i + 1
		f.scanned, f.line = 0, false
		line := trimCR(data[:i])
		if len(line) > f.max {
			f.stats.Truncated.Add(1)
			line = line[:f.max]
		}
		return line, true
	}
	f.scanned = len(window)
	if len(data) >= f.max+2 {
		// Too long: the first max bytes are the message, the rest of
		// the line is skipped.
		f.stats.Truncated.Add(1)
		f.r += f.max
		f.scanned, f.line, f.skipLine = 0, false, true
		return data[:f.max], true
	}
	if !atEOF {
		return nil, false
	}
	f.r = f.w
	f.scanned, f.line = 0, false
	line := trimCR(data)
	if len(line) > f.max {
		f.stats.Truncated.Add(1)
		line = line[:f.max]
	}
	return line, true
}

// Results of octetCount.
const (
	countOK = iota
	countMore
	countBad
	// countLine: digits followed by something else than a space, such as
	// an ISO timestamp at the start of a capture line: a line, and
	// nothing wrong with it.
	countLine
)

// octetCount reads an RFC 6587 MSG-LEN and its space at the start of data
// (which starts with a digit): the count n, the header length h, and
// whether it is a count at all or needs more input to tell. A count is
// taken only when the message after it starts with '<', as every RFC 6587
// frame does.
func octetCount(data []byte) (n, h, status int) {
	if data[0] == '0' {
		return 0, 0, countBad
	}
	for i, c := range data {
		switch {
		case isDigit(c):
			if i == maxDigits {
				return 0, 0, countBad
			}
			n = n*10 + int(c-'0')
		case c == ' ' && n <= MaxOctetCount:
			// Every syslog message starts with its <PRI>: a count
			// followed by anything else is the start of a line
			// ("200 OK" in a capture), not a frame to cut by length.
			switch {
			case i+1 == len(data):
				return 0, 0, countMore
			case data[i+1] != '<':
				return 0, 0, countBad
			}
			return n, i + 1, countOK
		case c == ' ':
			return 0, 0, countBad // a count, but an absurd one
		default:
			return 0, 0, countLine
		}
	}
	return 0, 0, countMore
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
