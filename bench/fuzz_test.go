package bench

import (
	"bytes"
	"io"
	"testing"

	"github.com/floodgate/floodgate/bench/gen"
)

// FuzzCaptureReader feeds arbitrary captures to the reader: it must not
// panic or loop, every record it returns is a syslog message (starts with
// '<'), and it never returns more bytes than it read plus one PRI per
// record.
func FuzzCaptureReader(f *testing.F) {
	for _, fm := range []gen.Format{gen.Traditional, gen.RFC3164, gen.RFC5424, gen.OctetCounted} {
		var b bytes.Buffer
		gen.Write(&b, gen.NewMix(1, 20), fm)
		f.Add(b.Bytes())
	}
	f.Add([]byte("12 <13>1 - - a\n\n\r\n9999999 <x"))
	f.Add([]byte("0 <\n1 <"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewCaptureReader(bytes.NewReader(data), 30)
		var out int
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatalf("more records (%d) than input bytes (%d)", n, len(data))
			}
			rec, err := r.Next()
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !bytes.Contains([]byte(err.Error()), []byte("frame")) {
					t.Fatalf("Next: %v", err)
				}
				break
			}
			if len(rec) == 0 || rec[0] != '<' {
				t.Fatalf("record %q does not start with <", rec)
			}
			out += len(rec) - len("<30>")
		}
		if out > len(data) {
			t.Errorf("returned %d bytes of text from %d of input", out, len(data))
		}
	})
}
