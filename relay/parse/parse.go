package parse

import (
	"time"

	"github.com/floodgate/floodgate"
	syslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// Options configure a Parser.
type Options struct {
	// Location is the zone RFC 3164 and traditional timestamps are read in,
	// since they carry none: the zone of the host that wrote them. Nil
	// means time.Local.
	Location *time.Location
}

// Facility and severity of a line without <PRI>: rsyslog assumes user.notice
// for such input, so a replayed capture files its lines where rsyslog would.
const (
	defaultFacility = floodgate.Facility(1) // user
	defaultSeverity = floodgate.Notice
)

// Interning bounds: a flood repeats a few hosts, apps and pids, but a
// hostile or merely diverse input must not grow the cache without end.
const (
	maxInterned    = 1024
	maxInternedLen = 128
	// maxScratch bounds the buffer kept between parses; a larger frame
	// gets a buffer of its own.
	maxScratch = 64 << 10
)

// Parser parses frames into messages. It reuses go-syslog's machines and
// its string cache between calls, so it is not safe for concurrent use:
// give each goroutine its own.
type Parser struct {
	loc  *time.Location
	m3   syslog.Machine
	m5   syslog.Machine
	strs map[string]string
	// last holds the last host, app, procid, msgid and structured data
	// seen, checked before strs: in a flood the next message nearly always
	// repeats them.
	last  [5]string
	ts    stampCache
	zones map[int]*time.Location // RFC 5424 offsets seen, by seconds east
	// scratch holds a frame with its control bytes replaced, for the RFC
	// 3164 machine (see sanitize).
	scratch []byte
}

// New returns a Parser configured by opts.
func New(opts Options) *Parser {
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}
	return &Parser{
		loc:   loc,
		m3:    newMachine3164(),
		m5:    rfc5424.NewMachine(rfc5424.WithBestEffort()),
		strs:  make(map[string]string, 64),
		zones: make(map[int]*time.Location),
	}
}

// newMachine3164 returns go-syslog's RFC 3164 machine as Parse uses it:
// best effort, "Sep 09" accepted, no <PRI> needed (traditional lines), and
// RFC 3339 stamps accepted (rsyslog's high-precision formats, the default
// of /var/log/syslog on recent distributions). The machine reads a Stamp in
// UTC in year 0 (a leap year, so Feb 29 passes); Parse takes the wall clock
// from it and decides the year and the zone itself.
func newMachine3164() syslog.Machine {
	return rfc3164.NewMachine(
		rfc3164.WithBestEffort(),
		rfc3164.WithLenientDay(),
		rfc3164.WithOptionalPriority(),
		rfc3164.WithRFC3339(),
	)
}

// Parse fills *m from one frame, a message without its framing (a trailing
// CR or LF is trimmed). It never fails: a frame that fits no format becomes
// an Unparsed message holding the whole frame. received is the time the
// frame arrived: RFC 3164 and traditional timestamps get the latest year
// that puts them at most MaxSkew after it, and a message without a timestamp gets it. m.Size is
// len(frame); m.Input is left as the caller set it. Parse keeps nothing of
// frame after it returns.
func (p *Parser) Parse(frame []byte, received time.Time, m *floodgate.Message) {
	*m = floodgate.Message{Input: m.Input, Size: len(frame)}
	f := trimEOL(frame)
	if h, ok := scan(f); ok {
		p.fillFast(f, &h, received, m)
		return
	}
	if !maybeSyslog(f) {
		unparsed(f, received, m)
		return
	}
	if h, ok := scan5424(f); ok {
		p.fillFast5424(f, &h, received, m)
		return
	}
	if is5424(f) && p.parse5424(f, received, m) {
		return
	}
	if p.parse3164(f, received, m) {
		return
	}
	unparsed(f, received, m)
}

// maybeSyslog reports whether the machines could read anything in f: a
// frame must start with a valid <PRI>, or, without one, with the month of a
// Stamp or the first digit of an RFC 3339 timestamp. The check spares the
// lines of a raw dump (a goroutine stack piped through logger -f, say) the
// machines' failed parses, which cost microseconds and allocate errors.
func maybeSyslog(f []byte) bool {
	if len(f) > 0 && f[0] == '<' {
		_, n := scanPRI(f)
		return n > 0
	}
	return len(f) >= 3 && (monthOf(f) != 0 || f[0] >= '0' && f[0] <= '9')
}

