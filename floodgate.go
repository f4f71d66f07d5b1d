// Package floodgate holds the types that flow through the pipeline: a
// Message as received, a Summary that stands for messages not written, the
// Record that carries either, and the Handler chain they pass along.
//
// The relay parses input into Messages, hands Records to a chain of
// Handlers per shard (dedupe, then ratelimit, then the outputs), and every
// stage either passes a record on or counts it into a Summary that it emits
// later. That is how "nothing is lost" (docs/output-format.md) is kept stage by stage:
// for every source, verbatim records plus the sum of Summary.Count equal the
// messages received.
//
// The package is small and has no dependencies so that dedupe and ratelimit
// can import it without importing relay.
package floodgate

import (
	"net/netip"
	"time"
)

// Facility is the syslog facility, 0 (kern) to 23 (local7).
type Facility uint8

// Severity is the syslog severity, 0 (emerg) to 7 (debug). Lower is worse.
type Severity uint8

// Severities by name, for readable comparisons.
const (
	Emerg Severity = iota
	Alert
	Crit
	Err
	Warning
	Notice
	Info
	Debug
)

var facilityNames = [...]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

var severityNames = [...]string{
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
}

// String returns the facility's name as syslog.conf spells it ("daemon").
func (f Facility) String() string {
	if int(f) < len(facilityNames) {
		return facilityNames[f]
	}
	return "unknown"
}

// String returns the severity's name as syslog.conf spells it ("err").
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// ParseFacility returns the facility named name ("daemon"), or false.
func ParseFacility(name string) (Facility, bool) {
	for i, n := range facilityNames {
		if n == name {
			return Facility(i), true
		}
	}
	return 0, false
}

// ParseSeverity returns the severity named name ("err"); the common
// aliases "error", "warn", "panic" and "crit"ical forms are accepted too.
func ParseSeverity(name string) (Severity, bool) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), true
		}
	}
	switch name {
	case "panic":
		return Emerg, true
	case "critical":
		return Crit, true
	case "error":
		return Err, true
	case "warn":
		return Warning, true
	}
	return 0, false
}

// Syntax says how a message arrived (the syslog syntax it was read in),
// so an output can keep what it can. It is not the output format, which
// package relay/output/format names.
type Syntax uint8

// Syntaxes of a message.
const (
	// Unparsed is a message that fit no syslog syntax: Text holds the
	// whole line, Host and App are "-".
	Unparsed Syntax = iota
	// SyntaxRFC3164 is `<PRI>` followed by an RFC 3164 header.
	SyntaxRFC3164
	// SyntaxRFC5424 is an RFC 5424 message.
	SyntaxRFC5424
	// SyntaxTraditional is rsyslog's file format without <PRI>
	// (`Sep  9 10:02:37 host app[pid]: text`), as in /var/log/syslog.
	SyntaxTraditional
	// Internal is a message floodgate wrote itself (a warning, an alarm).
	Internal
)

// Message is one syslog message as received. Strings only, so a stage may
// keep a copy of a Message without copying bytes.
type Message struct {
	// Time is the message's own timestamp (the receive time where the
	// message carried none).
	Time     time.Time
	Host     string
	App      string
	ProcID   string
	MsgID    string // RFC 5424 MSGID, "" when absent
	Facility Facility
	Severity Severity
	// Text is the message text exactly as received: rsyslog's #011
	// escapes stay as they came.
	Text string
	// StructuredData is the RFC 5424 structured data as received, "" when
	// absent.
	StructuredData string
	Syntax         Syntax
	// Input names the input the message came from ("tcp 127.0.0.1:5514").
	Input string
	// Peer is the address the message came from over the network, the IP
	// without the port (a TCP sender's port changes with every
	// connection); the zero Addr where there is none (a unix socket,
	// stdin, a replay).
	Peer netip.Addr
	// Event names what happened ("disk_low") on a record floodgate
	// writes about itself (Syntax Internal, app "floodgate"); "" on every
	// message received.
	Event string
	// Size is the number of bytes the message took on the wire (or the
	// line in a capture); budgets charge it.
	Size int
	// Seq numbers the messages of a replay in the order they were read,
	// from 1; 0 where nobody numbers them (a live relay).
	Seq uint64
}

// Kind is the kind of a Summary.
type Kind uint8

// Summary kinds, as docs/output-format.md names them.
const (
	// Repeat: a single-line pattern repeated.
	Repeat Kind = iota + 1
	// Block: a multi-line block such as a goroutine stack repeated.
	Block
	// Cycle: a repeating sequence such as a restart loop.
	Cycle
	// Suppressed: dropped by a budget or the disk guard.
	Suppressed
)

// String returns the contract's name of the kind ("repeat").
func (k Kind) String() string {
	switch k {
	case Repeat:
		return "repeat"
	case Block:
		return "block"
	case Cycle:
		return "cycle"
	case Suppressed:
		return "suppressed"
	}
	return "unknown"
}

// Field is one extra name/value pair of a summary beyond the contract's
// kind, fp, count, first and last. Value is a string, an int64, a
// map[string]int64 or a []Varied; outputs render them in the order given.
type Field struct {
	Key   string
	Value any
}

