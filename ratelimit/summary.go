package ratelimit

import (
	"fmt"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/internal/bytesize"
)

// sampleMax bounds the sample line a suppressed summary quotes, so that a
// summary of oversize lines stays small.
const sampleMax = 256

// pending is what one Reason dropped from one source since its last
// summary.
type pending struct {
	fp           string // computed once per source and reason
	count, bytes int64
	// first and last are the dropped messages' own times; since is the
	// pipeline clock at the first drop, which Flush is measured from.
	first, last, since time.Time
	worst              floodgate.Severity
	level              floodgate.DiskLevel // worst disk level seen (ReasonDisk)
	// sample is the first dropped record: its host, app, procid,
	// facility, format, input and text describe the summary.
	sample floodgate.Message
}

// drop counts r into s's pending summary for reason: one message, or a
// summary record's Count when the disk refuses a summary.
func (b *Budgets) drop(now time.Time, s *source, r *floodgate.Record, reason Reason) {
	p := s.pend[reason]
	if p == nil {
		p = &pending{fp: fingerprint(s.key, reason)}
		s.pend[reason] = p
	}
	n, first, last := int64(1), r.Time, r.Time
	if r.Summary != nil {
		n, first, last = r.Summary.Count, r.Summary.First, r.Summary.Last
	}
	bytes := size(r)
	if p.count == 0 {
		p.first, p.last, p.since = first, last, now
		p.worst, p.level = r.Severity, b.disk
		p.sample = r.Message
	} else {
		if first.Before(p.first) {
			p.first = first
		}
		if last.After(p.last) {
			p.last = last
		}
		p.worst = min(p.worst, r.Severity)
		p.level = max(p.level, b.disk)
	}
	p.count += n
	p.bytes += bytes
	if b.observer != nil && r.Summary == nil {
		b.observer.Observe(floodgate.Fate{Host: r.Host, App: r.App, Seq: r.Seq, Size: r.Size, Kind: floodgate.Suppressed, FP: p.fp, Template: reason.template()})
	}
	b.stats.Dropped[reason] += n
	b.stats.DroppedBytes[reason] += bytes
	if !s.listed {
		s.listed = true
		b.waiting = append(b.waiting, s)
	}
}

// emit passes on s's pending summary for reason, if any, and resets it.
func (b *Budgets) emit(now time.Time, s *source, reason Reason) {
	p := s.pend[reason]
	if p == nil || p.count == 0 {
		return
	}
	budget := b.budgetOf(s, reason, p)
	text := b.sentence(p, reason, budget)
	sm := p.sample
	r := &floodgate.Record{
		Message: floodgate.Message{
			Time:     p.last,
			Host:     sm.Host,
			App:      sm.App,
			ProcID:   sm.ProcID,
			Facility: sm.Facility,
			Severity: p.worst,
			Text:     text,
			Syntax:   sm.Syntax,
			Input:    sm.Input,
			Size:     len(text),
		},
		Summary: &floodgate.Summary{
			Kind:  floodgate.Suppressed,
			FP:    p.fp,
			Count: p.count,
			First: p.first,
			Last:  p.last,
			Fields: []floodgate.Field{
				{Key: "bytes", Value: p.bytes},
				{Key: "reason", Value: reason.String()},
				{Key: "budget", Value: budget},
				{Key: "sample", Value: sample(sm.Text)},
			},
		},
	}
	p.count, p.bytes = 0, 0
	p.sample = floodgate.Message{} // do not keep the text alive
	b.stats.Summaries++
	b.next.Handle(now, r)
}

// budgetOf describes the budget that applied, as "64KiB/s burst 1MiB", or
// for the disk the watermark crossed.
func (b *Budgets) budgetOf(s *source, reason Reason, p *pending) string {
	var l *limit
	switch reason {
	case ReasonBudget:
		l = s.lim
	case ReasonProtected:
		l = b.plim
	case ReasonGlobal:
		if b.global == nil {
			return "global"
		}
		l = b.global.lim
	case ReasonDisk:
		if p.level == floodgate.DiskFull {
			return "hard_min_free"
		}
		return "min_free"
	}
	return bytesize.Format(l.rate) + "/s burst " + bytesize.Format(l.burst)
}

