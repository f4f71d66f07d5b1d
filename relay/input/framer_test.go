package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/floodgate/floodgate/internal/golden"
)

// readers gives the same input in the ways a socket may: all at once, a
// byte at a time, and in odd chunks that split frames anywhere.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{name: "whole", wrap: func(r io.Reader) io.Reader { return r }},
	{name: "bytes", wrap: iotest.OneByteReader},
	{name: "chunks7", wrap: func(r io.Reader) io.Reader { return &chunkReader{r: r, n: 7} }},
	{name: "halfreads", wrap: iotest.HalfReader},
}

// chunkReader returns at most n bytes per read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), c.n)])
}

// frameAll returns every frame of in, copied, and the counts of the
// framing problems met.
func frameAll(t testing.TB, r io.Reader, max int) ([]string, Counts) {
	t.Helper()
	var st Stats
	f := NewFramer(r, max)
	f.SetStats(&st)
	var got []string
	for {
		frame, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, string(frame))
	}
	return got, st.Snapshot()
}

func TestFramer(t *testing.T) {
	const max = 16
	tests := []struct {
		name string
		in   string
		want []string
		// truncated, skipped, bad
		truncated, skipped, bad uint64
	}{
		{name: "lf lines", in: "<13>one\n<13>two\n", want: []string{"<13>one", "<13>two"}},
		{name: "crlf", in: "a\r\nb\r\n", want: []string{"a", "b"}},
		{name: "nul terminated", in: "a\x00b\x00", want: []string{"a", "b"}},
		{name: "nul and lf mixed", in: "a\x00b\nc", want: []string{"a", "b", "c"}},
		{name: "last line without lf", in: "a\nlast", want: []string{"a", "last"}},
		{name: "empty lines skipped", in: "\n\r\n\x00a\n\n", want: []string{"a"}},
		{name: "octet", in: "5 <13>a4 <xyz", want: []string{"<13>a", "<xyz"}},
		{name: "octet with embedded lf", in: "8 <a\nb\x00c\rd", want: []string{"<a\nb\x00c\rd"}},
		{name: "octet trailing lf trimmed", in: "5 <abc\n6 <abc\r\n", want: []string{"<abc", "<abc"}},
		{name: "octet then lf between frames", in: "4 <abc\n4 <def\n", want: []string{"<abc", "<def"}},
		{name: "mixed octet and lines", in: "4 <abc<14>line\n3 <xy\nnext\n", want: []string{"<abc", "<14>line", "<xy", "next"}},
		{name: "octet exactly max", in: "16 <123456789abcdefok\n", want: []string{"<123456789abcdef", "ok"}},
		{name: "lf exactly max with crlf", in: "ABCDEFGHIJKLMNOP\r\nok\n", want: []string{"ABCDEFGHIJKLMNOP", "ok"}},
		{name: "garbage bytes", in: "\xff\xfe\x01\x02\n", want: []string{"\xff\xfe\x01\x02"}},
		{name: "invalid utf8 kept", in: "<13>caf\xc3\x28 \xed\xa0\x80\n", want: []string{"<13>caf\xc3\x28 \xed\xa0\x80"}},

		{name: "oversize lf truncated then good", in: "ABCDEFGHIJKLMNOPXYZ rest of it\ngood\n",
			want: []string{"ABCDEFGHIJKLMNOP", "good"}, truncated: 1},
		{name: "oversize lf by one", in: "ABCDEFGHIJKLMNOPX\ngood\n",
			want: []string{"ABCDEFGHIJKLMNOP", "good"}, truncated: 1},
		{name: "oversize last line", in: "good\nABCDEFGHIJKLMNOPXY",
			want: []string{"good", "ABCDEFGHIJKLMNOP"}, truncated: 1},
		// An oversize frame is delivered as its first bytes (cut at the
		// maximum here), for its header; the rest is skipped.
		{name: "oversize octet skipped then good", in: "20 <123456789abcdefghij5 <good",
			want: []string{"<123456789abcdef", "<good"}, skipped: 1},
		{name: "oversize octet then lf line", in: "17 <123456789abcdefgnext\n",
			want: []string{"<123456789abcdef", "next"}, skipped: 1},
		{name: "oversize octet cut at a space", in: "20 <13>a b c d e f g h!5 <good",
			want: []string{"<13>a b c d e f", "<good"}, skipped: 1},
		{name: "oversize octet cut by eof", in: "a\n100 <0123",
			want: []string{"a", "<0123"}, skipped: 1},

		// A line that starts with digits, such as an ISO timestamp, is a
		// line and nothing bad.
		{name: "digits without space", in: "2026-11-27 boot\nok\n",
			want: []string{"2026-11-27 boot", "ok"}, bad: 0},
		{name: "count without pri", in: "200 OK\n3 <ab\n1 2 3\n",
			want: []string{"200 OK", "<ab", "1 2 3"}, bad: 2},
		{name: "leading zero count", in: "05 <hello\n", want: []string{"05 <hello"}, bad: 1},
		{name: "absurd count", in: "999999999 <x\n4 <abc", want: []string{"999999999 <x", "<abc"}, bad: 1},
		{name: "too many digits", in: "12345678901 <x\n", want: []string{"12345678901 <x"}, bad: 1},
		{name: "bad count oversize", in: "12:00:00 a very long line here\nok\n",
			want: []string{"12:00:00 a very ", "ok"}, bad: 0, truncated: 1},
		{name: "digits at eof", in: "a\n42", want: []string{"a", "42"}, bad: 1},
		{name: "count and space at eof", in: "a\n42 ", want: []string{"a", "42 "}, bad: 1},
		{name: "octet cut by eof kept", in: "10 <abc", want: []string{"<abc"}, bad: 1},
		{name: "empty octet frame", in: "2 <\n3 <ab", want: []string{"<", "<ab"}},

		// After a count that cannot start a frame, the garbage ends where
		// the next frame plausibly starts, not at an LF that may never
		// come.
		{name: "resync after signed count", in: "-5 <13>abc6 <13>ok6 <13>ok",
			want: []string{"-5 <13>abc", "<13>ok", "<13>ok"}, bad: 1},
		{name: "resync after leading zero", in: "05 <13>x6 <13>ok",
			want: []string{"05 <13>x", "<13>ok"}, bad: 1},
		{name: "resync after absurd count", in: "67108864 <13>abc6 <13>ok6 <13>ok",
			want: []string{"67108864 <13>abc", "<13>ok", "<13>ok"}, bad: 1},
		{name: "resync after count without pri", in: "7 hello 6 <13>ok",
			want: []string{"7 hello ", "<13>ok"}, bad: 1},
		{name: "resync needs a whole pri", in: "-5 <1 <x> 6 <13>ok",
			want: []string{"-5 <1 <x> ", "<13>ok"}, bad: 1},
		{name: "resync ignores a count the next bytes belie", in: "-5 <9>t 5 <3> ms\n6 <13>ok",
			want: []string{"-5 <9>t 5 <3> ms", "<13>ok"}, bad: 1},
		{name: "resync takes the count that fits", in: "-5 <13>n=56 <13>ok6 <13>ok",
			want: []string{"-5 <13>n=5", "<13>ok", "<13>ok"}, bad: 1},
		{name: "resync garbage cut at max", in: "-5 <13>0123456789abcdefghij6 <13>ok",
			want: []string{"-5 <13>012345678", "<13>ok"}, bad: 1, truncated: 1},
		{name: "resync not inside the bad count", in: "1234567899 <13>a6 <13>ok",
			want: []string{"1234567899 <13>a", "<13>ok"}, bad: 1},
		{name: "signed digits are a line", in: "+0000000000\n-12 is a line\n",
			want: []string{"+0000000000", "-12 is a line"}},
		{name: "long line without lf then frames", in: strings.Repeat("x", 100) + "6 <13>ok6 <13>ok",
			want: []string{strings.Repeat("x", 16), "<13>ok", "<13>ok"}, truncated: 1},
		{name: "line without lf then frame", in: "xxxxxxxxxx6 <13>ok\n" + strings.Repeat("y", 20),
			want: []string{"xxxxxxxxxx", "<13>ok", strings.Repeat("y", 16)}, truncated: 1, bad: 1},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				got, c := frameAll(t, rd.wrap(strings.NewReader(tt.in)), max)
				if !equalStrings(got, tt.want) {
					t.Errorf("frames = %q, want %q", got, tt.want)
				}
				if c.Truncated != tt.truncated || c.OversizeSkipped != tt.skipped || c.BadFrames != tt.bad {
					t.Errorf("truncated, skipped, bad = %d, %d, %d; want %d, %d, %d",
						c.Truncated, c.OversizeSkipped, c.BadFrames, tt.truncated, tt.skipped, tt.bad)
				}
			})
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A read error comes after the frames read before it, the partial frame
// included, and stays.
func TestFramerReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("a\nb\npart"), iotest.ErrReader(boom))
	f := NewFramer(r, 0)
	var got []string
	var err error
	for {
		var frame []byte
		frame, err = f.Next()
		if err != nil {
			break
		}
		got = append(got, string(frame))
	}
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if want := []string{"a", "b", "part"}; !equalStrings(got, want) {
		t.Errorf("frames = %q, want %q", got, want)
	}
	if _, err := f.Next(); !errors.Is(err, boom) {
		t.Errorf("second Next err = %v, want %v", err, boom)
	}
}

