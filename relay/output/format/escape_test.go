package format

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/floodgate/floodgate"
)

func TestEscapeControl(t *testing.T) {
	tests := []struct {
		name string
		text string
		opts Options
		want string // the text as the traditional and RFC 5424 lines end
	}{
		{name: "terminal escape", text: "\x1b[2J\x1b]0;pwned\x07 hi", want: "#033[2J#033]0;pwned#007 hi"},
		{name: "backspace, nul, del", text: "a\bb\x00c\x7fd", want: "a#010b#000c#177d"},
		{name: "tab as rsyslog writes it", text: "a\tb", want: "a#011b"},
		{name: "every C0 control", text: "\x01\x02\x03\x04\x05\x06\x0b\x0c\x0e\x0f\x10\x1f", want: "#001#002#003#004#005#006#013#014#016#017#020#037"},
		{name: "C1 control in UTF-8", text: "x\u009b31m y", want: "x#302#23331m y"},
		{name: "rsyslog's own escape kept", text: "#011already text", want: "#011already text"},
		{name: "UTF-8 kept", text: "é ü → 日本", want: "é ü → 日本"},
		{name: "line breaks", text: "a\r\nb\n", want: "a#015#012b"},
		{name: "raw keeps controls", text: "\x1b[1m\tb\x00", opts: Options{RawControl: true}, want: "\x1b[1m\tb\x00"},
		{name: "raw still breaks no line", text: "a\nb\rc", opts: Options{RawControl: true}, want: "a#012b#015c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := msg(tt.text)
			r := floodgate.Record{Message: m}
			for _, f := range []Format{Traditional, RFC5424} {
				line := string(tt.opts.Append(nil, f, &r))
				if !strings.HasSuffix(line, " "+tt.want+"\n") {
					t.Errorf("%s: got %q, want it to end in %q", f, line, tt.want)
				}
			}
			// JSON carries the text exactly, control characters included.
			var rec struct{ Msg string }
			if err := json.Unmarshal(tt.opts.Append(nil, JSON, &r), &rec); err != nil || rec.Msg != tt.text {
				t.Errorf("json msg = %q, %v; want %q", rec.Msg, err, tt.text)
			}
		})
	}
}

// TestEscapeControlStructuredData checks that a received message's
// structured data is escaped like its text.
func TestEscapeControlStructuredData(t *testing.T) {
	m := msg("t")
	m.StructuredData = "[x@1 a=\"\x1b[31m\"]"
	got := string(Append(nil, RFC5424, &floodgate.Record{Message: m}))
	if want := ` [x@1 a="#033[31m"] t` + "\n"; !strings.HasSuffix(got, want) {
		t.Errorf("got %q, want it to end in %q", got, want)
	}
}

// summaryRule is how a reader recognises floodgate's summary in the text
// formats: the traditional bracket at the start of the text, or the
// RFC 5424 structured data element, anywhere in the line.
var (
	tradRule = regexp.MustCompile(`^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ [^:]*: \[floodgate kind=(\S+) fp=(\S+) count=(\d+)[^]]*\]`)
	sdRule   = regexp.MustCompile(`\[floodgate@32473 [^]]*count="(\d+)"`)
	anyRule  = regexp.MustCompile(`\[floodgate[ @]`)
)

func TestForgedSummary(t *testing.T) {
	forged := `[floodgate kind=repeat fp=9c41e0a7 count=1000000 first=2018-09-09T10:02:37Z last=2018-09-09T10:03:07Z] message repeated`
	forgedSD := `[floodgate@32473 kind="repeat" fp="9c41e0a7" count="1000000" first="2018-09-09T10:02:37Z" last="2018-09-09T10:03:07Z"]`
	tests := []struct {
		name string
		text string
		sd   string
		opts Options
	}{
		{name: "bracket at the start", text: forged},
		{name: "bracket at the start, raw", text: forged, opts: Options{RawControl: true}},
		{name: "bracket later in the text", text: "x " + forged},
		{name: "structured data element in the text", text: forgedSD + " hi"},
		{name: "structured data element as structured data", text: "hi", sd: forgedSD},
		{name: "inside another element's value", text: "hi", sd: `[x@1 v="` + strings.ReplaceAll(forgedSD, "]", `\]`) + `"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := msg(tt.text)
			m.StructuredData = tt.sd
			r := floodgate.Record{Message: m}
			for _, f := range []Format{Traditional, RFC5424} {
				line := string(tt.opts.Append(nil, f, &r))
				if tradRule.MatchString(line) || sdRule.MatchString(line) || anyRule.MatchString(line) {
					t.Errorf("%s: %q passes for a summary", f, line)
				}
			}
			var rec struct{ Msg, SD string }
			if err := json.Unmarshal(Append(nil, JSON, &r), &rec); err != nil || rec.Msg != tt.text || rec.SD != tt.sd {
				t.Errorf("json = %+v, %v; want msg and sd as received", rec, err)
			}
		})
	}
	// The rules do recognise floodgate's own summaries.
	sum := floodgate.Record{Message: msg(forged), Summary: &floodgate.Summary{Kind: floodgate.Repeat, FP: "ab", Count: 5, First: t0, Last: t1,
		Fields: []floodgate.Field{{Key: "unit", Value: "[floodgate@32473 count=\"9\""}}}}
	if line := string(Append(nil, Traditional, &sum)); tradRule.FindStringSubmatch(line)[3] != "5" || strings.Count(line, "[floodgate") != 1 {
		t.Errorf("traditional summary %q: want its own bracket, and only it, recognised", line)
	}
	if line := string(Append(nil, RFC5424, &sum)); sdRule.FindStringSubmatch(line)[1] != "5" || strings.Count(line, "[floodgate@") != 1 {
		t.Errorf("rfc5424 summary %q: want its own element, and only it, recognised", line)
	}
}
