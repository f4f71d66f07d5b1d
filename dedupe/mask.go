package dedupe

import (
	"github.com/cespare/xxhash/v2"
)

// maskByte stands for a masked variable token in a template. It is a
// control byte that a decoded message never contributes on its own
// (escapes are decoded to the byte they stand for, which is then copied as
// a delimiter, never as part of a token).
const maskByte = 0x00

// Character classes for the single-pass masker, indexed by byte.
const (
	clDelim  = 1 << iota // ends a token: space, punctuation that never sits inside an id
	clDigit              // 0-9
	clHexish             // may appear in a hex id, UUID, MAC or IP: 0-9 a-f A-F : . -
)

var class = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = clDelim
	}
	t[0x7f] = clDelim
	// '/' is no delimiter: a path or URL is one token, a place whose
	// values vary however deep the path.
	for _, c := range []byte(" ,;()[]{}<>\"'=!?@|+*&%$^~`\\") {
		t[c] = clDelim
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clDigit | clHexish
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] |= clHexish
	}
	for c := 'A'; c <= 'F'; c++ {
		t[c] |= clHexish
	}
	for _, c := range []byte(":.-") {
		t[c] |= clHexish
	}
	return t
}()

// escapeAt reports whether s[i:] starts with an rsyslog control-character
// escape (#000 to #037, or #177 for DEL) and returns the byte it stands
// for. rsyslog writes a tab as #011; other '#' sequences ("issue #123") are
// text.
func escapeAt(s string, i int) (byte, bool) {
	if i+3 >= len(s) || s[i] != '#' {
		return 0, false
	}
	a, b, c := s[i+1], s[i+2], s[i+3]
	if a == '0' && b >= '0' && b <= '3' && c >= '0' && c <= '7' {
		return (b-'0')<<3 | (c - '0'), true
	}
	if a == '1' && b == '7' && c == '7' {
		return 0x7f, true
	}
	return 0, false
}

// appendTemplate appends the template of text to dst and returns it. The
// template is the text with rsyslog's escapes decoded and every variable
// token replaced by maskByte:
//
//   - 0x and hex digits (pointers, hex arguments);
//   - a token made only of hex digits, ':', '.' and '-' that holds a digit
//     (numbers, UUIDs, MACs, IPv4 and IPv6 addresses with ports, dates,
//     clock times, hex ids, quoted or not);
//   - in any other token, each run of digits with an optional decimal
//     part (the 12 of "12 minutes", the 1.5 of "1.5s", the 10 of
//     "ip-10-18-39-127");
//   - the day and month names of a timestamp written out ("Fri Jun 17
//     07:07:00 2005", isDateName), whose numbers are masked anyway.
//
// Other letters outside hex ids are never masked, so messages that
// differ in words have different templates. The masker reads text once and
// allocates nothing when dst has room.
func appendTemplate(dst []byte, text string) []byte {
	dst, _ = scanTemplate(dst, nil, text)
	return dst
}

// Token kinds, as scanTemplate records them.
const (
	tokWord   = iota // letters only, kept as it is: a word
	tokMixed         // letters with digits: kept, its digit runs masked
	tokMasked        // masked whole: a number, hex value, address or id
)

// token is one token of a scanned line (not a delimiter): where it
// stands in the template and in the text, and what the masker made of it.
type token struct {
	ts, te int32 // in the template
	ss, se int32 // in the text
	kind   uint8
	key    bool // followed by '=': a key name
}

// maxTokens bounds the tokens scanTemplate records of one line; the rest
// of a longer line is masked as usual but never learned from.
const maxTokens = 48

