package gen

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/floodgate/floodgate"
)

// Format is the shape of one record in a capture file or on the wire. It is
// the generator's output choice, not floodgate.Syntax (which records how a
// message arrived): one message can be rendered in every Format.
type Format int

// Capture formats, as the README lists what replay accepts.
const (
	// Traditional is rsyslog's file line without <PRI>, as in
	// /var/log/syslog: `Sep  9 10:02:37 host app[pid]: text`.
	Traditional Format = iota
	// RFC3164 is `<PRI>` followed by the traditional line.
	RFC3164
	// RFC5424 is `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
	RFC5424
	// OctetCounted is RFC 5424 inside RFC 6587 octet-counting framing
	// (`LEN SP MSG`, no trailer), what rsyslog and syslog-ng send over TCP
	// when told to.
	OctetCounted
)

var formatNames = [...]string{"traditional", "rfc3164", "rfc5424", "octet"}

// String returns the name ParseFormat accepts.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat reads a format name as the command line spells it:
// "traditional" (or "trad"), "rfc3164" ("3164"), "rfc5424" ("5424"),
// "octet" ("octet-counted", "rfc6587").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "traditional", "trad":
		return Traditional, nil
	case "rfc3164", "3164":
		return RFC3164, nil
	case "rfc5424", "5424":
		return RFC5424, nil
	case "octet", "octet-counted", "octetcounted", "rfc6587", "6587":
		return OctetCounted, nil
	}
	return 0, fmt.Errorf("unknown format %q (want traditional, rfc3164, rfc5424 or octet)", s)
}

// Append renders m as one record of a capture file in format f and appends
// it to dst: line formats end with '\n', OctetCounted carries its length
// prefix and no trailer. It allocates nothing when dst has room, so a
// sender can render millions of messages into one reused buffer.
//
// Line formats escape control characters the way rsyslog does (a tab
// becomes #011), because a line-based file cannot carry a newline and
// because that is what /var/log/syslog holds; OctetCounted keeps the text
// raw, since its framing can carry any byte.
func Append(dst []byte, m *floodgate.Message, f Format) []byte {
	switch f {
	case RFC3164:
		dst = appendPRI(dst, m)
		dst = appendTraditional(dst, m)
		return append(dst, '\n')
	case RFC5424:
		dst = appendRFC5424(dst, m, true)
		return append(dst, '\n')
	case OctetCounted:
		start := len(dst)
		dst = appendRFC5424(dst, m, false)
		n := len(dst) - start
		var num [20]byte
		prefix := strconv.AppendInt(num[:0], int64(n), 10)
		prefix = append(prefix, ' ')
		dst = append(dst, prefix...) // grow by len(prefix)
		copy(dst[start+len(prefix):], dst[start:start+n])
		copy(dst[start:], prefix)
		return dst
	default:
		dst = appendTraditional(dst, m)
		return append(dst, '\n')
	}
}

// Write renders every message of g in format f to w, buffered, and returns
// how many messages and bytes it wrote.
func Write(w io.Writer, g Generator, f Format) (msgs, bytes int64, err error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	var m floodgate.Message
	buf := make([]byte, 0, 4096)
	for g.Next(&m) {
		buf = Append(buf[:0], &m, f)
		if _, err := bw.Write(buf); err != nil {
			return msgs, bytes, fmt.Errorf("write capture: %w", err)
		}
		msgs++
		bytes += int64(len(buf))
	}
	if err := bw.Flush(); err != nil {
		return msgs, bytes, fmt.Errorf("write capture: %w", err)
	}
	return msgs, bytes, nil
}

func appendPRI(dst []byte, m *floodgate.Message) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(m.Facility)*8+int64(m.Severity&7), 10)
	return append(dst, '>')
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendTraditional writes `Sep  9 10:02:37 host app[pid]: text`; the
// stamp is formatted by hand because time.AppendFormat is the slowest part
// of rendering a line.
func appendTraditional(dst []byte, m *floodgate.Message) []byte {
	_, mon, day := m.Time.Date()
	hh, mm, ss := m.Time.Clock()
	dst = append(dst, months[mon-1]...)
	dst = append(dst, ' ')
	if day < 10 {
		dst = append(dst, ' ', byte('0'+day))
	} else {
		dst = append(dst, byte('0'+day/10), byte('0'+day%10))
	}
	dst = append(dst, ' ')
	dst = append2(dst, hh)
	dst = append(dst, ':')
	dst = append2(dst, mm)
	dst = append(dst, ':')
	dst = append2(dst, ss)
	dst = append(dst, ' ')
	dst = appendField(dst, m.Host)
	dst = append(dst, ' ')
	dst = appendField(dst, m.App)
	if m.ProcID != "" {
		dst = append(dst, '[')
		dst = append(dst, m.ProcID...)
		dst = append(dst, ']')
	}
	dst = append(dst, ':', ' ')
	return appendEscaped(dst, m.Text)
}

func appendRFC5424(dst []byte, m *floodgate.Message, escape bool) []byte {
	dst = appendPRI(dst, m)
	dst = append(dst, '1', ' ')
	dst = appendStamp5424(dst, m.Time)
	dst = append(dst, ' ')
	dst = appendField(dst, m.Host)
	dst = append(dst, ' ')
	dst = appendField(dst, m.App)
	dst = append(dst, ' ')
	dst = appendField(dst, m.ProcID)
	dst = append(dst, ' ')
	dst = appendField(dst, m.MsgID)
	dst = append(dst, ' ')
	dst = appendField(dst, m.StructuredData)
	if m.Text == "" {
		return dst
	}
	dst = append(dst, ' ')
	if escape {
		return appendEscaped(dst, m.Text)
	}
	return append(dst, m.Text...)
}

// appendStamp5424 writes an RFC 3339 stamp with microseconds, by hand for
// UTC (the generators' zone) and through AppendFormat otherwise.
func appendStamp5424(dst []byte, t time.Time) []byte {
	if t.Location() != time.UTC {
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000000Z07:00")
	}
	dst = appendDateTime(dst, t, 'T')
	us := t.Nanosecond() / 1000
	dst = append(dst, '.',
		byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10),
		byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10), 'Z')
	return dst
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10%10), byte('0'+v%10))
}

// appendField writes an RFC 5424 header field: "-" when empty.
func appendField(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '-')
	}
	return append(dst, s...)
}

// appendEscaped writes s with control characters as rsyslog's #ooo octal
// escapes (#011 for a tab), the fast path being a plain copy.
func appendEscaped(dst []byte, s string) []byte {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] != 0x7f {
		i++
	}
	if i == len(s) {
		return append(dst, s...)
	}
	for j := 0; j < len(s); j++ {
		c := s[j]
		if c < 0x20 || c == 0x7f {
			dst = append(dst, '#', byte('0'+c>>6), byte('0'+c>>3&7), byte('0'+c&7))
			continue
		}
		dst = append(dst, c)
	}
	return dst
}
