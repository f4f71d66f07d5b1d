package format

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/floodgate/floodgate"
)

// Format is an output format.
type Format uint8

// Output formats, as the [[output]] key format names them.
const (
	// Traditional is rsyslog's RSYSLOG_TraditionalFileFormat:
	// `Sep  9 10:02:37 host app[procid]: text`.
	Traditional Format = iota
	// RFC5424 is `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
	RFC5424
	// JSON is one object per line.
	JSON
)

var names = [...]string{Traditional: "traditional", RFC5424: "rfc5424", JSON: "json"}

// String returns the format's name as the config spells it.
func (f Format) String() string {
	if int(f) < len(names) {
		return names[f]
	}
	return "unknown"
}

// Parse returns the format named name. The empty name is Traditional, the
// contract's default.
func Parse(name string) (Format, error) {
	if name == "" {
		return Traditional, nil
	}
	for i, n := range names {
		if n == name {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("format %q: want \"traditional\", \"rfc5424\" or \"json\"", name)
}

// PEN is the private enterprise number of floodgate's RFC 5424 structured
// data IDs, as docs/output-format.md fixes it.
const PEN = "32473"

// Options are an output's choices of how its records are written. The zero
// value is the default.
type Options struct {
	// RawControl writes control characters in the traditional and RFC 5424
	// formats as received instead of as rsyslog's #ooo escapes. Line feeds
	// and carriage returns are escaped all the same, and so is a text that
	// could pass for a summary. JSON always escapes as JSON requires.
	RawControl bool
}

// Append appends r, rendered in format f with the default Options and
// ended by a newline, to dst and returns the extended buffer. It allocates
// only when dst must grow (and for a summary field whose value is not a
// string, an int64 or a map[string]int64 of up to 64 keys).
func Append(dst []byte, f Format, r *floodgate.Record) []byte {
	return Options{}.Append(dst, f, r)
}

// Append is the package's Append with the choices of o.
func (o Options) Append(dst []byte, f Format, r *floodgate.Record) []byte {
	switch f {
	case RFC5424:
		return appendRFC5424(dst, r, o.RawControl)
	case JSON:
		return appendJSON(dst, r)
	}
	return appendTraditional(dst, r, o.RawControl)
}

// Layouts of times.
const (
	// rfc3339 keeps sub-second digits only when present; AppendFormat has
	// a fast path for exactly this layout.
	rfc3339 = time.RFC3339Nano
)

// appendTime appends t in RFC 3339 in its own zone.
func appendTime(dst []byte, t time.Time) []byte {
	return t.AppendFormat(dst, rfc3339)
}

const months = "JanFebMarAprMayJunJulAugSepOctNovDec"

// appendStamp appends t as rsyslog's traditional timestamp, time.Stamp
// ("Sep  9 10:02:37", the day padded with a space), by hand: AppendFormat
// reads its layout on every call and takes twice as long.
func appendStamp(dst []byte, t time.Time) []byte {
	_, mon, day := t.Date()
	hh, mm, ss := t.Clock()
	m := int(mon-1) * 3
	dst = append(dst, months[m:m+3]...)
	if day < 10 {
		dst = append(dst, ' ', ' ', byte('0'+day))
	} else {
		dst = append(dst, ' ', byte('0'+day/10), byte('0'+day%10))
	}
	return append(dst, ' ',
		byte('0'+hh/10), byte('0'+hh%10), ':',
		byte('0'+mm/10), byte('0'+mm%10), ':',
		byte('0'+ss/10), byte('0'+ss%10))
}

// reserved are the summary keys of the contract; an extra field with one of
// these names would repeat a key, so it is left out.
func reserved(key string) bool {
	switch key {
	case "kind", "fp", "count", "first", "last":
		return true
	}
	return false
}

// summaryMark is how a summary's bracket begins in the text formats. A
// received text that holds it has its '[' written as #133, so that no
// sender can pass a line off as floodgate's own summary.
const summaryMark = "[floodgate"

// appendText appends a message text to a line format: one trailing line
// feed dropped, other line feeds and carriage returns as rsyslog's #012 and
// #015, unless raw every other control character (C0, DEL, and C1 encoded
// in UTF-8) as rsyslog's #ooo (TAB as #011), "[floodgate" as
// "#133floodgate", every other byte as received.
func appendText(dst []byte, s string, raw bool) []byte {
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
	}
	look := &textLook
	if raw {
		look = &rawLook
	}
	start := 0
	for i := 0; i < len(s); i++ {
		// Eight bytes at a time past the bytes that are written as they
		// came, the bulk of every text: a word with none to look at is
		// skipped whole.
		i = skipPlain(s, i, raw)
		if i >= len(s) {
			break
		}
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
			// A C1 control such as U+009B, CSI to some terminals: both
			// bytes escaped, as rsyslog's 8-bit escaping would.
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

// Masks for the byte tests of skipPlain, one byte repeated eight times.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// skipPlain returns i moved on by whole words of eight bytes, none of
// which appendText must look at (textLook, or rawLook when raw): the
// first word that holds one, or the tail under eight bytes. Each test is
// exact for the word as a whole: x-ones&^x&highs is set when a byte of x
// is zero (of x^c: equal to c), x-0x20..&^x when one is under 0x20.
func skipPlain(s string, i int, raw bool) int {
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		br := x ^ '['*ones
		hit := (br - ones) &^ br
		if raw {
			lf, cr := x^'\n'*ones, x^'\r'*ones
			hit |= (lf-ones)&^lf | (cr-ones)&^cr
		} else {
			del, c2 := x^0x7f*ones, x^0xc2*ones
			hit |= (x-0x20*ones)&^x | (del-ones)&^del | (c2-ones)&^c2
		}
		if hit&highs != 0 {
			return i
		}
	}
	return i
}

// textLook[c] is set for the bytes appendText must look at: control
// characters, '[' and the first byte of a C1 control in UTF-8. rawLook
// leaves out all but line breaks and '['.
var textLook, rawLook = func() (text, raw [256]bool) {
	for c := range 256 {
		text[c] = c < ' ' || c == 0x7f || c == '[' || c == 0xc2
	}
	raw['\n'], raw['\r'], raw['['] = true, true, true
	return text, raw
}()

// appendOctal appends c as rsyslog escapes it, '#' and three octal digits.
func appendOctal(dst []byte, c byte) []byte {
	return append(dst, '#', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
}

// appendSD appends the structured data of a received RFC 5424 message as
// received, but for line breaks and control characters as in appendText
// and "[floodgate" written as "[_floodgate": an element of the sender's
// cannot pass for floodgate's own [floodgate@32473 ...], and the
// structured data still parses.
func appendSD(dst []byte, s string, raw bool) []byte {
	for {
		i := strings.Index(s, summaryMark)
		if i < 0 {
			return appendText(dst, s, raw)
		}
		dst = appendText(dst, s[:i+1], raw)
		dst = append(dst, '_')
		s = s[i+1:]
	}
}

// appendToken appends s with every byte that bad marks written as '_', "-"
// when s is empty, and at most max bytes (0: no limit). bad is a table,
// not a function, so that the loop over every byte of a host, app and pid
// calls nothing.
func appendToken(dst []byte, s string, max int, bad *[256]bool) []byte {
	if s == "" {
		return append(dst, '-')
	}
	if max > 0 && len(s) > max {
		s = s[:max]
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if bad[s[i]] {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '_')
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}

// Tables of appendToken, built from the tests below.
var (
	badPrint        = table(notPrint)
	badWord         = table(notWord)
	badTag          = table(notTag)
	badSDName       = table(notSDName)
	badSummaryValue = table(notSummaryValue)
)

// table returns the bytes for which bad reports true, as a table.
func table(bad func(byte) bool) *[256]bool {
	var t [256]bool
	for c := range 256 {
		t[c] = bad(byte(c))
	}
	return &t
}

// notPrint reports whether c is outside printable US-ASCII (33 to 126), the
// characters RFC 5424 allows in its header fields.
func notPrint(c byte) bool { return c < 33 || c > 126 }

// notWord is notPrint for a traditional host; raw UTF-8 host names are kept.
func notWord(c byte) bool { return c <= ' ' || c == 0x7f }

// notTag is notWord for a traditional tag: app and procid also end at
// '[', ']' and ':'.
func notTag(c byte) bool { return notWord(c) || c == '[' || c == ']' || c == ':' }

// notSDName reports whether c may not appear in an RFC 5424 SD-NAME.
func notSDName(c byte) bool { return notPrint(c) || c == '=' || c == ']' || c == '"' }

// notSummaryValue is notWord, and ']', for the values of the traditional
// summary prefix, which a space or a ']' would cut short.
func notSummaryValue(c byte) bool { return notWord(c) || c == ']' }

func appendTraditional(dst []byte, r *floodgate.Record, raw bool) []byte {
	dst = appendStamp(dst, r.Time)
	dst = append(dst, ' ')
	dst = appendToken(dst, r.Host, 0, badWord)
	dst = append(dst, ' ')
	dst = appendToken(dst, r.App, 0, badTag)
	if r.ProcID != "" {
		dst = append(dst, '[')
		dst = appendToken(dst, r.ProcID, 0, badTag)
		dst = append(dst, ']')
	}
	dst = append(dst, ':', ' ')
	if s := r.Summary; s != nil {
		dst = append(dst, "[floodgate kind="...)
		dst = append(dst, s.Kind.String()...)
		dst = append(dst, " fp="...)
		dst = appendToken(dst, s.FP, 0, badSummaryValue)
		dst = append(dst, " count="...)
		dst = strconv.AppendInt(dst, s.Count, 10)
		dst = append(dst, " first="...)
		dst = appendTime(dst, s.First)
		dst = append(dst, " last="...)
		dst = appendTime(dst, s.Last)
		dst = append(dst, ']')
		if r.Text == "" {
			return append(dst, '\n')
		}
		dst = append(dst, ' ')
	}
	dst = appendText(dst, r.Text, raw)
	return append(dst, '\n')
}

// RFC 5424 field lengths.
const (
	maxHost   = 255
	maxApp    = 48
	maxProcID = 128
	maxMsgID  = 32
	maxSDName = 32
)

func appendRFC5424(dst []byte, r *floodgate.Record, raw bool) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendUint(dst, uint64(r.Facility)*8+uint64(r.Severity&7), 10)
	dst = append(dst, ">1 "...)
	if r.Time.IsZero() {
		dst = append(dst, '-')
	} else {
		// RFC 5424 allows at most six digits of a second.
		dst = appendTime(dst, r.Time.Truncate(time.Microsecond))
	}
	dst = append(dst, ' ')
	dst = appendToken(dst, r.Host, maxHost, badPrint)
	dst = append(dst, ' ')
	dst = appendToken(dst, r.App, maxApp, badPrint)
	dst = append(dst, ' ')
	dst = appendToken(dst, r.ProcID, maxProcID, badPrint)
	dst = append(dst, ' ')
	dst = appendToken(dst, r.MsgID, maxMsgID, badPrint)
	dst = append(dst, ' ')
	switch s := r.Summary; {
	case s != nil:
		dst = append(dst, "[floodgate@"+PEN+" kind=\""...)
		dst = appendSDValue(dst, s.Kind.String())
		dst = append(dst, "\" fp=\""...)
		dst = appendSDValue(dst, s.FP)
		dst = append(dst, "\" count=\""...)
		dst = strconv.AppendInt(dst, s.Count, 10)
		dst = append(dst, "\" first=\""...)
		dst = appendTime(dst, s.First)
		dst = append(dst, "\" last=\""...)
		dst = appendTime(dst, s.Last)
		dst = append(dst, "\"]"...)
		dst = appendSDFields(dst, s.Fields)
	case r.StructuredData != "":
		// Verbatim messages keep their structured data as received.
		dst = appendSD(dst, r.StructuredData, raw)
	default:
		dst = append(dst, '-')
	}
	if r.Text != "" {
		dst = append(dst, ' ')
		dst = appendText(dst, r.Text, raw)
	}
	return append(dst, '\n')
}

// appendSDValue appends s as an RFC 5424 PARAM-VALUE: '"', '\' and ']'
// escaped with a backslash, line breaks, control characters and
// "[floodgate" as in appendText.
func appendSDValue(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == ']':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
		case c < ' ' || c == 0x7f || c == '[' && strings.HasPrefix(s[i:], summaryMark):
			dst = append(dst, s[start:i]...)
			dst = appendOctal(dst, c)
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}

// appendSDFields appends a summary's extra fields as a second structured
// data element, so that the contract's element stays exactly as fixed.
func appendSDFields(dst []byte, fields []floodgate.Field) []byte {
	n := 0
	for _, fl := range fields {
		if reserved(fl.Key) || fl.Key == "" {
			continue
		}
		if _, ok := fl.Value.([]floodgate.Varied); ok {
			continue // the summary's text says what varied, after the elements
		}
		if n == 0 {
			dst = append(dst, "[floodgate-fields@"+PEN...)
		}
		n++
		dst = append(dst, ' ')
		dst = appendToken(dst, fl.Key, maxSDName, badSDName)
		dst = append(dst, '=', '"')
		switch v := fl.Value.(type) {
		case string:
			dst = appendSDValue(dst, v)
		case map[string]int64:
			// "k1:n1,k2:n2" with keys in order.
			first := true
			forSorted(v, func(k string, n int64) {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = appendSDValue(dst, k)
				dst = append(dst, ':')
				dst = strconv.AppendInt(dst, n, 10)
			})
		default:
			// Numbers and bools need no escaping.
			if b, ok := appendScalar(dst, v); ok {
				dst = b
			} else {
				dst = appendSDValue(dst, fmt.Sprint(v))
			}
		}
		dst = append(dst, '"')
	}
	if n > 0 {
		dst = append(dst, ']')
	}
	return dst
}

// appendScalar appends a number or a bool as JSON would write it.
func appendScalar(dst []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case int:
		return strconv.AppendInt(dst, int64(v), 10), true
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), true
	case uint64:
		return strconv.AppendUint(dst, v, 10), true
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), true
	case bool:
		return strconv.AppendBool(dst, v), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return append(dst, "null"...), true
		}
		return strconv.AppendFloat(dst, v, 'g', -1, 64), true
	case time.Duration:
		return strconv.AppendInt(dst, int64(v), 10), true
	}
	return dst, false
}

