package input

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// FuzzFrame checks the framer's properties on any input: it never panics,
// never returns a frame longer than the maximum, never holds more than
// the maximum plus a header in memory, and never makes up bytes. Then it
// reads the input as a list of messages (split at 0xff), writes them with
// octet counting (with a '<' put first where missing) or LF, and checks
// that they come back identical.
func FuzzFrame(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/framer/*/input.log")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(64), uint8(0))
	}
	f.Add([]byte("5 <13>a3 xyz\n2026 x\n\x00\r\n"), uint16(16), uint8(0x55))
	f.Add([]byte("0123456789abcdefXYZ\nok\xff17 x"), uint16(16), uint8(0xaa))
	f.Fuzz(func(t *testing.T, data []byte, max16 uint16, choice uint8) {
		max := 1 + int(max16)%300

		// Any input.
		fr := NewFramer(&chunkReader{r: bytes.NewReader(data), n: 1 + int(choice)%13}, max)
		total := 0
		for {
			frame, err := fr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if len(frame) == 0 || len(frame) > max {
				t.Fatalf("frame of %d bytes, max %d", len(frame), max)
			}
			total += len(frame)
			if total > len(data) {
				t.Fatalf("%d bytes of frames from %d bytes of input", total, len(data))
			}
			if len(fr.buf) > fr.limit {
				t.Fatalf("buffer of %d bytes, limit %d", len(fr.buf), fr.limit)
			}
		}

		// Round trip.
		var want [][]byte
		var stream []byte
		for i, msg := range bytes.Split(data, []byte{0xff}) {
			line := choice&(1<<(i%8)) != 0
			if !line && (len(msg) == 0 || msg[0] != '<') {
				// An octet-counted frame carries a syslog message,
				// which starts with its <PRI>.
				msg = append([]byte{'<'}, msg...)
			}
			msg = msg[:min(len(msg), max)]
			for len(msg) > 0 && msg[len(msg)-1] == '\n' {
				msg = msg[:len(msg)-1]
			}
			if len(msg) == 0 || (!line && msg[0] != '<') {
				continue
			}
			if line && !lineSafe(msg) {
				if msg[0] != '<' {
					continue
				}
				line = false
			}
			want = append(want, msg)
			if line {
				stream = append(stream, msg...)
				stream = append(stream, '\n')
			} else {
				stream = strconv.AppendInt(stream, int64(len(msg)), 10)
				stream = append(stream, ' ')
				stream = append(stream, msg...)
			}
		}
		for _, rd := range readers {
			var st Stats
			fr := NewFramer(rd.wrap(bytes.NewReader(stream)), max)
			fr.SetStats(&st)
			for i := 0; ; i++ {
				frame, err := fr.Next()
				if errors.Is(err, io.EOF) {
					if i != len(want) {
						t.Fatalf("%s: %d frames back, want %d", rd.name, i, len(want))
					}
					break
				}
				if err != nil {
					t.Fatalf("%s: Next: %v", rd.name, err)
				}
				if i >= len(want) || !bytes.Equal(frame, want[i]) {
					t.Fatalf("%s: frame %d = %q, want one of %q", rd.name, i, frame, want)
				}
			}
			if c := st.Snapshot(); c != (Counts{}) {
				t.Fatalf("%s: counts %+v for well-formed input", rd.name, c)
			}
		}
	})
}

// lineSafe reports whether msg survives LF framing as it is, uncounted: a
// line that starts like an octet count, signed ("-5 <13>...") or not, is
// framed as one, or counted as a bad one.
func lineSafe(msg []byte) bool {
	return !isDigit(msg[0]) && !signedCount.Match(msg) &&
		msg[len(msg)-1] != '\r' && bytes.IndexByte(msg, '\n') < 0 && bytes.IndexByte(msg, 0) < 0
}

var signedCount = regexp.MustCompile(`^[+-][0-9]+ <`)