// fillFast fills m from a frame the scanner accepted.
func (p *Parser) fillFast(f []byte, h *header, received time.Time, m *floodgate.Message) {
	if h.pri < 0 {
		m.Syntax = floodgate.SyntaxTraditional
		m.Facility, m.Severity = defaultFacility, defaultSeverity
	} else {
		m.Syntax = floodgate.SyntaxRFC3164
		m.Facility, m.Severity = floodgate.Facility(h.pri/8), floodgate.Severity(h.pri%8)
	}
	if h.rfc3339.set {
		ts := &h.rfc3339
		m.Time = time.Date(ts.year, time.Month(ts.month), ts.day, ts.hour, ts.min, ts.sec, ts.nsec, p.zone(ts))
	} else {
		m.Time = p.stamp(h.month, h.day, h.hour, h.min, h.sec, received)
	}
	m.Host = orDash(p.intern(lastHost, f[h.host:h.hostEnd]))
	m.App = p.intern(lastApp, f[h.tag:h.tagEnd])
	if h.pid < h.pidEnd {
		m.ProcID = p.intern(lastProcID, f[h.pid:h.pidEnd])
	}
	m.Text = string(f[h.text:])
}

// fillFast5424 fills m from a frame scan5424 accepted.
func (p *Parser) fillFast5424(f []byte, h *header5424, received time.Time, m *floodgate.Message) {
	m.Syntax = floodgate.SyntaxRFC5424
	m.Facility, m.Severity = floodgate.Facility(h.pri/8), floodgate.Severity(h.pri%8)
	m.Time = received
	if ts := &h.ts; ts.set {
		m.Time = time.Date(ts.year, time.Month(ts.month), ts.day, ts.hour, ts.min, ts.sec, ts.nsec, p.zone(ts))
	}
	m.Host = orDash(p.intern(lastHost, f[h.host:h.hostEnd]))
	m.App = orDash(p.intern(lastApp, f[h.app:h.appEnd]))
	m.ProcID = p.intern(lastProcID, f[h.procid:h.procidEnd])
	m.MsgID = p.intern(lastMsgID, f[h.msgid:h.msgidEnd])
	m.StructuredData = p.intern(lastSD, f[h.sd:h.sdEnd])
	if h.text < len(f) {
		m.Text = string(f[h.text:])
	}
}

// zone returns the location of an RFC 5424 offset, made once per offset:
// time.FixedZone allocates.
func (p *Parser) zone(ts *stamp3339) *time.Location {
	if ts.utc {
		return time.UTC
	}
	loc, ok := p.zones[ts.offset]
	if !ok {
		if len(p.zones) >= maxInterned {
			clear(p.zones)
		}
		loc = time.FixedZone("", ts.offset)
		p.zones[ts.offset] = loc
	}
	return loc
}

// unparsed keeps a frame that fits no format whole.
func unparsed(f []byte, received time.Time, m *floodgate.Message) {
	m.Syntax = floodgate.Unparsed
	m.Facility, m.Severity = defaultFacility, defaultSeverity
	m.Time = received
	m.Host, m.App = "-", "-"
	m.Text = string(f)
}

// trimEOL drops the CRs and LFs a line framing may leave at the end.
func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Slots of Parser.last.
const (
	lastHost = iota
	lastApp
	lastProcID
	lastMsgID
	lastSD
)

// intern returns b as a string, shared with earlier calls that saw the same
// bytes, so that the hosts, apps and pids of a flood cost no allocation.
// slot names the field, whose last value is tried first.
func (p *Parser) intern(slot int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s := p.last[slot]; s == string(b) {
		return s
	}
	s := p.lookup(b)
	p.last[slot] = s
	return s
}

// lookup returns b as a string from the parser's cache, adding it.
func (p *Parser) lookup(b []byte) string {
	if len(b) > maxInternedLen {
		return string(b)
	}
	if s, ok := p.strs[string(b)]; ok {
		return s
	}
	if len(p.strs) >= maxInterned {
		clear(p.strs)
	}
	s := string(b)
	p.strs[s] = s
	return s
}

// orDash returns s, or "-" for an unknown host or app.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
