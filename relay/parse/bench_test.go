package parse

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
	"github.com/floodgate/floodgate/internal/cputime"
)

// shapes are one frame of each kind the relay sees, the flood's first.
var shapes = []struct {
	name  string
	frame string
}{
	{"traditional", "Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5"},
	{"rfc3164", "<30>Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5"},
	{"rfc3164-nohost", "<30>Sep  9 10:02:37 dockerd[12436]: #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5"},
	{"rfc5424", `<14>1 2026-11-27T10:00:00.123456+00:00 ip-10-18-39-127 dockerd 12436 - [timeQuality tzKnown="1" isSynced="0"] #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5`},
	// Shapes the scanners leave to go-syslog's machines.
	{"rfc3164-machine", "<30>Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436] #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5"},
	{"rfc5424-machine", `<14>1 2026-11-27T10:00:00.123456+00:00 ip-10-18-39-127 dockerd 12436 - [timeQuality tzKnown="1" isSynced="0"]x #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5`},
	{"unparsed", "#011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5 with no header at all"},
}

func BenchmarkParse(b *testing.B) {
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			p := New(Options{Location: time.UTC})
			frame := []byte(s.frame)
			var m floodgate.Message
			b.ReportAllocs()
			for b.Loop() {
				p.Parse(frame, received, &m)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkMachine3164 is go-syslog's RFC 3164 machine alone on the flood's
// shape: the cost the scanner saves.
func BenchmarkMachine3164(b *testing.B) {
	m := newMachine3164()
	frame := []byte(shapes[1].frame)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Parse(frame)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkParseSeed parses the incident's capture line by line: the mix a
// replay of it sees.
func BenchmarkParseSeed(b *testing.B) {
	input, err := os.ReadFile("testdata/seed/input.log")
	if err != nil {
		b.Fatal(err)
	}
	frames := lines(input)
	p := New(Options{Location: time.UTC})
	var m floodgate.Message
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		p.Parse(frames[n%len(frames)], received, &m)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkParseChat parses bench/gen's chat over LF, RFC 3164: unique
// lines whose stamp changes nearly every line, ordinary traffic rather
// than a flood.
func BenchmarkParseChat(b *testing.B) {
	var w bytes.Buffer
	if _, _, err := gen.Write(&w, gen.NewChat(1, 4096), gen.RFC3164); err != nil {
		b.Fatal(err)
	}
	frames := lines(w.Bytes())
	p := New(Options{Location: time.UTC})
	recv := time.Date(2018, 9, 11, 2, 0, 0, 0, time.UTC)
	var m floodgate.Message
	b.ReportAllocs()
	defer cputime.PerOp(b)()
	n := 0
	for b.Loop() {
		p.Parse(frames[n%len(frames)], recv, &m)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
