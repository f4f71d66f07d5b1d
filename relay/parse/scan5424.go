package parse

import (
	"bytes"
	"unicode/utf8"
)

// header5424 locates the fields of a plain RFC 5424 message in its frame.
// A field's start equals its end when it is the nil value "-".
type header5424 struct {
	pri               int
	ts                stamp3339
	host, hostEnd     int
	app, appEnd       int
	procid, procidEnd int
	msgid, msgidEnd   int
	sd, sdEnd         int // sd == sdEnd for "-"
	text              int // len(frame) when there is no text
}

// stamp3339 is an RFC 3339 timestamp as read, before it becomes a
// time.Time; set is false for RFC 5424's nil value and for a Stamp.
type stamp3339 struct {
	set                  bool
	year, month, day     int
	hour, min, sec, nsec int
	utc                  bool // "Z"
	offset               int  // seconds east of UTC, when not utc
}

// Limits of go-syslog's RFC 5424 grammar.
const (
	maxApp    = 48
	maxProcID = 128
	maxMsgID  = 32
	maxSDName = 32
)

// scan5424 accepts an RFC 5424 message of version 1 with valid fields, as
// go-syslog's machine would read it without error, and locates its fields
// without allocating. It reports false for anything it is not sure of,
// which then goes to the machine (FuzzFastPath5424 holds it to it).
func scan5424(f []byte) (h header5424, ok bool) {
	pri, i := scanPRI(f)
	if i == 0 || len(f)-i < 2 || f[i] != '1' || f[i+1] != ' ' {
		return h, false
	}
	h.pri = pri
	i += 2
	if i, ok = scanStamp5424(f, i, &h.ts); !ok {
		return h, false
	}
	if h.host, h.hostEnd, i, ok = scanField(f, i, maxHost); !ok {
		return h, false
	}
	if h.app, h.appEnd, i, ok = scanField(f, i, maxApp); !ok {
		return h, false
	}
	if h.procid, h.procidEnd, i, ok = scanField(f, i, maxProcID); !ok {
		return h, false
	}
	if h.msgid, h.msgidEnd, i, ok = scanField(f, i, maxMsgID); !ok {
		return h, false
	}
	h.sd = i
	if i < len(f) && f[i] == '-' {
		i++
		h.sdEnd = h.sd
	} else {
		if i, ok = scanSD(f, i); !ok {
			return h, false
		}
		h.sdEnd = i
	}
	switch {
	case i == len(f):
		h.text = i
	case f[i] == ' ':
		h.text = i + 1
	default:
		return h, false
	}
	return h, true
}

// scanField reads one header field and the space after it: 1 to max graph
// bytes, or "-" (returned as an empty span).
func scanField(f []byte, i, max int) (start, end, next int, ok bool) {
	start = i
	for i < len(f) && f[i] != ' ' {
		if f[i] <= ' ' || f[i] >= 0x7f {
			return 0, 0, 0, false
		}
		i++
	}
	if i == start || i-start > max || i >= len(f) {
		return 0, 0, 0, false
	}
	if i-start == 1 && f[start] == '-' {
		return start, start, i + 1, true
	}
	return start, i, i + 1, true
}

// scanStamp5424 reads an RFC 5424 timestamp, "-" or RFC 3339, and the space
// after it.
func scanStamp5424(f []byte, i int, ts *stamp3339) (int, bool) {
	if len(f)-i >= 2 && f[i] == '-' && f[i+1] == ' ' {
		return i + 2, true
	}
	return scanRFC3339(f, i, ts)
}

