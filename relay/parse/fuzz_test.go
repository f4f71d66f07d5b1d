package parse

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	syslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// seed adds every line of testdata/*/input.log to the corpus.
func seed(f *testing.F) {
	f.Helper()
	inputs, err := filepath.Glob("testdata/*/input.log")
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range lines(b) {
			f.Add(line)
		}
	}
}

// FuzzParse checks the properties every parse keeps, whatever the input.
func FuzzParse(f *testing.F) {
	seed(f)
	p := New(Options{Location: time.UTC})
	f.Fuzz(func(t *testing.T, frame []byte) {
		orig := bytes.Clone(frame)
		var m floodgate.Message
		p.Parse(frame, received, &m)
		if !bytes.Equal(frame, orig) {
			t.Fatal("Parse modified its input")
		}
		trimmed := trimEOL(frame)
		if m.Size != len(frame) {
			t.Errorf("Size = %d, want %d", m.Size, len(frame))
		}
		if m.Syntax == floodgate.Unparsed && m.Text != string(trimmed) {
			t.Errorf("unparsed text = %q, want the whole frame %q", m.Text, trimmed)
		}
		if !bytes.HasSuffix(trimmed, []byte(m.Text)) {
			t.Errorf("text %q is not a suffix of the frame %q", m.Text, trimmed)
		}
		if !bytes.ContainsRune(frame, '?') && strings.ContainsRune(m.Host+m.App+m.ProcID+m.MsgID+m.Text, '?') {
			t.Errorf("a '?' of the sanitized copy reached the message: %s", render(&m))
		}
		if m.Host == "" || m.App == "" {
			t.Errorf("empty host or app: %q %q", m.Host, m.App)
		}
		var again floodgate.Message
		New(Options{Location: time.UTC}).Parse(frame, received, &again)
		if !same(&again, &m) {
			t.Errorf("a fresh parser disagrees:\n%s\n%s", render(&m), render(&again))
		}
	})
}

// FuzzFastPath holds the hand-written checks to go-syslog's machines: a
// frame maybeSyslog rejects is one the machine paths find nothing in, and on
// every frame the scanner accepts, the machine alone must find the same
// host, app, procid and text, and the parser's machine path the same
// Message.
func FuzzFastPath(f *testing.F) {
	seed(f)
	f.Add([]byte("<13>Sep  9 10:00:00 h a[1]: x: y[2]: z"))
	f.Add([]byte("Feb 29 00:00:00 h a:  leading space"))
	p := New(Options{Location: time.UTC})
	raw := newMachine3164()
	f.Fuzz(func(t *testing.T, frame []byte) {
		checkFastAgrees(t, p, raw, frame)
	})
}

// FuzzVisible holds the word-at-a-time check to the byte loop.
func FuzzVisible(f *testing.F) {
	f.Add([]byte("abcdefgh\tjklmnop\x7f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if visible(b) != visibleBytes(b) {
			t.Errorf("visible(%q) = %v, the byte loop says otherwise", b, visible(b))
		}
	})
}

// checkFastAgrees fails t if the scanner accepts frame and disagrees with
// the machine on it.
func checkFastAgrees(t *testing.T, p *Parser, raw syslog.Machine, frame []byte) {
	t.Helper()
	fr := trimEOL(frame)
	if !maybeSyslog(fr) {
		var m floodgate.Message
		if p.parse3164(fr, received, &m) || p.parse5424(fr, received, &m) {
			t.Errorf("maybeSyslog rejects %q, the machines read it", fr)
		}
	}
	h, ok := scan(fr)
	if !ok {
		return
	}
	var fast, slow floodgate.Message
	p.fillFast(fr, &h, received, &fast)
	if !p.parse3164(fr, received, &slow) {
		t.Fatalf("scanner accepts %q, the machine does not", fr)
	}
	if !same(&fast, &slow) {
		t.Errorf("%q:\nfast %s\nslow %s", fr, render(&fast), render(&slow))
	}
	res, err := raw.Parse(fr)
	sm, _ := res.(*rfc3164.SyslogMessage)
	if err != nil || sm == nil {
		t.Fatalf("scanner accepts %q, the machine says %v", fr, err)
	}
	if orDash(deref(sm.Hostname)) != fast.Host || deref(sm.Appname) != fast.App || deref(sm.ProcID) != fast.ProcID || deref(sm.Message) != fast.Text {
		t.Errorf("%q: machine host/app/procid/text %q %q %q %q, scanner %q %q %q %q", fr,
			deref(sm.Hostname), deref(sm.Appname), deref(sm.ProcID), deref(sm.Message),
			fast.Host, fast.App, fast.ProcID, fast.Text)
	}
	ts := sm.Timestamp
	switch {
	case ts == nil:
		t.Errorf("%q: machine finds no stamp, scanner %v", fr, fast.Time)
	case h.rfc3339.set:
		_, mo := ts.Zone()
		_, fo := fast.Time.Zone()
		if !ts.Equal(fast.Time) || mo != fo {
			t.Errorf("%q: machine stamp %v, scanner %v", fr, ts, fast.Time)
		}
	case ts.Month() != fast.Time.Month() || ts.Day() != fast.Time.Day() || ts.Hour() != fast.Time.Hour() ||
		ts.Minute() != fast.Time.Minute() || ts.Second() != fast.Time.Second():
		t.Errorf("%q: machine stamp %v, scanner %v", fr, ts, fast.Time)
	}
	if (sm.Priority == nil) != (fast.Syntax == floodgate.SyntaxTraditional) ||
		sm.Priority != nil && (floodgate.Facility(*sm.Facility) != fast.Facility || floodgate.Severity(*sm.Severity) != fast.Severity) {
		t.Errorf("%q: machine priority differs from scanner's %v.%v", fr, fast.Facility, fast.Severity)
	}
}

