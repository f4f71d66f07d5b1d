package format

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/internal/cputime"
)

// legacyAppendText is appendText as it was before it skipped eight bytes
// at a time: one table lookup per byte. It stays as the reference the
// faster one must agree with, and as the "before" of BenchmarkText.
func legacyAppendText(dst []byte, s string, raw bool) []byte {
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
	}
	look := &textLook
	if raw {
		look = &rawLook
	}
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !look[c] {
			continue
		}
		switch {
		case c == '[':
			if !strings.HasPrefix(s[i:], summaryMark) {
				continue
			}
		case c == 0xc2:
			if i+1 == len(s) || s[i+1] < 0x80 || s[i+1] > 0x9f {
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendOctal(dst, c)
			i++
			c = s[i]
			start = i
		}
		dst = append(dst, s[start:i]...)
		dst = appendOctal(dst, c)
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// legacyAppendToken is appendToken as it was, calling bad for each byte.
func legacyAppendToken(dst []byte, s string, max int, bad func(byte) bool) []byte {
	if s == "" {
		return append(dst, '-')
	}
	if max > 0 && len(s) > max {
		s = s[:max]
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if bad(s[i]) {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '_')
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}

// TestTextAgreesWithTheByteLoop puts every byte appendText treats apart,
// and the bytes around them, at every place of texts of every length up to
// three words, and compares with the byte-by-byte loop.
func TestTextAgreesWithTheByteLoop(t *testing.T) {
	special := []byte{0, 1, '\t', '\n', '\r', 0x1f, ' ', '!', 0x7e, 0x7f, 0x80, 0x9b, 0x9f, 0xa0, 0xc1, 0xc2, 0xc3, '[', 'Z', '\\', 0xff}
	base := []byte("abcdefghijklmnopqrstuvwx")
	for n := 0; n <= len(base); n++ {
		for i := 0; i < n; i++ {
			for _, c := range special {
				for _, d := range special {
					b := append([]byte(nil), base[:n]...)
					b[i] = c
					if i+1 < n {
						b[i+1] = d
					}
					checkText(t, string(b))
				}
			}
		}
	}
	for _, s := range []string{"[floodgate kind=repeat]", "x[floodgate", "12345678[floodgat", "1234567\u009b", "\u009b\u009b\u009b\u009b\u009b"} {
		checkText(t, s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = special[r.IntN(len(special))]
			} else {
				b[i] = byte(r.IntN(256))
			}
		}
		checkText(t, string(b))
	}
}

func checkText(t *testing.T, s string) {
	t.Helper()
	for _, raw := range []bool{false, true} {
		if got, want := appendText(nil, s, raw), legacyAppendText(nil, s, raw); !bytes.Equal(got, want) {
			t.Fatalf("appendText(%q, raw %v) = %q, want %q", s, raw, got, want)
		}
	}
}

func TestTokenTablesAgreeWithTheirFunctions(t *testing.T) {
	for _, c := range []struct {
		t *[256]bool
		f func(byte) bool
	}{{badPrint, notPrint}, {badWord, notWord}, {badTag, notTag}, {badSDName, notSDName}, {badSummaryValue, notSummaryValue}} {
		for b := range 256 {
			s := "a" + string(rune(b)) + "z" + string([]byte{byte(b)})
			if got, want := appendToken(nil, s, 0, c.t), legacyAppendToken(nil, s, 0, c.f); !bytes.Equal(got, want) {
				t.Fatalf("appendToken(%q) = %q, want %q", s, got, want)
			}
		}
	}
}

// BenchmarkChatParts renders the texts of chat lines with the byte-by-byte
// loop (legacy) and eight bytes at a time (now), and their host, app and
// pid with a function call per byte (legacy) and a table (now), in the
// same run.
func BenchmarkChatParts(b *testing.B) {
	recs := chatRecords(b, 4096)
	run := func(name string, f func(dst []byte, r *floodgate.Record) []byte) {
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			defer cputime.PerOp(b)()
			n := 0
			for b.Loop() {
				buf = f(buf[:0], &recs[n%len(recs)])
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
	run("text/legacy", func(dst []byte, r *floodgate.Record) []byte { return legacyAppendText(dst, r.Text, false) })
	run("text/now", func(dst []byte, r *floodgate.Record) []byte { return appendText(dst, r.Text, false) })
	run("host-app-pid/legacy", func(dst []byte, r *floodgate.Record) []byte {
		dst = legacyAppendToken(dst, r.Host, 0, notWord)
		dst = legacyAppendToken(dst, r.App, 0, notTag)
		return legacyAppendToken(dst, r.ProcID, 0, notTag)
	})
	run("host-app-pid/now", func(dst []byte, r *floodgate.Record) []byte {
		dst = appendToken(dst, r.Host, 0, badWord)
		dst = appendToken(dst, r.App, 0, badTag)
		return appendToken(dst, r.ProcID, 0, badTag)
	})
}

// FuzzText compares appendText with the byte-by-byte loop on any text.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "plain words of a chat line", "a\tb\x01c\x7fd[floodgate e\u009bf\xc2", "12345678[floodgat", "\n\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkText(t, s) })
}
