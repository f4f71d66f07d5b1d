package parse

import (
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // the zones of TestDayCache, wherever the test runs

	"github.com/floodgate/floodgate"
)

// want is the part of a Message a test case checks; Time zero means
// "received".
type want struct {
	host, app, procid, msgid string
	facility                 floodgate.Facility
	severity                 floodgate.Severity
	format                   floodgate.Syntax
	time                     time.Time
	text, sd                 string
}

func TestParse(t *testing.T) {
	user, daemon := floodgate.Facility(1), floodgate.Facility(3)
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		name  string
		frame string
		want  want
	}{
		{"traditional seed line", "Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: goroutine 2648 [runnable]:",
			want{"ip-10-18-39-127", "dockerd", "12436", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "goroutine 2648 [runnable]:", ""}},
		{"traditional #011 stays", "Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: #011/usr/local/go/src/os/file_unix.go:97 +0x80",
			want{"ip-10-18-39-127", "dockerd", "12436", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "#011/usr/local/go/src/os/file_unix.go:97 +0x80", ""}},
		{"traditional zero-padded day", "Sep 09 10:02:37 host app: x",
			want{"host", "app", "", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "x", ""}},
		{"traditional trailing CRLF trimmed", "Sep  9 10:02:37 host app: x\r\n",
			want{"host", "app", "", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "x", ""}},
		{"rfc3164 logger, a stamp from the future is last year's", "<13>Nov 27 10:00:00 myhost root: hello",
			want{"myhost", "root", "", "", user, floodgate.Notice, floodgate.SyntaxRFC3164, utc(2017, 11, 27, 10, 0, 0, 0), "hello", ""}},
		{"rfc3164 journald forward without host", "<30>Sep  9 10:00:00 app[12]: hello",
			want{"-", "app", "12", "", daemon, floodgate.Info, floodgate.SyntaxRFC3164, utc(2018, 9, 9, 10, 0, 0, 0), "hello", ""}},
		{"rfc3164 raw tab kept", "<13>Sep  9 10:00:00 h a: x\ty",
			want{"h", "a", "", "", user, floodgate.Notice, floodgate.SyntaxRFC3164, utc(2018, 9, 9, 10, 0, 0, 0), "x\ty", ""}},
		{"rfc3164 invalid utf-8 kept", "<13>Sep  9 10:00:00 h a: \xff\xfe\xfd",
			want{"h", "a", "", "", user, floodgate.Notice, floodgate.SyntaxRFC3164, utc(2018, 9, 9, 10, 0, 0, 0), "\xff\xfe\xfd", ""}},
		{"rfc3164 tag without pid", "<13>Sep  9 10:00:00 h app: x",
			want{"h", "app", "", "", user, floodgate.Notice, floodgate.SyntaxRFC3164, utc(2018, 9, 9, 10, 0, 0, 0), "x", ""}},
		{"rfc3164 brackets without colon", "<13>Sep  9 10:00:00 h app[12] x",
			want{"h", "-", "", "", user, floodgate.Notice, floodgate.SyntaxRFC3164, utc(2018, 9, 9, 10, 0, 0, 0), "app[12] x", ""}},
		{"rfc3164 control bytes kept", "<13>Sep  9 10:00:00 h a: \x1b[1mbold",
			want{"h", "a", "", "", user, floodgate.Notice, floodgate.SyntaxRFC3164, utc(2018, 9, 9, 10, 0, 0, 0), "\x1b[1mbold", ""}},
		{"rfc3164 embedded newline (octet-counted frame)", "<13>Sep  9 10:00:00 h a: x\ny",
			want{"h", "a", "", "", user, floodgate.Notice, floodgate.SyntaxRFC3164, utc(2018, 9, 9, 10, 0, 0, 0), "x\ny", ""}},
		{"traditional rfc3339 stamp", "2018-09-09T10:00:00.5+02:00 h a[1]: x",
			want{"h", "a", "1", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 8, 0, 0, 5e8), "x", ""}},
		{"traditional control bytes kept", "Sep  9 10:02:37 h a[1]: \x1b[31mred\x1b[0m",
			want{"h", "a", "1", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "\x1b[31mred\x1b[0m", ""}},
		{"traditional control byte in host", "Sep  9 10:02:37 h\x01 a[1]: x",
			want{"-", "-", "", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "h\x01 a[1]: x", ""}},
		{"traditional host and tag '-'", "Sep  9 10:02:37 - -[1]: x",
			want{"-", "-", "1", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "x", ""}},
		{"traditional host '-'", "Sep  9 10:02:37 - app: x",
			want{"-", "app", "", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "x", ""}},
		{"traditional tag '-'", "Sep  9 10:02:37 h -: x",
			want{"h", "-", "", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "x", ""}},
		{"traditional hostless tag '-'", "Sep  9 10:02:37 -: x",
			want{"-", "-", "", "", user, floodgate.Notice, floodgate.SyntaxTraditional, utc(2018, 9, 9, 10, 2, 37, 0), "x", ""}},
		{"rfc3164 pri 0", "<0>Sep  9 10:00:00 h kernel: x",
			want{"h", "kernel", "", "", 0, floodgate.Emerg, floodgate.SyntaxRFC3164, utc(2018, 9, 9, 10, 0, 0, 0), "x", ""}},
		{"rfc3164 pri 191", "<191>Sep  9 10:00:00 h a: x",
			want{"h", "a", "", "", 23, floodgate.Debug, floodgate.SyntaxRFC3164, utc(2018, 9, 9, 10, 0, 0, 0), "x", ""}},
		{"rfc3164 pri over 191 unparsed", "<192>Sep  9 10:00:00 h a: x",
			want{"-", "-", "", "", user, floodgate.Notice, floodgate.Unparsed, time.Time{}, "<192>Sep  9 10:00:00 h a: x", ""}},
		{"rfc3164 without timestamp", "<13>just text",
			want{"-", "-", "", "", user, floodgate.Notice, floodgate.SyntaxRFC3164, time.Time{}, "just text", ""}},
		{"rfc5424 basic", "<14>1 2026-11-27T10:00:00.123+00:00 host app 123 ID47 - text",
			want{"host", "app", "123", "ID47", user, floodgate.Info, floodgate.SyntaxRFC5424, utc(2026, 11, 27, 10, 0, 0, 123e6), "text", ""}},
		{"rfc5424 logger structured data", `<13>1 2026-11-27T10:00:00.123456+00:00 myhost root - - [timeQuality tzKnown="1" isSynced="0"] hello`,
			want{"myhost", "root", "", "", user, floodgate.Notice, floodgate.SyntaxRFC5424, utc(2026, 11, 27, 10, 0, 0, 123456e3), "hello", `[timeQuality tzKnown="1" isSynced="0"]`}},
		{"rfc5424 nil values", "<14>1 - - - - - -",
			want{"-", "-", "", "", user, floodgate.Info, floodgate.SyntaxRFC5424, time.Time{}, "", ""}},
		{"rfc5424 raw tab and bad utf-8", "<14>1 2026-11-27T10:00:00Z h a - - - x\ty\xff",
			want{"h", "a", "", "", user, floodgate.Info, floodgate.SyntaxRFC5424, utc(2026, 11, 27, 10, 0, 0, 0), "x\ty\xff", ""}},
		{"garbage unparsed", "hello world",
			want{"-", "-", "", "", user, floodgate.Notice, floodgate.Unparsed, time.Time{}, "hello world", ""}},
		{"empty unparsed", "",
			want{"-", "-", "", "", user, floodgate.Notice, floodgate.Unparsed, time.Time{}, "", ""}},
		{"bad day unparsed", "Sep 31 10:02:37 host app: x",
			want{"-", "-", "", "", user, floodgate.Notice, floodgate.Unparsed, time.Time{}, "Sep 31 10:02:37 host app: x", ""}},
	}
	p := New(Options{Location: time.UTC})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := floodgate.Message{Input: "test"}
			p.Parse([]byte(tt.frame), received, &m)
			checkMessage(t, &m, tt.want)
			if m.Input != "test" {
				t.Errorf("Input = %q, Parse must leave it alone", m.Input)
			}
			if m.Size != len(tt.frame) {
				t.Errorf("Size = %d, want %d", m.Size, len(tt.frame))
			}
		})
	}
}