// A reader that never returns anything ends the stream instead of
// spinning.
func TestFramerNoProgress(t *testing.T) {
	f := NewFramer(readerFunc(func([]byte) (int, error) { return 0, nil }), 0)
	if _, err := f.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// ReadBatch takes every buffered frame at once, and the frames stay valid
// together.
func TestFramerReadBatch(t *testing.T) {
	var in bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&in, "<13>message %d\n", i)
	}
	f := NewFramer(&in, 0)
	var n, batches int
	var dst [][]byte
	for {
		var err error
		dst, err = f.ReadBatch(dst[:0], 100)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		batches++
		if len(dst) > 100 {
			t.Fatalf("batch of %d frames, limit 100", len(dst))
		}
		for _, frame := range dst {
			if want := fmt.Sprintf("<13>message %d", n); string(frame) != want {
				t.Fatalf("frame %d = %q, want %q", n, frame, want)
			}
			n++
		}
	}
	if n != 1000 {
		t.Errorf("got %d frames, want 1000", n)
	}
	if batches > 20 {
		t.Errorf("%d batches for 1000 small frames read 64 KiB at a time: not batching", batches)
	}
}

// Large maxima grow the buffer only as far as a frame needs.
func TestFramerLargeMax(t *testing.T) {
	const max = 4 << 20
	big := bytes.Repeat([]byte("x"), 3<<20)
	big[0] = '<'
	in := string(big) + "\n" + strconv.Itoa(len(big)) + " " + string(big) + "small\n"
	for _, rd := range readers[:1] {
		got, c := frameAll(t, rd.wrap(strings.NewReader(in)), max)
		if len(got) != 3 || got[0] != string(big) || got[1] != string(big) || got[2] != "small" {
			t.Errorf("got %d frames (lengths %v)", len(got), lengths(got))
		}
		if c != (Counts{}) {
			t.Errorf("counts = %+v, want none", c)
		}
	}
}

func lengths(ss []string) []int {
	var n []int
	for _, s := range ss {
		n = append(n, len(s))
	}
	return n
}

// Golden: testdata/framer/<case>/input.log framed with a maximum of 64
// bytes, one frame per line of want.golden, quoted.
func TestFramerGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/framer/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases under testdata/framer")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, "input.log"))
			if err != nil {
				t.Fatal(err)
			}
			frames, c := frameAll(t, bytes.NewReader(in), 64)
			var out strings.Builder
			for _, f := range frames {
				out.WriteString(strconv.Quote(f))
				out.WriteByte('\n')
			}
			fmt.Fprintf(&out, "# truncated=%d skipped=%d bad=%d\n", c.Truncated, c.OversizeSkipped, c.BadFrames)
			golden.Check(t, filepath.Join(dir, "want.golden"), []byte(out.String()))
		})
	}
}