// scanRFC3339 reads YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm) and the space
// after it, checking what time.Parse and go-syslog's grammar check (the day
// of the month, at most 6 digits of fraction).
func scanRFC3339(f []byte, i int, ts *stamp3339) (int, bool) {
	b := f[i:]
	if len(b) < 21 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	var ok [6]bool
	var y1, y2 int
	y1, ok[0] = twoDigits(b[0], b[1], 99)
	y2, ok[1] = twoDigits(b[2], b[3], 99)
	ts.year = y1*100 + y2
	ts.month, ok[2] = twoDigits(b[5], b[6], 12)
	ts.day, ok[3] = twoDigits(b[8], b[9], 31)
	ts.hour, ok[4] = twoDigits(b[11], b[12], 23)
	ts.min, ok[5] = twoDigits(b[14], b[15], 59)
	for _, o := range ok {
		if !o {
			return 0, false
		}
	}
	var sok bool
	if ts.sec, sok = twoDigits(b[17], b[18], 59); !sok || ts.month == 0 || ts.day == 0 || ts.day > monthDays(ts.year, ts.month) {
		return 0, false
	}
	j := 19
	ts.nsec = 0
	if b[j] == '.' {
		j++
		n, scale := 0, 100000000
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			if n == 6 {
				return 0, false
			}
			ts.nsec += int(b[j]-'0') * scale
			scale /= 10
			n++
			j++
		}
		if n == 0 {
			return 0, false
		}
	}
	if j >= len(b) {
		return 0, false
	}
	switch b[j] {
	case 'Z':
		ts.utc, ts.offset = true, 0
		j++
	case '+', '-':
		if len(b)-j < 6 || b[j+3] != ':' {
			return 0, false
		}
		oh, ok1 := twoDigits(b[j+1], b[j+2], 23)
		om, ok2 := twoDigits(b[j+4], b[j+5], 59)
		if !ok1 || !ok2 {
			return 0, false
		}
		ts.utc, ts.offset = false, oh*3600+om*60
		if b[j] == '-' {
			ts.offset = -ts.offset
		}
		j += 6
	default:
		return 0, false
	}
	if j >= len(b) || b[j] != ' ' {
		return 0, false
	}
	ts.set = true
	return i + j + 1, true
}

func monthDays(year, month int) int {
	if month == 2 && !(year%4 == 0 && (year%100 != 0 || year%400 == 0)) {
		return 28
	}
	return daysIn[month-1]
}

// scanSD reads one or more structured data elements starting at f[i]:
// [id( name="value")*], names of 1 to 32 graph bytes other than '=', ']'
// and '"', values valid UTF-8 with '"', '\' and ']' escaped, and no id
// twice (the machine rejects duplicates).
func scanSD(f []byte, i int) (int, bool) {
	var ids [8][]byte
	n := 0
	for i < len(f) && f[i] == '[' {
		i++
		id := i
		if i = scanSDName(f, i); i == id {
			return 0, false
		}
		if n == len(ids) {
			return 0, false
		}
		for _, prev := range ids[:n] {
			if bytes.Equal(prev, f[id:i]) {
				return 0, false
			}
		}
		ids[n] = f[id:i]
		n++
		for i < len(f) && f[i] == ' ' {
			name := i + 1
			if i = scanSDName(f, name); i == name || len(f)-i < 2 || f[i] != '=' || f[i+1] != '"' {
				return 0, false
			}
			i += 2
			v := i
			for i < len(f) && f[i] != '"' {
				switch f[i] {
				case ']':
					return 0, false
				case '\\':
					if i+1 >= len(f) || f[i+1] != '"' && f[i+1] != ']' && f[i+1] != '\\' {
						return 0, false
					}
					i++
				}
				i++
			}
			if i >= len(f) || !utf8.Valid(f[v:i]) {
				return 0, false
			}
			i++ // closing quote
		}
		if i >= len(f) || f[i] != ']' {
			return 0, false
		}
		i++
	}
	return i, n > 0
}

// scanSDName reads an SD-ID or PARAM-NAME at f[i:] and returns its end.
func scanSDName(f []byte, i int) int {
	start := i
	for i < len(f) && i-start < maxSDName {
		c := f[i]
		if c <= ' ' || c >= 0x7f || c == '=' || c == ']' || c == '"' {
			break
		}
		i++
	}
	if i < len(f) && i-start == maxSDName {
		if c := f[i]; c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"' {
			return start // longer than 32
		}
	}
	return i
}