func checkMessage(t *testing.T, m *floodgate.Message, w want) {
	t.Helper()
	if w.time.IsZero() {
		w.time = received
	}
	if m.Host != w.host || m.App != w.app || m.ProcID != w.procid || m.MsgID != w.msgid {
		t.Errorf("host/app/procid/msgid = %q %q %q %q, want %q %q %q %q", m.Host, m.App, m.ProcID, m.MsgID, w.host, w.app, w.procid, w.msgid)
	}
	if m.Facility != w.facility || m.Severity != w.severity || m.Syntax != w.format {
		t.Errorf("facility/severity/format = %v %v %v, want %v %v %v", m.Facility, m.Severity, m.Syntax, w.facility, w.severity, w.format)
	}
	if !m.Time.Equal(w.time) {
		t.Errorf("time = %v, want %v", m.Time, w.time)
	}
	if m.Text != w.text || m.StructuredData != w.sd {
		t.Errorf("text, sd = %q, %q; want %q, %q", m.Text, m.StructuredData, w.text, w.sd)
	}
}

func TestYear(t *testing.T) {
	tests := []struct {
		name     string
		frame    string
		received time.Time
		want     time.Time
	}{
		{"same day", "Sep  9 10:02:37 h a: x", time.Date(2018, 9, 9, 10, 2, 40, 0, time.UTC), time.Date(2018, 9, 9, 10, 2, 37, 0, time.UTC)},
		{"dec 31 received jan 1", "Dec 31 23:59:59 h a: x", time.Date(2019, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(2018, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"jan 1 received dec 31 (clock skew)", "Jan  1 00:00:01 h a: x", time.Date(2018, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2019, 1, 1, 0, 0, 1, 0, time.UTC)},
		{"replay months later", "Mar  1 00:00:00 h a: x", time.Date(2018, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2018, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"leap day in leap year", "Feb 29 12:00:00 h a: x", time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"leap day far from a leap year", "Feb 29 12:00:00 h a: x", time.Date(2018, 9, 10, 0, 0, 0, 0, time.UTC), time.Date(2016, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"slow path too", "<13>Dec 31 23:59:59 h a[]: x", time.Date(2019, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(2018, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"capture written in november", "Mar  1 00:00:00 h a: x", time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"a day ahead is this year", "Nov 30 00:00:00 h a: x", time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"beyond a day ahead is last year", "Nov 30 00:00:01 h a: x", time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), time.Date(2025, 11, 30, 0, 0, 1, 0, time.UTC)},
		{"slow path never from the future", "<13>Dec  1 10:00:00 h a[]: x", time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC)},
	}
	p := New(Options{Location: time.UTC})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m floodgate.Message
			p.Parse([]byte(tt.frame), tt.received, &m)
			if !m.Time.Equal(tt.want) {
				t.Errorf("time = %v, want %v", m.Time, tt.want)
			}
		})
	}
}

// TestYearCache parses one stamp over a run of receive times that cross
// the point where the nearest year changes: the cache must never answer
// differently from a fresh parser.
func TestYearCache(t *testing.T) {
	cached := New(Options{Location: time.UTC})
	frame := []byte("Jul  1 00:00:00 h a: x")
	start := time.Date(2018, 12, 30, 0, 0, 0, 0, time.UTC)
	for d := time.Duration(0); d < 400*24*time.Hour; d += 7 * time.Hour {
		r := start.Add(d)
		var got, want floodgate.Message
		cached.Parse(frame, r, &got)
		New(Options{Location: time.UTC}).Parse(frame, r, &want)
		if !got.Time.Equal(want.Time) {
			t.Fatalf("received %v: cached %v, fresh %v", r, got.Time, want.Time)
		}
	}
}

func TestLocation(t *testing.T) {
	tests := []struct {
		name string
		loc  *time.Location
		want time.Time
	}{
		{"utc", time.UTC, time.Date(2018, 9, 9, 10, 2, 37, 0, time.UTC)},
		{"fixed +2", time.FixedZone("X", 2*3600), time.Date(2018, 9, 9, 8, 2, 37, 0, time.UTC)},
		{"nil is local", nil, time.Date(2018, 9, 9, 10, 2, 37, 0, time.Local)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m floodgate.Message
			New(Options{Location: tt.loc}).Parse([]byte("Sep  9 10:02:37 h a: x"), received, &m)
			if !m.Time.Equal(tt.want) {
				t.Errorf("time = %v, want %v", m.Time, tt.want)
			}
		})
	}
}

