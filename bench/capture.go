package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
)

// Source yields syslog messages to send, one per call, without framing:
// `<PRI>` followed by an RFC 3164 or RFC 5424 message. The slice is valid
// until the next call; io.EOF ends the source.
type Source interface {
	Next() ([]byte, error)
}

// maxRecord bounds one record of a capture so that a file without
// newlines cannot make the reader buffer all of it.
const maxRecord = 1 << 20

// CaptureReader reads a capture file the way `floodgate replay` does,
// record by record and mixed: RFC 6587 octet-counted frames, `<PRI>`
// lines, and bare traditional lines (rsyslog's file format, as in
// /var/log/syslog). A bare line gets PRI prepended, which makes it an RFC
// 3164 message any syslog daemon takes.
type CaptureReader struct {
	r    *bufio.Reader
	pri  []byte
	line []byte
	// Lines and Frames count what was read, for the report.
	Lines, Frames int64
}

// NewCaptureReader reads r, prefixing bare lines with `<pri>`.
func NewCaptureReader(r io.Reader, pri int) *CaptureReader {
	return &CaptureReader{
		r:   bufio.NewReaderSize(r, 256<<10),
		pri: []byte("<" + strconv.Itoa(pri) + ">"),
	}
}

// Next returns the next record as a syslog message.
func (c *CaptureReader) Next() ([]byte, error) {
	for {
		b, err := c.r.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] != '\n' && b[0] != '\r' {
			break
		}
		c.r.Discard(1)
	}
	if n, ok := c.frameLen(); ok {
		if cap(c.line) < n {
			c.line = make([]byte, n)
		}
		c.line = c.line[:n]
		if _, err := io.ReadFull(c.r, c.line); err != nil {
			return nil, fmt.Errorf("read octet-counted frame: %w", err)
		}
		c.Frames++
		return c.line, nil
	}
	c.line = c.line[:0]
	for {
		chunk, err := c.r.ReadSlice('\n')
		if len(c.line)+len(chunk) <= maxRecord {
			c.line = append(c.line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (err != io.EOF || len(c.line) == 0) {
			return nil, err
		}
		break
	}
	for len(c.line) > 0 && (c.line[len(c.line)-1] == '\n' || c.line[len(c.line)-1] == '\r') {
		c.line = c.line[:len(c.line)-1]
	}
	c.Lines++
	if len(c.line) > 0 && c.line[0] == '<' {
		return c.line, nil
	}
	// Prepend PRI in place: grow by its length and shift.
	n := len(c.line)
	c.line = append(c.line, c.pri...)
	copy(c.line[len(c.pri):], c.line[:n])
	copy(c.line, c.pri)
	return c.line, nil
}

// frameLen reports whether the reader is at an octet-counted frame
// (`LEN SP <`), consuming the length prefix if so.
func (c *CaptureReader) frameLen() (int, bool) {
	b, _ := c.r.Peek(12)
	n, i := 0, 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		i++
	}
	if i == 0 || i > 7 || i+1 >= len(b) || b[i] != ' ' || b[i+1] != '<' || n == 0 || n > maxRecord {
		return 0, false
	}
	c.r.Discard(i + 1)
	return n, true
}

var (
	_ Source = (*CaptureReader)(nil)
	_ Source = (*genSource)(nil)
	_ Source = (*multiSource)(nil)
)

// genSource renders a generator's messages as wire messages.
type genSource struct {
	g   gen.Generator
	f   gen.Format
	m   floodgate.Message
	buf []byte
}

// NewGenSource sends what g generates, rendered as f: RFC5424 or RFC3164
// (Traditional is sent as RFC3164, since a bare line has no PRI).
func NewGenSource(g gen.Generator, f gen.Format) Source {
	switch f {
	case gen.Traditional:
		f = gen.RFC3164
	case gen.OctetCounted:
		f = gen.RFC5424
	}
	return &genSource{g: g, f: f, buf: make([]byte, 0, 4096)}
}

func (s *genSource) Next() ([]byte, error) {
	if !s.g.Next(&s.m) {
		return nil, io.EOF
	}
	s.buf = gen.Append(s.buf[:0], &s.m, s.f)
	return s.buf[:len(s.buf)-1], nil // without the newline
}

// multiSource reads sources one after the other.
type multiSource struct {
	srcs []Source
}

func (m *multiSource) Next() ([]byte, error) {
	for len(m.srcs) > 0 {
		b, err := m.srcs[0].Next()
		if err == io.EOF {
			m.srcs = m.srcs[1:]
			continue
		}
		return b, err
	}
	return nil, io.EOF
}

// hostApp returns the host and app fields of a wire message, which
// decide its connection: messages of one source stay in order on one
// connection. It is a cheap scan, not a parse; what it cannot find is
// empty, which still keys consistently.
func hostApp(msg []byte) []byte {
	i := 0
	if len(msg) > 0 && msg[0] == '<' {
		for i < len(msg) && msg[i] != '>' {
			i++
		}
		i++
	}
	fields := 3 // RFC 3164: "Mmm dd hh:mm:ss" then host app
	if i+1 < len(msg) && msg[i] == '1' && msg[i+1] == ' ' {
		fields = 2 // RFC 5424: "1 TIMESTAMP" then host app
	} else if i+4 < len(msg) && msg[i] >= '0' && msg[i] <= '9' && msg[i+4] == '-' {
		fields = 1 // RFC 3339 stamp in a 3164 header
	}
	skip := func() {
		for i < len(msg) && msg[i] == ' ' {
			i++
		}
		for i < len(msg) && msg[i] != ' ' {
			i++
		}
	}
	for range fields {
		skip()
	}
	start := i
	skip() // host
	for i < len(msg) && msg[i] == ' ' {
		i++
	}
	for i < len(msg) && msg[i] != ' ' && msg[i] != '[' && msg[i] != ':' {
		i++
	}
	return msg[start:i]
}