// scanTemplate is appendTemplate that also records the line's tokens in
// toks (up to maxTokens, when toks is not nil) and returns it.
func scanTemplate(dst []byte, toks []token, text string) ([]byte, []token) {
	rec := toks != nil
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		if c == '#' {
			if d, ok := escapeAt(text, i); ok {
				dst = append(dst, d)
				i += 4
				continue
			}
		}
		if class[c]&clDelim != 0 {
			dst = append(dst, c)
			i++
			continue
		}
		// A token: scan to its end, classifying as we go.
		start := i
		all := uint8(clHexish | clDigit)
		var any uint8
		for i < n {
			c := text[i]
			k := class[c]
			if k&clDelim != 0 {
				break
			}
			if c == '#' {
				if _, ok := escapeAt(text, i); ok {
					break
				}
			}
			if c|0x20 == 'x' && i == start+1 && text[start] == '0' {
				k = clHexish // the x of 0x: the token may still be a hex literal
			}
			all &= k
			any |= k
			i++
		}
		tok := text[start:i]
		hexish := all&clHexish != 0
		digit := any&clDigit != 0
		ts := len(dst)
		var kind uint8
		switch {
		case hexish && digit:
			dst = append(dst, maskByte)
			kind = tokMasked
		case digit:
			dst = appendDigitsMasked(dst, tok)
			kind = tokMixed
		case i-start == 3 && text[start]-'A' < 26 && isDateName(text, start):
			dst = append(dst, maskByte)
			kind = tokMasked
		default:
			dst = append(dst, tok...)
		}
		if rec && len(toks) < maxTokens {
			key := i < n && text[i] == '='
			toks = append(toks, token{ts: int32(ts), te: int32(len(dst)), ss: int32(start), se: int32(i), kind: kind, key: key})
		}
	}
	return dst, toks
}

// isDateName reports whether the three letters at text[at:] name a day or
// a month of a timestamp written out ("Fri Jun 17 07:07:00 2005", Java's
// "Mon Dec 08 01:32:52 UTC 2026", "Jun 17 07:07:00"): a month followed
// by a day and a clock time, or a weekday followed by such a month. A
// timestamp is a variable token like a number; a month or day name
// standing alone ("closed on Mon", "the Jun report") is a word.
func isDateName(text string, at int) bool {
	if isWeekday(text[at : at+3]) {
		at += 4
		if at+3 > len(text) || text[at-1] != ' ' || !isMonth(text[at:at+3]) {
			return false
		}
	} else if !isMonth(text[at : at+3]) {
		return false
	}
	return dayClock(text[at+3:])
}

// dayClock reports whether s starts with " D HH:MM" or " DD HH:MM" (a
// space more before a one-digit day, as syslog pads it).
func dayClock(s string) bool {
	if len(s) < 2 || s[0] != ' ' {
		return false
	}
	s = s[1:]
	if s[0] == ' ' {
		s = s[1:]
	}
	d := 0
	for d < len(s) && d < 3 && s[d] >= '0' && s[d] <= '9' {
		d++
	}
	if d == 0 || d > 2 || len(s) < d+6 || s[d] != ' ' {
		return false
	}
	s = s[d+1:]
	return isDigit(s[0]) && isDigit(s[1]) && s[2] == ':' && isDigit(s[3]) && isDigit(s[4])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWeekday(w string) bool {
	switch w {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

func isMonth(w string) bool {
	switch w {
	case "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec":
		return true
	}
	return false
}

// appendDigitsMasked appends tok with each run of digits (and an optional
// ".digits" after it) replaced by maskByte.
func appendDigitsMasked(dst []byte, tok string) []byte {
	for j := 0; j < len(tok); {
		if class[tok[j]]&clDigit == 0 {
			dst = append(dst, tok[j])
			j++
			continue
		}
		for j < len(tok) && class[tok[j]]&clDigit != 0 {
			j++
		}
		if j+1 < len(tok) && tok[j] == '.' && class[tok[j+1]]&clDigit != 0 {
			j++
			for j < len(tok) && class[tok[j]]&clDigit != 0 {
				j++
			}
		}
		dst = append(dst, maskByte)
	}
	return dst
}

// Template returns the masked template of a message text, with masked
// tokens shown as '#', for tests, examples and debugging. The engine
// itself only hashes templates and never builds this string.
func Template(text string) string {
	b := appendTemplate(nil, text)
	for i, c := range b {
		if c == maskByte {
			b[i] = '#'
		}
	}
	return string(b)
}

// Fingerprint returns the stable 64-bit hash of a text's template: the
// same for texts that differ only in variable tokens, across runs and
// processes (xxhash has no per-process seed).
func Fingerprint(text string) uint64 {
	var buf [512]byte
	return xxhash.Sum64(appendTemplate(buf[:0], text))
}

// FormatFP renders a 64-bit fingerprint as the short hex string summaries
// carry: its top 32 bits as 8 hex digits.
func FormatFP(h uint64) string {
	const hex = "0123456789abcdef"
	var b [8]byte
	v := uint32(h >> 32)
	for i := 7; i >= 0; i-- {
		b[i] = hex[v&0xf]
		v >>= 4
	}
	return string(b[:])
}