// Varied is what varied at one place of the lines a summary stands for:
// how many distinct values turned up there, and the most frequent few.
type Varied struct {
	Distinct int64
	Top      []ValueCount
}

// ValueCount is one value and how many of the lines had it.
type ValueCount struct {
	Value string
	Count int64
}

// Summary stands for Count received messages that were not written
// verbatim.
type Summary struct {
	Kind Kind
	// FP is the pattern's fingerprint, the same string for the same
	// pattern throughout a run.
	FP    string
	Count int64
	// First and Last are the timestamps of the first and last message the
	// summary stands for.
	First, Last time.Time
	// Fields are extra facts (states seen, the unit of a restart loop,
	// bytes dropped, the budget that applied).
	Fields []Field
}

// Record is what flows between stages: a message to write verbatim, or,
// when Summary is not nil, a summary record. A summary record's Message
// carries the host, app, procid, facility and severity of the messages it
// stands for, Time its last timestamp, and Text a human sentence.
type Record struct {
	Message
	Summary *Summary
	// Prep, when not nil, is work a stage may do on a message without its
	// state, done ahead of the shard where the message was parsed, so
	// that one source's flood uses more than one core (dedupe's
	// *Prepared). A stage that finds none, or none of its own, does the
	// work itself; a stage that builds a record leaves it nil.
	Prep any
	// Counted is set on a message written in place of a count that was
	// pending (dedupe writes a few held lines instead of their summary):
	// a checkpoint may hold its count, so a crash-safe sink holds it back
	// like a summary until the checkpoint no longer does.
	Counted bool
}

// Pending is a count a stage holds and has not yet emitted in a summary:
// what a crash would lose. The relay's checkpoint keeps them (relay/checkpoint.go).
type Pending struct {
	Host, App string
	Kind      Kind
	FP        string
	// Reason says why, for Kind Suppressed ("budget", "disk").
	Reason   string
	Facility Facility
	Severity Severity
	Count    int64
	// First and Last are the message times of the counted messages.
	First, Last time.Time
}

// IsSummary reports whether r stands for messages not written.
func (r *Record) IsSummary() bool { return r.Summary != nil }

// Messages returns how many received messages r accounts for: 1 for a
// verbatim message, Summary.Count for a summary.
func (r *Record) Messages() int64 {
	if r.Summary != nil {
		return r.Summary.Count
	}
	return 1
}

// Handler takes records in order for the sources of one shard.
//
// A Handler is owned by one goroutine: it is not safe for concurrent use,
// and it needs no locks. Handle may keep a copy of *r (strings are
// immutable) but not the pointer. now is the pipeline's clock: wall time
// when live, message time (never going backwards) in replay; a stage
// reads no other clock.
type Handler interface {
	// Handle passes one record along the chain.
	Handle(now time.Time, r *Record)
	// Tick is called on a short interval and once at the end with final
	// set: the stage emits the summaries that are due at now (all pending
	// ones when final), then ticks the next handler.
	Tick(now time.Time, final bool)
}

// Fate is what a stage decided for one received message: written
// verbatim as an occurrence of the pattern FP, or counted into the summary
// whose fingerprint is FP.
type Fate struct {
	// Host and App name the message's source.
	Host, App string
	Seq       uint64
	Size      int
	Kind      Kind // of the pattern or summary: Repeat, Block, Cycle, Suppressed
	FP        string
	Template  string // the pattern's template in readable form, "" if none
	Verbatim  bool
}

// An Observer is told the fate of every message a stage decides on, in the
// goroutine that owns the stage; `floodgate replay -labels` is one. A
// later stage may decide again (a budget drops a message written by
// dedupe): the last word counts.
type Observer interface {
	Observe(f Fate)
}

// Stage builds a Handler that processes records and passes them to next,
// the way CoreDNS chains its plugins.
type Stage func(next Handler) Handler

// Chain builds the handler that runs stages in order and ends at last.
func Chain(last Handler, stages ...Stage) Handler {
	h := last
	for i := len(stages) - 1; i >= 0; i-- {
		h = stages[i](h)
	}
	return h
}

// HandlerFunc adapts a function to a Handler whose Tick does nothing.
type HandlerFunc func(now time.Time, r *Record)

// Handle calls f(now, r).
func (f HandlerFunc) Handle(now time.Time, r *Record) { f(now, r) }

// Tick does nothing.
func (f HandlerFunc) Tick(time.Time, bool) {}

// DiskLevel is how close the output filesystems are to full: the disk
// guard in the file output measures it, the budget stage acts on it.
type DiskLevel int32

// Disk levels, from good to worst.
const (
	// DiskOK: write as usual.
	DiskOK DiskLevel = iota
	// DiskLow: free space is under min_free; write only protected
	// severities and summaries, count the rest.
	DiskLow
	// DiskFull: free space is under hard_min_free; write nothing, count
	// everything.
	DiskFull
)

// String names the level for logs and metrics.
func (l DiskLevel) String() string {
	switch l {
	case DiskOK:
		return "ok"
	case DiskLow:
		return "low"
	case DiskFull:
		return "full"
	}
	return "unknown"
}