// TestFastPathAgrees builds frames from pieces chosen to sit on the edges
// of the scanner's shape and holds the scanner to the machine on all of
// them that it accepts.
func TestFastPathAgrees(t *testing.T) {
	// Each piece: plain choices first, then odd ones, picked one time in
	// five, so that most frames are near the accepted shape.
	type piece struct{ plain, odd []string }
	pieces := []piece{
		{[]string{"", "<0>", "<13>", "<191>", "<1>"}, []string{"<192>", "<013>", "<13> ", "<>", "<1000>"}},
		{[]string{"Sep  9 10:02:37", "Sep 09 10:02:37", "Feb 29 23:59:59", "Dec 31 00:00:00", "2026-11-27T10:00:00.123456+00:00", "2024-02-29T23:59:59.1-05:30", "2026-11-27T10:00:00Z"},
			[]string{"Apr 31 00:00:00", "Sep  9 24:00:00", "Sep 9 10:02:37", "Dec 31 23:59:60", "sep  9 10:02:37", "Sep 00 10:02:37",
				"2026-02-29T00:00:00Z", "2026-11-27T10:00:00.1234567Z", "2026-11-27T10:00:00", "2026-11-27T10:00:00+01", "2026-11-27 10:00:00Z", "-"}},
		{[]string{" "}, []string{"  ", ""}},
		{[]string{"h ", "- ", "ip-10-1-2-3 ", `"q" `, "<h> ", strings.Repeat("h", 255) + " ", ""}, []string{"a:b ", "h[1] ", "h] ", "h\x7f ", "h\xc3\xa9 ", strings.Repeat("h", 256) + " ", "h  ", "h", " "}},
		{[]string{"app", "-", "a.b-c_d/e", `a"b`, strings.Repeat("a", 48), "a>"}, []string{"app]", strings.Repeat("a", 49), "", "sp ace", "\xc3\xa9", "a\tb"}},
		{[]string{"", "[1]", "[12436]", "[a-b]"}, []string{"[]", "[1 2]", "[a[b]", "[\xff]", "[1", "[1]]"}},
		{[]string{": "}, []string{":", " ", ":  ", ": : ", ":\t"}},
		{[]string{"x", "x\ty", "\xff\xfe", "a: b", "[1]: c", " lead", "#011/usr/x.go:1 +0x5", "app[1]: x"}, []string{"", "\x01", "x\x7f", " ", "x\r", "x\ny"}},
	}
	p := New(Options{Location: time.UTC})
	raw := newMachine3164()
	rng := rand.New(rand.NewPCG(1, 2))
	accepted, hostless, rfc3339 := 0, 0, 0
	for range 50000 {
		var b []byte
		for _, pc := range pieces {
			choices := pc.plain
			if rng.IntN(5) == 0 {
				choices = pc.odd
			}
			b = append(b, choices[rng.IntN(len(choices))]...)
		}
		if h, ok := scan(trimEOL(b)); ok {
			accepted++
			if h.host == h.hostEnd {
				hostless++
			}
			if h.rfc3339.set {
				rfc3339++
			}
		}
		checkFastAgrees(t, p, raw, b)
		if t.Failed() {
			return
		}
	}
	if accepted < 1000 || hostless < 100 || rfc3339 < 100 {
		t.Fatalf("the scanner accepted only %d frames (%d without a hostname, %d with RFC 3339 stamps): the test tests little", accepted, hostless, rfc3339)
	}
	t.Logf("%d frames accepted by the scanner, %d without a hostname, %d with RFC 3339 stamps", accepted, hostless, rfc3339)
}

// same reports whether a and b are the same message; times are compared as
// instants, since zones parsed from RFC 5424 offsets are new each time.
func same(a, b *floodgate.Message) bool {
	x, y := *a, *b
	x.Time, y.Time = time.Time{}, time.Time{}
	return x == y && a.Time.Equal(b.Time)
}

