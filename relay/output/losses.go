package output

import (
	"fmt"
	"sort"
	"time"

	"github.com/floodgate/floodgate"
)

// The suppressed summary a file or stdout output writes for what it could
// not write.
const (
	lostFP     = "write-error"
	lostReason = "write error"
)

type source struct{ host, app string }

// loss is what one source lost.
type loss struct {
	count, bytes int64
	first, last  time.Time
	facility     floodgate.Facility
	severity     floodgate.Severity
}

// Losses counts the messages an output could not deliver, per source,
// until a suppressed summary can stand for them: the file output's write
// errors, a network output's full queue. Its owner locks it.
type Losses struct {
	fp, reason, verb string
	m                map[source]*loss
}

// NewLosses returns Losses whose summaries carry fp and reason and say
// that floodgate could not verb ("write", "forward") the messages.
func NewLosses(fp, reason, verb string) *Losses {
	return &Losses{fp: fp, reason: reason, verb: verb, m: make(map[source]*loss)}
}

// AddRecord counts r, which took size bytes encoded, as lost.
func (l *Losses) AddRecord(r *floodgate.Record, size int) {
	first, last := r.Time, r.Time
	if s := r.Summary; s != nil {
		first, last = s.First, s.Last
	}
	l.Add(r.Host, r.App, r.Messages(), int64(size), first, last, r.Facility, r.Severity)
}

// Add counts msgs messages of host and app, which took bytes, the first
// and last of them at those times, as lost.
func (l *Losses) Add(host, app string, msgs, bytes int64, first, last time.Time, fac floodgate.Facility, sev floodgate.Severity) {
	k := source{host, app}
	e := l.m[k]
	if e == nil {
		e = &loss{first: first, last: last, facility: fac, severity: sev}
		l.m[k] = e
	}
	e.count += msgs
	e.bytes += bytes
	if first.Before(e.first) {
		e.first = first
	}
	if last.After(e.last) {
		e.last = last
	}
	// The summary carries the worst severity lost, so that a policy
	// passing only protected severities still passes it.
	e.severity = min(e.severity, sev)
	e.facility = fac
}

// Len returns the sources with losses counted.
func (l *Losses) Len() int { return len(l.m) }

// Total returns the messages counted.
func (l *Losses) Total() int64 {
	var n int64
	for _, e := range l.m {
		n += e.count
	}
	return n
}

// Take returns a suppressed summary record for every source, in a stable
// order, and forgets them.
func (l *Losses) Take() []floodgate.Record {
	recs := make([]floodgate.Record, 0, len(l.m))
	for k, e := range l.m {
		recs = append(recs, floodgate.Record{
			Message: floodgate.Message{
				Time: e.last, Host: k.host, App: k.app,
				Facility: e.facility, Severity: e.severity,
				Text:   fmt.Sprintf("floodgate could not %s %d messages (%d bytes): %s", l.verb, e.count, e.bytes, l.reason),
				Syntax: floodgate.Internal,
			},
			Summary: &floodgate.Summary{
				Kind: floodgate.Suppressed, FP: l.fp, Count: e.count, First: e.first, Last: e.last,
				Fields: []floodgate.Field{{Key: "reason", Value: l.reason}, {Key: "bytes", Value: e.bytes}},
			},
		})
		delete(l.m, k)
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].Host != recs[j].Host {
			return recs[i].Host < recs[j].Host
		}
		return recs[i].App < recs[j].App
	})
	return recs
}
