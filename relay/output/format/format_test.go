package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/golden"

	"github.com/floodgate/floodgate"
)

var (
	t0   = time.Date(2018, 9, 9, 10, 2, 37, 0, time.UTC)
	t1   = time.Date(2018, 9, 9, 10, 3, 7, 0, time.UTC)
	tSub = time.Date(2018, 9, 9, 10, 3, 7, 123456789, time.FixedZone("", 2*3600))
)

func msg(text string) floodgate.Message {
	return floodgate.Message{
		Time: t0, Host: "ip-10-18-39-127", App: "dockerd", ProcID: "12436",
		Facility: 3, Severity: floodgate.Info, Text: text, Syntax: floodgate.SyntaxTraditional,
	}
}

// records is every kind of record the outputs meet, rendered into each
// format's golden file.
func records() []floodgate.Record {
	rfc := msg("request done")
	rfc.Syntax, rfc.MsgID, rfc.Time = floodgate.SyntaxRFC5424, "ID47", tSub
	rfc.StructuredData = `[exampleSDID@32473 iut="3" eventSource="App\]lication"]`
	noPid := msg("Started Session 12 of user root.")
	noPid.App, noPid.ProcID, noPid.Time = "systemd", "", time.Date(2018, 9, 19, 8, 0, 1, 0, time.UTC)
	unparsed := floodgate.Message{Time: t0, Host: "-", App: "-", Text: "garbage without a header", Syntax: floodgate.Unparsed, Facility: 1, Severity: floodgate.Notice}
	internal := floodgate.Message{Time: t1, Host: "relay-1", App: "floodgate", Text: "output out/a.log: no space left on device", Syntax: floodgate.Internal, Event: "disk_full", Facility: 5, Severity: floodgate.Warning}
	nasty := msg("tab\there, quote \" backslash \\ nl\nsecond line, cr\r, nul \x00, bad utf8 \xff\xfe, U+2028 \u2028, é, #011kept\n")
	nasty.Host, nasty.App, nasty.ProcID = "bad host/..", "app[x]:y", "1]2"
	empty := msg("")
	empty.Host, empty.App, empty.ProcID = "", "", ""

	sum := func(k floodgate.Kind, fp string, n int64, text string, fields ...floodgate.Field) floodgate.Record {
		m := msg(text)
		m.Time = t1
		return floodgate.Record{Message: m, Summary: &floodgate.Summary{Kind: k, FP: fp, Count: n, First: t0, Last: t1, Fields: fields}}
	}
	cyc := sum(floodgate.Cycle, "77aa01bc", 12, "unit foo.service restarted 12 times",
		floodgate.Field{Key: "unit", Value: "foo.service"},
		floodgate.Field{Key: "states", Value: map[string]int64{"failed": 12, "activating": 12, "active": 11}},
		floodgate.Field{Key: "period", Value: int64(3)})
	sub := sum(floodgate.Repeat, "9c41e0a7", 2, "repeated 2 times")
	sub.Summary.First, sub.Summary.Last, sub.Time = t0.Add(250*time.Millisecond), tSub, tSub
	weird := sum(floodgate.Suppressed, `f"p]\x`, 7, "", floodgate.Field{Key: "reason", Value: `disk "full"]`}, floodgate.Field{Key: "count", Value: int64(99)}, floodgate.Field{Key: "bad key=x", Value: 1.5})

	return []floodgate.Record{
		{Message: msg("goroutine 2648 [runnable]:")},
		{Message: rfc},
		{Message: noPid},
		{Message: unparsed},
		{Message: internal},
		{Message: nasty},
		{Message: empty},
		sum(floodgate.Repeat, "9c41e0a7", 2646, "last message repeated 2646 times"),
		sum(floodgate.Block, "0b1c2d3e", 40, "goroutine stack repeated 40 times (31 frames)", floodgate.Field{Key: "lines", Value: int64(31)}),
		cyc,
		sum(floodgate.Suppressed, "budget", 1200, "1200 messages dropped by the budget",
			floodgate.Field{Key: "reason", Value: "budget"}, floodgate.Field{Key: "bytes", Value: int64(181234)}),
		sub,
		weird,
	}
}

func TestGolden(t *testing.T) {
	for _, f := range []Format{Traditional, RFC5424, JSON} {
		t.Run(f.String(), func(t *testing.T) {
			var got []byte
			for _, r := range records() {
				got = Append(got, f, &r)
			}
			golden.Check(t, filepath.Join("testdata", f.String(), "want.golden"), got)
		})
	}
}

