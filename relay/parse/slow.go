package parse

import (
	"bytes"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// is5424 reports whether f starts like RFC 5424: <PRI>, a version, a space.
func is5424(f []byte) bool {
	_, n := scanPRI(f)
	if n == 0 || n >= len(f) || f[n] < '1' || f[n] > '9' {
		return false
	}
	for i := n + 1; i < len(f) && i <= n+3; i++ {
		if f[i] == ' ' {
			return true
		}
		if f[i] < '0' || f[i] > '9' {
			return false
		}
	}
	return false
}

// parse5424 fills m from an RFC 5424 frame with go-syslog's machine. It
// reports false when the machine finds not even a valid header start.
func (p *Parser) parse5424(f []byte, received time.Time, m *floodgate.Message) bool {
	res, err := p.m5.Parse(f)
	sm, _ := res.(*rfc5424.SyslogMessage)
	if sm == nil || sm.Priority == nil {
		return false
	}
	m.Syntax = floodgate.SyntaxRFC5424
	m.Facility, m.Severity = floodgate.Facility(*sm.Facility), floodgate.Severity(*sm.Severity)
	m.Time = received
	if sm.Timestamp != nil {
		m.Time = *sm.Timestamp
	}
	m.Host, m.App = orDash(deref(sm.Hostname)), orDash(deref(sm.Appname))
	m.ProcID, m.MsgID = deref(sm.ProcID), deref(sm.MsgID)
	_, pri := scanPRI(f)
	if err != nil {
		// Partly read: keep what the machine found, and everything after
		// the PRI as text, so nothing is lost.
		m.Text = string(f[pri:])
		return true
	}
	sd, text := split5424(f, pri)
	if sd != "-" {
		m.StructuredData = sd
	}
	m.Text = text
	return true
}

// split5424 returns the structured data and the text of an RFC 5424 frame
// the machine read without error, as received: the machine gives a map for
// the one and may lose nothing of the other, but the outputs want the bytes.
func split5424(f []byte, i int) (sd, text string) {
	// VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, one space after each.
	for n := 0; n < 6; n++ {
		j := bytes.IndexByte(f[i:], ' ')
		if j < 0 {
			return "", ""
		}
		i += j + 1
	}
	start := i
	if i < len(f) && f[i] == '-' {
		i++
	} else {
		for i < len(f) && f[i] == '[' {
			i = sdElementEnd(f, i)
		}
	}
	sd = string(f[start:i])
	if i < len(f) && f[i] == ' ' {
		text = string(f[i+1:])
	}
	return sd, text
}

// sdElementEnd returns the index after the ']' that closes the element
// starting at f[i], minding quoted values and their backslash escapes.
func sdElementEnd(f []byte, i int) int {
	quoted := false
	for i++; i < len(f); i++ {
		switch c := f[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ']':
			return i + 1
		}
	}
	return i
}

// parse3164 fills m from an RFC 3164 or traditional frame with go-syslog's
// machine. It reports false when the machine finds nothing.
//
// The machine is a DFA over alternatives (with or without a hostname, with
// or without a tag), and on frames where an alternative fails late it can
// report fields of one and the text of another (`host app[12] hello`
// comes out as app "app", procid "12", text "12] hello"). So the fields are
// checked against the frame in order, those that are not where they should
// be are dropped, and the text is what follows the last field found.
func (p *Parser) parse3164(f []byte, received time.Time, m *floodgate.Message) bool {
	res, _ := p.m3.Parse(p.sanitize(f))
	sm, _ := res.(*rfc3164.SyslogMessage)
	if sm == nil {
		return false
	}
	i := 0
	if sm.Priority != nil {
		// Best effort reports a PRI from the digits it read before it
		// failed: "<200>" comes out as 20. Only a whole valid PRI counts.
		pri, n := scanPRI(f)
		if n == 0 || pri != int(*sm.Priority) {
			return false
		}
		m.Syntax = floodgate.SyntaxRFC3164
		m.Facility, m.Severity = floodgate.Facility(pri/8), floodgate.Severity(pri%8)
		i = n
	} else {
		m.Syntax = floodgate.SyntaxTraditional
		m.Facility, m.Severity = defaultFacility, defaultSeverity
	}
	m.Time = received
	host, app, pid := deref(sm.Hostname), deref(sm.Appname), deref(sm.ProcID)
	header := sm.Timestamp != nil // a stamp and the spaces after it
	if header {
		t := *sm.Timestamp
		i = skipSpaces(f, i)
		if i < len(f) && f[i] >= '0' && f[i] <= '9' {
			// RFC 3339: it has its year and zone.
			m.Time = t
			for i < len(f) && f[i] != ' ' {
				i++
			}
		} else {
			h, mi, s := t.Clock()
			m.Time = p.stamp(t.Month(), t.Day(), h, mi, s, received)
			i = min(i+len(time.Stamp), len(f))
		}
		if j := skipSpaces(f, i); j > i || j == len(f) {
			i = j
		} else {
			header = false
		}
	}
	if !header {
		host, app, pid = "", "", ""
	}
	// go-syslog reports a hostname or a tag "-" as none, but the frame
	// still has it: skip it when what follows is the tag, or the text,
	// the machine found.
	if header && host == "" && len(f)-i > 2 && f[i] == '-' && f[i+1] == ' ' {
		if j := skipSpaces(f, i+2); app != "" && isTag(f, j, app, pid) || app == "" && isDashTag(f, j, pid, sm.Message) {
			i = j
		}
	}
	if host != "" {
		if j, ok := field(f, i, host); ok && j < len(f) && f[j] == ' ' {
			i = skipSpaces(f, j)
		} else {
			host = ""
		}
	}
	switch {
	case app != "":
		if j, ok := tagEnd(f, i, app, pid); ok {
			i = j
		} else {
			app, pid = "", ""
		}
	case header && isDashTag(f, i, pid, sm.Message):
		i, _ = tagEnd(f, i, "-", pid)
	}
	m.Host, m.App, m.ProcID = orDash(host), orDash(app), pid
	m.Text = string(f[i:])
	return true
}

// sanitize returns f, or, when f holds bytes the RFC 3164 grammar takes
// nowhere (control bytes but tab), a copy with '?' in their place. The
// machine stops at such a byte and, without a PRI, then reports nothing:
// a traditional line with an ANSI colour code in its text would lose its
// host and app. The fields it finds in the copy are checked against f
// itself, byte for byte, and the text is taken from f, so a '?' never
// reaches a message.
func (p *Parser) sanitize(f []byte) []byte {
	if visible(f) {
		return f
	}
	if cap(p.scratch) > maxScratch {
		p.scratch = nil
	}
	p.scratch = append(p.scratch[:0], f...)
	for i, c := range p.scratch {
		if c < ' ' && c != '\t' || c == 0x7f {
			p.scratch[i] = '?'
		}
	}
	return p.scratch
}

// isTag reports whether `app[pid]: ` is at f[i:].
func isTag(f []byte, i int, app, pid string) bool {
	_, ok := tagEnd(f, i, app, pid)
	return ok
}

// isDashTag reports whether a tag "-" is at f[i:], followed by the text msg
// the machine found.
func isDashTag(f []byte, i int, pid string, msg *string) bool {
	j, ok := tagEnd(f, i, "-", pid)
	return ok && msg != nil && len(f)-j == len(*msg)
}

// tagEnd matches `app[pid]: ` (or `app: `, or `app[]: `) at f[i:] and
// returns the index after it.
func tagEnd(f []byte, i int, app, pid string) (int, bool) {
	j, ok := field(f, i, app)
	if !ok {
		return 0, false
	}
	if pid != "" || j+1 < len(f) && f[j] == '[' && f[j+1] == ']' {
		if j >= len(f) || f[j] != '[' {
			return 0, false
		}
		if j, ok = field(f, j+1, pid); !ok || j >= len(f) || f[j] != ']' {
			return 0, false
		}
		j++
	}
	if j+2 > len(f) || f[j] != ':' || f[j+1] != ' ' {
		return 0, false
	}
	return j + 2, true
}

// field reports whether s is at f[i:] and returns the index after it.
func field(f []byte, i int, s string) (int, bool) {
	if i > len(f) || len(f)-i < len(s) || string(f[i:i+len(s)]) != s {
		return 0, false
	}
	return i + len(s), true
}

func skipSpaces(f []byte, i int) int {
	for i < len(f) && f[i] == ' ' {
		i++
	}
	return i
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
