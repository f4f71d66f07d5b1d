package parse

import (
	"encoding/binary"
	"time"
)

// header locates the fields of a plain RFC 3164 or traditional line in its
// frame: [<PRI>]Mmm dd hh:mm:ss [host ]tag[pid]: text, or the same with an
// RFC 3339 stamp. host == hostEnd when the line has no hostname.
type header struct {
	pri                      int       // -1 when absent
	rfc3339                  stamp3339 // set when the stamp is RFC 3339
	month                    time.Month
	day, hour, min, sec      int
	host, hostEnd            int
	tag, tagEnd, pid, pidEnd int
	text                     int
}

// Limits of go-syslog's RFC 3164 grammar, kept by the scanner so that it
// never accepts what the machine would read otherwise.
const (
	maxHost = 255
	maxTag  = 48
)

// scan accepts the plain shape of an RFC 3164 or traditional line, the
// shape of nearly every line of a flood, and locates its fields without
// allocating: an optional valid <PRI>, a Stamp or RFC 3339 timestamp, a
// space, a hostname (or none) and a space, a tag with an optional
// non-empty [pid], ": ", and a non-empty text of printable bytes, tabs or
// bytes from 0x80 up. It reports false for everything else, ambiguous or
// unusual forms included, which then go to go-syslog's machines; on what
// it accepts it agrees with them (see FuzzFastPath).
func scan(f []byte) (h header, ok bool) {
	i := 0
	h.pri = -1
	if len(f) > 0 && f[0] == '<' {
		pri, n := scanPRI(f)
		if n == 0 {
			return h, false
		}
		h.pri, i = pri, n
	}
	if i < len(f) && f[i] >= '0' && f[i] <= '9' {
		if i, ok = scanRFC3339(f, i, &h.rfc3339); !ok {
			return h, false
		}
	} else {
		// "Mmm dd hh:mm:ss " is 16 bytes.
		if len(f)-i < 16 || !scanStamp(f[i:i+15], &h) || f[i+15] != ' ' {
			return h, false
		}
		i += 16
	}
	// Hostname: graph bytes except ':', and no brackets, which would make
	// it look like a tag to the machine. A first word that is a tag
	// instead, as in journald's forwarding format, holds a ':', which no
	// hostname does: then the line has no hostname.
	h.host = i
	for i < len(f) && f[i] != ' ' {
		c := f[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '[' || c == ']' {
			if h, ok = scanTag(f, h.host, h); ok {
				h.hostEnd = h.host
			}
			return h, ok
		}
		i++
	}
	h.hostEnd = i
	// A hostname "-" is one go-syslog reports as none: leave it to the
	// machine path.
	if h.hostEnd == h.host || h.hostEnd-h.host > maxHost || i >= len(f) || h.hostEnd-h.host == 1 && f[h.host] == '-' {
		return h, false
	}
	return scanTag(f, i+1, h)
}

// scanTag reads `tag[pid]: text` or `tag: text` from f[i:] into h.
func scanTag(f []byte, i int, h header) (header, bool) {
	// Tag: printable except space, ':' and brackets.
	h.tag = i
	for i < len(f) && f[i] != ':' && f[i] != '[' {
		c := f[i]
		if c <= ' ' || c >= 0x7f || c == ']' {
			return h, false
		}
		i++
	}
	h.tagEnd = i
	if h.tagEnd == h.tag || h.tagEnd-h.tag > maxTag || i >= len(f) || h.tagEnd-h.tag == 1 && f[h.tag] == '-' {
		return h, false
	}
	if f[i] == '[' {
		i++
		h.pid = i
		for i < len(f) && f[i] != ']' {
			c := f[i]
			if c <= ' ' || c >= 0x7f || c == '[' {
				return h, false
			}
			i++
		}
		h.pidEnd = i
		if h.pidEnd == h.pid || i >= len(f) {
			return h, false
		}
		i++ // ']'
	}
	if len(f)-i < 3 || f[i] != ':' || f[i+1] != ' ' {
		return h, false
	}
	h.text = i + 2
	return h, visible(f[h.text:])
}

// visible reports whether b holds only bytes go-syslog's RFC 3164 grammar
// takes as text: printable ASCII, tab, and bytes from 0x80 up. It checks
// eight bytes at a time, since it reads every byte of every text.
func visible(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		// A byte under 0x20 or equal to 0x7f sets its high bit in
		// (x-0x20..)&^x or (y-0x01..)&^y, y = x^0x7f..; bytes from 0x80
		// up never do. A set bit may be a tab: look closer.
		y := x ^ 0x7f*ones
		if ((x-0x20*ones)&^x|(y-ones)&^y)&highs != 0 && !visibleBytes(b[:8]) {
			return false
		}
		b = b[8:]
	}
	return visibleBytes(b)
}

func visibleBytes(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// scanPRI reads a <PRI> as go-syslog's grammar has it: 0, or 1 to 191
// without leading zeros. It returns the value and the bytes read, 0 when
// the PRI is not valid.
func scanPRI(f []byte) (pri, n int) {
	if len(f) == 0 || f[0] != '<' {
		return 0, 0
	}
	i := 1
	for i < len(f) && i <= 4 && f[i] >= '0' && f[i] <= '9' {
		pri = pri*10 + int(f[i]-'0')
		i++
	}
	digits := i - 1
	if digits == 0 || i >= len(f) || f[i] != '>' || digits > 3 || pri > 191 || digits > 1 && f[1] == '0' {
		return 0, 0
	}
	return pri, i + 1
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// daysIn is the longest each month gets, Feb 29 included: go-syslog reads
// the stamp in year 0, a leap year.
var daysIn = [...]int{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// scanStamp reads "Mmm dd hh:mm:ss" (the day space-padded or, leniently,
// zero-padded) into h, rejecting what time.Parse(time.Stamp) or the
// grammar would reject.
func scanStamp(b []byte, h *header) bool {
	h.month = monthOf(b)
	if h.month == 0 || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' {
		return false
	}
	switch d0, d1 := b[4], b[5]; {
	case (d0 == ' ' || d0 == '0') && d1 >= '1' && d1 <= '9':
		h.day = int(d1 - '0')
	case d0 >= '1' && d0 <= '3' && d1 >= '0' && d1 <= '9':
		h.day = int(d0-'0')*10 + int(d1-'0')
	default:
		return false
	}
	if h.day > daysIn[h.month-1] {
		return false
	}
	var ok1, ok2, ok3 bool
	h.hour, ok1 = twoDigits(b[7], b[8], 23)
	h.min, ok2 = twoDigits(b[10], b[11], 59)
	h.sec, ok3 = twoDigits(b[13], b[14], 59)
	return ok1 && ok2 && ok3
}

// monthOf returns the month whose name b starts with (case matters, as in
// go-syslog's grammar), or 0.
func monthOf(b []byte) time.Month {
	for i, m := range months {
		if b[0] == m[0] && b[1] == m[1] && b[2] == m[2] {
			return time.Month(i + 1)
		}
	}
	return 0
}

func twoDigits(a, b byte, max int) (int, bool) {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	n := int(a-'0')*10 + int(b-'0')
	return n, n <= max
}