// forSorted calls fn for every entry of m in the order of the keys. Up to
// 64 keys it selects the next key on each pass, which allocates nothing;
// summaries carry a handful.
func forSorted(m map[string]int64, fn func(k string, v int64)) {
	if len(m) > 64 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fn(k, m[k])
		}
		return
	}
	var prev string
	for i := 0; i < len(m); i++ {
		var next string
		found := false
		for k := range m {
			if (i == 0 || k > prev) && (!found || k < next) {
				next, found = k, true
			}
		}
		fn(next, m[next])
		prev = next
	}
}

func appendJSON(dst []byte, r *floodgate.Record) []byte {
	dst = append(dst, `{"time":"`...)
	dst = appendTime(dst, r.Time)
	dst = append(dst, `","host":`...)
	dst = appendJSONString(dst, r.Host)
	dst = append(dst, `,"app":`...)
	dst = appendJSONString(dst, r.App)
	dst = append(dst, `,"procid":`...)
	dst = appendJSONString(dst, r.ProcID)
	dst = append(dst, `,"facility":"`...)
	dst = append(dst, r.Facility.String()...)
	dst = append(dst, `","severity":"`...)
	dst = append(dst, r.Severity.String()...)
	dst = append(dst, `",`...)
	if r.MsgID != "" {
		dst = append(dst, `"msgid":`...)
		dst = appendJSONString(dst, r.MsgID)
		dst = append(dst, ',')
	}
	if r.Event != "" {
		dst = append(dst, `"event":`...)
		dst = appendJSONString(dst, r.Event)
		dst = append(dst, ',')
	}
	if r.StructuredData != "" && r.Summary == nil {
		dst = append(dst, `"sd":`...)
		dst = appendJSONString(dst, r.StructuredData)
		dst = append(dst, ',')
	}
	dst = append(dst, `"msg":`...)
	dst = appendJSONString(dst, r.Text)
	if s := r.Summary; s != nil {
		dst = append(dst, `,"summary":{"kind":"`...)
		dst = append(dst, s.Kind.String()...)
		dst = append(dst, `","fp":`...)
		dst = appendJSONString(dst, s.FP)
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, s.Count, 10)
		dst = append(dst, `,"first":"`...)
		dst = appendTime(dst, s.First)
		dst = append(dst, `","last":"`...)
		dst = appendTime(dst, s.Last)
		dst = append(dst, '"')
		for _, fl := range s.Fields {
			if reserved(fl.Key) {
				continue
			}
			dst = append(dst, ',')
			dst = appendJSONString(dst, fl.Key)
			dst = append(dst, ':')
			dst = appendJSONValue(dst, fl.Value)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}', '\n')
}

func appendJSONValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendJSONString(dst, v)
	case map[string]int64:
		dst = append(dst, '{')
		first := true
		forSorted(v, func(k string, n int64) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = strconv.AppendInt(dst, n, 10)
		})
		return append(dst, '}')
	case []floodgate.Varied:
		// [{"distinct":9,"top":[{"value":"vol-07","count":3},...]},...]
		dst = append(dst, '[')
		for i, p := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"distinct":`...)
			dst = strconv.AppendInt(dst, p.Distinct, 10)
			dst = append(dst, `,"top":[`...)
			for j, t := range p.Top {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, `{"value":`...)
				dst = appendJSONString(dst, t.Value)
				dst = append(dst, `,"count":`...)
				dst = strconv.AppendInt(dst, t.Count, 10)
				dst = append(dst, '}')
			}
			dst = append(dst, "]}"...)
		}
		return append(dst, ']')
	case nil:
		return append(dst, "null"...)
	}
	if b, ok := appendScalar(dst, v); ok {
		return b
	}
	return appendJSONString(dst, fmt.Sprint(v))
}

const hex = "0123456789abcdef"

// safe[c] is true for the ASCII bytes a JSON string holds as they are.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != 0x7f
	}
	return t
}()

// appendJSONString appends s as a quoted JSON string. Control characters
// are escaped, invalid UTF-8 bytes become U+FFFD, and U+2028 and U+2029 are
// escaped so the line is also valid JavaScript, as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