// TestAllocs checks that the common shapes cost one allocation, the text:
// host, app, procid, msgid and structured data are interned, zones reused.
func TestAllocs(t *testing.T) {
	tests := []struct {
		name  string
		frame string
	}{
		{"traditional", "Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: goroutine 2648 [runnable]:"},
		{"traditional rfc3339", "2026-11-27T10:00:00.123456+01:00 ip-10-18-39-127 dockerd[12436]: goroutine 2648 [runnable]:"},
		{"rfc3164", "<30>Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: goroutine 2648 [runnable]:"},
		{"rfc3164 without host", "<30>Sep  9 10:02:37 dockerd[12436]: goroutine 2648 [runnable]:"},
		{"rfc5424", `<14>1 2026-11-27T10:00:00.123456+01:00 h dockerd 12436 ID47 [timeQuality tzKnown="1" isSynced="0"] goroutine 2648 [runnable]:`},
		{"unparsed", "goroutine 2648 [runnable]:"},
	}
	p := New(Options{Location: time.UTC})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := []byte(tt.frame)
			var m floodgate.Message
			allocs := testing.AllocsPerRun(100, func() { p.Parse(frame, received, &m) })
			if allocs > 1 {
				t.Errorf("%v allocations per message, want 1 (the text)", allocs)
			}
		})
	}
}

