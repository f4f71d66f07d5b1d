package forward

import (
	"fmt"
	"sort"
	"time"

	"github.com/floodgate/floodgate"
)

// The suppressed summary a network output writes for what it dropped.
const (
	lostFP     = "queue-full"
	lostReason = "queue full"
)

type source struct{ host, app string }

// loss is what one source lost.
type loss struct {
	count, records int64
	bytes          int64
	first, last    int64
	facility       floodgate.Facility
	severity       floodgate.Severity
}

// losses counts dropped messages per source until a suppressed summary
// can stand for them. Its owner locks it.
type losses map[source]*loss

// add counts it as dropped.
func (l losses) add(it *item) {
	if it.msgs == 0 {
		return // floodgate's own record stands for no message received
	}
	k := source{it.host, it.app}
	e := l[k]
	if e == nil {
		e = &loss{first: it.first, last: it.last, facility: it.facility, severity: it.severity}
		l[k] = e
	}
	e.count += it.msgs
	e.records++
	e.bytes += int64(len(it.data))
	e.first = min(e.first, it.first)
	e.last = max(e.last, it.last)
	// The summary carries the worst severity lost.
	e.severity = min(e.severity, it.severity)
	e.facility = it.facility
}

// take returns a suppressed summary record for every source, in a stable
// order, and forgets them.
func (l losses) take() []floodgate.Record {
	recs := make([]floodgate.Record, 0, len(l))
	for k, e := range l {
		first, last := time.Unix(0, e.first).UTC(), time.Unix(0, e.last).UTC()
		recs = append(recs, floodgate.Record{
			Message: floodgate.Message{
				Time: last, Host: k.host, App: k.app,
				Facility: e.facility, Severity: e.severity,
				Text:   fmt.Sprintf("floodgate could not forward %d messages (%d bytes): %s", e.count, e.bytes, lostReason),
				Syntax: floodgate.Internal,
			},
			Summary: &floodgate.Summary{
				Kind: floodgate.Suppressed, FP: lostFP, Count: e.count, First: first, Last: last,
				Fields: []floodgate.Field{{Key: "reason", Value: lostReason}, {Key: "bytes", Value: e.bytes}},
			},
		})
		delete(l, k)
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].Host != recs[j].Host {
			return recs[i].Host < recs[j].Host
		}
		return recs[i].App < recs[j].App
	})
	return recs
}