// TestOneLine checks that every format writes each record as exactly one
// line, whatever its text holds.
func TestOneLine(t *testing.T) {
	for _, f := range []Format{Traditional, RFC5424, JSON} {
		for i, r := range records() {
			b := Append(nil, f, &r)
			if n := bytes.Count(b, []byte("\n")); n != 1 || b[len(b)-1] != '\n' {
				t.Errorf("%s record %d: %d newlines in %q", f, i, n, b)
			}
		}
	}
}

// jsonRecord is the contract's JSON record.
type jsonRecord struct {
	Time     string         `json:"time"`
	Host     *string        `json:"host"`
	App      *string        `json:"app"`
	ProcID   *string        `json:"procid"`
	Facility string         `json:"facility"`
	Severity string         `json:"severity"`
	Msg      *string        `json:"msg"`
	Summary  map[string]any `json:"summary"`
}

func TestJSONContract(t *testing.T) {
	tests := []struct {
		name string
		rec  floodgate.Record
		want jsonRecord
	}{
		{
			name: "verbatim",
			rec:  floodgate.Record{Message: msg("#011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5")},
			want: jsonRecord{Time: "2018-09-09T10:02:37Z", Facility: "daemon", Severity: "info", Msg: ptr("#011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5")},
		},
		{
			name: "sub-second time in its own zone",
			rec:  floodgate.Record{Message: floodgate.Message{Time: tSub, Facility: 16, Severity: floodgate.Err, Text: "x"}},
			want: jsonRecord{Time: "2018-09-09T10:03:07.123456789+02:00", Facility: "local0", Severity: "err", Msg: ptr("x")},
		},
		{
			name: "invalid UTF-8 becomes U+FFFD",
			rec:  floodgate.Record{Message: floodgate.Message{Time: t0, Text: "a\xffb\xc3(é"}},
			want: jsonRecord{Time: "2018-09-09T10:02:37Z", Facility: "kern", Severity: "emerg", Msg: ptr("a\ufffdb\ufffd(é")},
		},
		{
			name: "summary",
			rec: floodgate.Record{Message: msg("repeated"), Summary: &floodgate.Summary{Kind: floodgate.Repeat, FP: "9c41e0a7", Count: 2646, First: t0, Last: t1,
				Fields: []floodgate.Field{{Key: "states", Value: map[string]int64{"b": 2, "a": 1}}, {Key: "unit", Value: "x.service"}}}},
			want: jsonRecord{Time: "2018-09-09T10:02:37Z", Facility: "daemon", Severity: "info", Msg: ptr("repeated"),
				Summary: map[string]any{"kind": "repeat", "fp": "9c41e0a7", "count": 2646.0, "first": "2018-09-09T10:02:37Z", "last": "2018-09-09T10:03:07Z",
					"states": map[string]any{"a": 1.0, "b": 2.0}, "unit": "x.service"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Append(nil, JSON, &tt.rec)
			var got jsonRecord
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("invalid JSON %q: %v", b, err)
			}
			if got.Host == nil || got.App == nil || got.ProcID == nil || got.Msg == nil {
				t.Fatalf("missing fields in %s", b)
			}
			if *got.Host != tt.rec.Host || *got.App != tt.rec.App || *got.ProcID != tt.rec.ProcID {
				t.Errorf("host/app/procid = %q/%q/%q, want %q/%q/%q", *got.Host, *got.App, *got.ProcID, tt.rec.Host, tt.rec.App, tt.rec.ProcID)
			}
			if got.Time != tt.want.Time || got.Facility != tt.want.Facility || got.Severity != tt.want.Severity || *got.Msg != *tt.want.Msg {
				t.Errorf("got time %q facility %q severity %q msg %q, want %q %q %q %q",
					got.Time, got.Facility, got.Severity, *got.Msg, tt.want.Time, tt.want.Facility, tt.want.Severity, *tt.want.Msg)
			}
			gs, _ := json.Marshal(got.Summary)
			ws, _ := json.Marshal(tt.want.Summary)
			if !bytes.Equal(gs, ws) {
				t.Errorf("summary = %s, want %s", gs, ws)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestJSONFieldOrder checks that the summary's extra fields follow the
// contract's five in the order given, which decoding into a map hides.
func TestJSONFieldOrder(t *testing.T) {
	r := records()[9] // the cycle
	b := Append(nil, JSON, &r)
	want := `"summary":{"kind":"cycle","fp":"77aa01bc","count":12,"first":"2018-09-09T10:02:37Z","last":"2018-09-09T10:03:07Z","unit":"foo.service","states":{"activating":12,"active":11,"failed":12},"period":3}}`
	if !bytes.Contains(b, []byte(want)) {
		t.Errorf("got %s\nwant it to contain %s", b, want)
	}
}

func TestRFC5424(t *testing.T) {
	tests := []struct {
		name string
		rec  floodgate.Record
		want string
	}{
		{
			name: "nil values",
			rec:  floodgate.Record{Message: floodgate.Message{Facility: 1, Severity: floodgate.Notice, Text: "hello"}},
			want: "<13>1 - - - - - - hello\n",
		},
		{
			name: "no text",
			rec:  floodgate.Record{Message: floodgate.Message{Time: t0, Host: "h", App: "a", Facility: 23, Severity: floodgate.Debug}},
			want: "<191>1 2018-09-09T10:02:37Z h a - - -\n",
		},
		{
			name: "microseconds at most",
			rec:  floodgate.Record{Message: floodgate.Message{Time: tSub, Host: "h", App: "a", ProcID: "1", MsgID: "m", Text: "x"}},
			want: "<0>1 2018-09-09T10:03:07.123456+02:00 h a 1 m - x\n",
		},
		{
			name: "long app cut to 48",
			rec:  floodgate.Record{Message: floodgate.Message{Time: t0, Host: "h", App: strings.Repeat("a", 60), Text: "x"}},
			want: "<0>1 2018-09-09T10:02:37Z h " + strings.Repeat("a", 48) + " - - - x\n",
		},
		{
			name: "summary escapes",
			rec: floodgate.Record{Message: floodgate.Message{Time: t1, Host: "h", App: "a", Text: "t"},
				Summary: &floodgate.Summary{Kind: floodgate.Block, FP: `a"b\c]d`, Count: 3, First: t0, Last: t1}},
			want: `<0>1 2018-09-09T10:03:07Z h a - - [floodgate@32473 kind="block" fp="a\"b\\c\]d" count="3" first="2018-09-09T10:02:37Z" last="2018-09-09T10:03:07Z"] t` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Append(nil, RFC5424, &tt.rec)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestTraditional(t *testing.T) {
	tests := []struct {
		name string
		rec  floodgate.Record
		want string
	}{
		{
			name: "day padded with a space",
			rec:  floodgate.Record{Message: msg("goroutine 2648 [runnable]:")},
			want: "Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: goroutine 2648 [runnable]:\n",
		},
		{
			name: "two-digit day, no procid",
			rec:  floodgate.Record{Message: floodgate.Message{Time: time.Date(2018, 9, 19, 8, 0, 1, 0, time.UTC), Host: "h", App: "systemd", Text: "Started."}},
			want: "Sep 19 08:00:01 h systemd: Started.\n",
		},
		{
			name: "text kept, line breaks escaped",
			rec:  floodgate.Record{Message: floodgate.Message{Time: t0, Host: "h", App: "a", Text: "#011at x\r\nnext\n"}},
			want: "Sep  9 10:02:37 h a: #011at x#015#012next\n",
		},
		{
			name: "summary",
			rec: floodgate.Record{Message: floodgate.Message{Time: t1, Host: "h", App: "a", ProcID: "7", Text: "repeated"},
				Summary: &floodgate.Summary{Kind: floodgate.Suppressed, FP: "ff00", Count: 9, First: t0, Last: tSub}},
			want: "Sep  9 10:03:07 h a[7]: [floodgate kind=suppressed fp=ff00 count=9 first=2018-09-09T10:02:37Z last=2018-09-09T10:03:07.123456789+02:00] repeated\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Append(nil, Traditional, &tt.rec)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Format
		wantErr bool
	}{
		{name: "default", in: "", want: Traditional},
		{name: "traditional", in: "traditional", want: Traditional},
		{name: "rfc5424", in: "rfc5424", want: RFC5424},
		{name: "json", in: "json", want: JSON},
		{name: "unknown", in: "xml", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
				t.Errorf("Parse(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAppendAllocs(t *testing.T) {
	recs := records()
	buf := make([]byte, 0, 4096)
	for _, f := range []Format{Traditional, RFC5424, JSON} {
		for i := range recs {
			n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], f, &recs[i]) })
			if n != 0 && i != len(recs)-1 { // the last carries a float64 field
				t.Errorf("%s record %d: %.1f allocations, want 0", f, i, n)
			}
		}
	}
}

// FuzzJSON checks that any text makes valid JSON whose msg is the text as
// encoding/json would carry it, and one line in every format.
func FuzzJSON(f *testing.F) {
	for _, r := range records() {
		f.Add(r.Text, r.Host)
	}
	f.Fuzz(func(t *testing.T, text, host string) {
		r := floodgate.Record{Message: floodgate.Message{Time: t0, Host: host, App: "a", Text: text}}
		b := Append(nil, JSON, &r)
		var got struct{ Host, Msg string }
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON %q: %v", b, err)
		}
		ref, _ := json.Marshal(text)
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if got.Msg != want {
			t.Errorf("msg = %q, want %q", got.Msg, want)
		}
		for _, f := range []Format{Traditional, RFC5424, JSON} {
			if b := Append(nil, f, &r); bytes.IndexByte(b, '\n') != len(b)-1 {
				t.Errorf("%s: not one line: %q", f, b)
			}
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	r := floodgate.Record{Message: msg("syscall.Syscall6(0x101, 0xffffffffffffff9c, 0xc457325700, 0x800c2, 0x180, 0x0, 0x0, 0xc9e, 0x800c2, 0x0)")}
	s := records()[9]
	for _, f := range []Format{Traditional, RFC5424, JSON} {
		for _, c := range []struct {
			name string
			r    *floodgate.Record
		}{{"message", &r}, {"summary", &s}} {
			b.Run(f.String()+"/"+c.name, func(b *testing.B) {
				buf := make([]byte, 0, 1024)
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					buf = Append(buf[:0], f, c.r)
					n += len(buf)
				}
				b.SetBytes(int64(len(buf)))
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkJSONStdlib is the comparison for the hand-written escaping:
// encoding/json marshalling the same record.
func BenchmarkJSONStdlib(b *testing.B) {
	r := floodgate.Record{Message: msg("syscall.Syscall6(0x101, 0xffffffffffffff9c, 0xc457325700, 0x800c2, 0x180, 0x0, 0x0, 0xc9e, 0x800c2, 0x0)")}
	type rec struct {
		Time     time.Time `json:"time"`
		Host     string    `json:"host"`
		App      string    `json:"app"`
		ProcID   string    `json:"procid"`
		Facility string    `json:"facility"`
		Severity string    `json:"severity"`
		Msg      string    `json:"msg"`
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = json.Marshal(rec{r.Time, r.Host, r.App, r.ProcID, r.Facility.String(), r.Severity.String(), r.Text})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// TestStamp checks the hand-written traditional timestamp against
// time.Stamp over a year of days and every hour.
func TestStamp(t *testing.T) {
	for tm := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); tm.Year() == 2024; tm = tm.Add(7*time.Hour + 13*time.Minute + 17*time.Second) {
		if got, want := string(appendStamp(nil, tm)), tm.Format(time.Stamp); got != want {
			t.Fatalf("appendStamp(%v) = %q, want %q", tm, got, want)
		}
	}
}

// TestMapFields checks that map fields come out in key order, small maps
// (selected in place) and large ones (sorted) alike, and that SD values
// keep to one line.
func TestMapFields(t *testing.T) {
	tests := []struct {
		name string
		keys int
	}{
		{name: "small", keys: 5},
		{name: "large", keys: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]int64{}
			for i := range tt.keys {
				m[fmt.Sprintf("k%03d", (i*37)%tt.keys)] = int64(i)
			}
			r := floodgate.Record{Message: msg("x"), Summary: &floodgate.Summary{Kind: floodgate.Cycle, FP: "f", Count: 1,
				Fields: []floodgate.Field{{Key: "m", Value: m}, {Key: "s", Value: "a\nb]"}, {Key: "n", Value: 7}, {Key: "b", Value: true}}}}
			for _, f := range []Format{JSON, RFC5424} {
				b := string(Append(nil, f, &r))
				last := -1
				for i := range tt.keys {
					at := strings.Index(b, fmt.Sprintf("k%03d", i))
					if at < last {
						t.Fatalf("%s: key k%03d out of order in %s", f, i, b)
					}
					last = at
				}
				if strings.Count(b, "\n") != 1 {
					t.Errorf("%s: not one line: %q", f, b)
				}
			}
			sd := string(Append(nil, RFC5424, &r))
			if !strings.Contains(sd, `s="a#012b\]" n="7" b="true"]`) {
				t.Errorf("SD fields: %s", sd)
			}
			var v struct{ Summary map[string]any }
			if err := json.Unmarshal(Append(nil, JSON, &r), &v); err != nil {
				t.Fatal(err)
			}
			if got := v.Summary["m"].(map[string]any); len(got) != tt.keys {
				t.Errorf("JSON map has %d keys, want %d", len(got), tt.keys)
			}
		})
	}
}