func TestVisible(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"empty", "", true},
		{"ascii", "goroutine 2648 [runnable]: with a longer tail", true},
		{"tab", "a\tb and then some more text", true},
		{"high bytes", "\xff\xfe\x80\x80\x80\x80\x80\x80\x80\x80", true},
		{"control in first word", "\x01bcdefghijklmnop", false},
		{"control in second word", "abcdefgh\x1fjklmnop", false},
		{"control in tail", "abcdefghij\x00", false},
		{"del", "abcdefgh\x7f", false},
		{"del in word", "abc\x7fefghijk", false},
		{"newline", "abcdefghijk\nlmnop", false},
		{"0x20 and 0x7e", "        ~~~~~~~~", true},
		{"0x80 next to control", "\x80\x1f\x80\x80\x80\x80\x80\x80", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := visible([]byte(tt.in)); got != tt.want {
				t.Errorf("visible(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got := visibleBytes([]byte(tt.in)); got != tt.want {
				t.Errorf("visibleBytes(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestDayCache parses stamps whose second changes with every line, as in
// ordinary traffic, over days that cross New Year, Feb 29 and the changes
// of daylight saving time, received at times around them: the day cache
// must never answer differently from a fresh parser.
func TestDayCache(t *testing.T) {
	for _, zone := range []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Havana"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatalf("zone %s: %v", zone, err)
		}
		cached := New(Options{Location: loc})
		var n int
		for _, day := range []string{"Jan  1", "Dec 31", "Feb 28", "Feb 29", "Mar  1", "Mar  8", "Mar 10", "Mar 26", "Mar 31", "Apr  2", "Oct 29", "Nov  3", "Nov  5"} {
			for _, recvDay := range []time.Time{
				time.Date(2023, 12, 30, 22, 0, 0, 0, loc), time.Date(2024, 1, 1, 0, 30, 0, 0, loc),
				time.Date(2024, 2, 28, 23, 0, 0, 0, loc), time.Date(2024, 3, 10, 1, 0, 0, 0, loc),
				time.Date(2024, 10, 28, 12, 0, 0, 0, loc), time.Date(2025, 2, 28, 1, 0, 0, 0, loc),
			} {
				for sec := 0; sec < 86400; sec += 3607 {
					frame := fmt.Appendf(nil, "%s %02d:%02d:%02d h a: x", day, sec/3600, sec/60%60, sec%60)
					received := recvDay.Add(time.Duration(sec) * 17 * time.Millisecond)
					var got, want floodgate.Message
					cached.Parse(frame, received, &got)
					New(Options{Location: loc}).Parse(frame, received, &want)
					if !got.Time.Equal(want.Time) || got.Time.String() != want.Time.String() {
						t.Fatalf("%s: %q received %v: cached %v, fresh %v", zone, frame, received, got.Time, want.Time)
					}
					n++
				}
			}
		}
		t.Logf("%s: %d stamps", zone, n)
	}
}