// checkFast5424Agrees fails t if scan5424 accepts frame and the parser's
// machine path, or go-syslog's machine alone, reads it otherwise.
func checkFast5424Agrees(t *testing.T, p *Parser, frame []byte) {
	t.Helper()
	fr := trimEOL(frame)
	h, ok := scan5424(fr)
	if !ok {
		return
	}
	var fast, slow floodgate.Message
	p.fillFast5424(fr, &h, received, &fast)
	if !p.parse5424(fr, received, &slow) {
		t.Fatalf("scanner accepts %q, the machine does not", fr)
	}
	if !same(&fast, &slow) {
		t.Errorf("%q:\nfast %s\nslow %s", fr, render(&fast), render(&slow))
	}
	_, fo := fast.Time.Zone()
	_, so := slow.Time.Zone()
	if fo != so {
		t.Errorf("%q: offset %d, machine %d", fr, fo, so)
	}
	res, err := rfc5424.NewMachine(rfc5424.WithBestEffort()).Parse(fr)
	if sm, _ := res.(*rfc5424.SyslogMessage); err != nil || sm == nil {
		t.Errorf("scanner accepts %q, the machine says %v", fr, err)
	} else if deref(sm.Message) != fast.Text {
		t.Errorf("%q: text %q, machine %q", fr, fast.Text, deref(sm.Message))
	}
}

// FuzzFastPath5424 holds scan5424 to go-syslog's RFC 5424 machine.
func FuzzFastPath5424(f *testing.F) {
	seed(f)
	p := New(Options{Location: time.UTC})
	f.Fuzz(func(t *testing.T, frame []byte) {
		checkFast5424Agrees(t, p, frame)
	})
}

// TestFastPath5424Agrees builds RFC 5424 frames from pieces on the edges of
// scan5424's shape and holds it to the machine on all it accepts.
func TestFastPath5424Agrees(t *testing.T) {
	type piece struct{ plain, odd []string }
	pieces := []piece{
		{[]string{"<0>", "<14>", "<191>"}, []string{"<192>", "<014>", ""}},
		{[]string{"1 "}, []string{"2 ", "10 ", "1", "1  ", "0 "}},
		{[]string{"-", "2026-11-27T10:00:00Z", "2026-11-27T10:00:00.123456+01:00", "2024-02-29T23:59:59.1-05:30", "2003-10-11T22:14:15.003Z"},
			[]string{"2026-02-29T00:00:00Z", "2026-11-27T10:00:00.1234567Z", "2026-11-27T24:00:00Z", "2026-11-27 10:00:00Z", "2026-11-27T10:00:00", "2026-11-27T10:00:00+24:00", "2026-13-01T00:00:00Z", "2026-11-27T10:00:00.Z", "2026-11-27t10:00:00z"}},
		{[]string{" "}, []string{"  ", ""}},
		{[]string{"-", "host", "ip-10-1-2-3", strings.Repeat("h", 255)}, []string{strings.Repeat("h", 256), "h\xc3\xa9", "", "--"}},
		{[]string{" "}, []string{"  ", ""}},
		{[]string{"-", "app", strings.Repeat("a", 48)}, []string{strings.Repeat("a", 49), "a\x7f"}},
		{[]string{" "}, []string{"  "}},
		{[]string{"-", "123", strings.Repeat("p", 128)}, []string{strings.Repeat("p", 129)}},
		{[]string{" "}, []string{"  "}},
		{[]string{"-", "ID47", strings.Repeat("m", 32)}, []string{strings.Repeat("m", 33)}},
		{[]string{" "}, []string{"  "}},
		{[]string{"-", `[timeQuality tzKnown="1" isSynced="0"]`, `[a@1 x="\"\]\\"][b@1]`, `[id]`, `[` + strings.Repeat("i", 32) + ` p="v"]`, `[x y=""]`, "[x y=\"\xc3\xa9\"]"},
			[]string{`[a][a]`, `[` + strings.Repeat("i", 33) + `]`, `[x y="\q"]`, `[x y="]"]`, "[x y=\"\xff\"]", "[x y=\"\xed\xa0\x80\"]", `[x y="\a"]`, `[]`, `[x y=v]`, `[x  y="v"]`, `[x y="v"`, `[x=y]`, `[a][b][c][d][e][f][g][h][i]`, "-x"}},
		{[]string{"", " text", " x\ty\xff", " ", "  two", " \xef\xbb\xbfbom", " a\nb"}, []string{"x", "\r"}},
	}
	p := New(Options{Location: time.UTC})
	rng := rand.New(rand.NewPCG(3, 4))
	accepted := 0
	for range 30000 {
		var b []byte
		for _, pc := range pieces {
			choices := pc.plain
			if rng.IntN(6) == 0 {
				choices = pc.odd
			}
			b = append(b, choices[rng.IntN(len(choices))]...)
		}
		if _, ok := scan5424(trimEOL(b)); ok {
			accepted++
		}
		checkFast5424Agrees(t, p, b)
		if t.Failed() {
			return
		}
	}
	if accepted < 1000 {
		t.Fatalf("the scanner accepted only %d frames: the test tests little", accepted)
	}
	t.Logf("%d frames accepted by the scanner", accepted)
}