// sentence is the summary's text, for a reader of the log.
func (b *Budgets) sentence(p *pending, reason Reason, budget string) string {
	why := ""
	switch reason {
	case ReasonBudget:
		why = "over budget " + budget
	case ReasonProtected:
		why = b.protect.String() + " and worse over protected budget " + budget
	case ReasonGlobal:
		why = "over the global budget " + budget
	case ReasonDisk:
		why = "disk free space under " + budget
	}
	noun := "messages"
	if p.count == 1 {
		noun = "message"
	}
	return fmt.Sprintf("dropped %d %s (%s) from %s/%s %s; sample: %s",
		p.count, noun, bytesize.Human(p.bytes), p.sample.Host, p.sample.App, why, sample(p.sample.Text))
}

// fingerprint is a stable short hex name of a source and a reason: the
// same pair gives the same fp for the whole run (and across runs).
func fingerprint(k key, reason Reason) string {
	var d xxhash.Digest
	d.Reset()
	for _, f := range [...]string{k.host, k.app, k.procid, k.input} {
		d.WriteString(f)
		d.Write([]byte{0})
	}
	d.Write([]byte{byte(k.facility), byte(reason)})
	if k.peer.IsValid() {
		b := k.peer.As16()
		d.Write(b[:])
	}
	return fmt.Sprintf("%08x", uint32(d.Sum64()>>32))
}

// sample cuts text to sampleMax bytes at a rune boundary.
func sample(text string) string {
	if len(text) <= sampleMax {
		return text
	}
	i := sampleMax
	for i > 0 && text[i]&0xC0 == 0x80 {
		i--
	}
	return text[:i] + "..."
}

// Internal records, the disk watermark warnings, come from app
// InternalApp and from the relay host named in Options.Host, or
// InternalHost where none is given.
const (
	InternalHost = "floodgate"
	InternalApp  = "floodgate"
)

// Events of floodgate's own records: which disk watermark was crossed.
const (
	EventDiskFull = "disk_full" // under hard_min_free
	EventDiskLow  = "disk_low"  // under min_free
	EventDiskOK   = "disk_ok"   // back over min_free
)

// readDisk reads the disk level once and, when it changed, passes on one
// warning record saying which watermark was crossed.
//
// The warning has Syntax floodgate.Internal, app "floodgate", the relay
// host's name, an Event naming the crossing, facility syslog, and is no message received: it belongs to no source's
// accounting, so it is neither charged nor counted, and it is passed on
// even under DiskFull, as the operator's one in-band signal per crossing
// (the output's own guard may still refuse it).
func (b *Budgets) readDisk(now time.Time) {
	if b.diskFn == nil {
		return
	}
	l := b.diskFn()
	if l == b.disk {
		return
	}
	old := b.disk
	b.disk = l
	var sev floodgate.Severity
	var text string
	event := EventDiskLow
	switch {
	case l == floodgate.DiskFull:
		sev, event = floodgate.Crit, EventDiskFull
		text = "disk free space under hard_min_free: writing nothing, counting every message into suppressed summaries"
	case l == floodgate.DiskLow && old == floodgate.DiskFull:
		sev = floodgate.Warning
		text = "disk free space back over hard_min_free but still under min_free: writing only " + b.protect.String() + " and worse and summaries, counting the rest"
	case l == floodgate.DiskLow:
		sev = floodgate.Warning
		text = "disk free space under min_free: writing only " + b.protect.String() + " and worse and summaries, counting the rest"
	default:
		sev, event = floodgate.Notice, EventDiskOK
		text = "disk free space back over min_free: writing everything again"
	}
	syslogFacility, _ := floodgate.ParseFacility("syslog")
	b.stats.Warnings++
	b.next.Handle(now, &floodgate.Record{Message: floodgate.Message{
		Time:     now,
		Host:     b.host,
		App:      InternalApp,
		Event:    event,
		Facility: syslogFacility,
		Severity: sev,
		Text:     text,
		Syntax:   floodgate.Internal,
		Size:     len(text),
	}})
}
