package parse

import "time"

// MaxSkew is how far ahead of its receive time an RFC 3164 or traditional
// stamp, which has no year, may be and still be this year's: a sender's
// clock a little fast, or a line stamped just after midnight on New Year's
// Eve by a clock ahead of ours. A stamp further ahead is last year's, as
// rsyslog decides too: a log line is never from the future, so a capture
// written in November dates its "Mar  1" lines to the March before.
const MaxSkew = 24 * time.Hour

// stampCache remembers the last RFC 3164 stamp resolved and the range of
// receive times for which it gets the same year: a flood repeats the same
// second many times, and time.Date in a zone is not free.
type stampCache struct {
	key    uint32
	t      time.Time
	lo, hi time.Time // cache valid for lo < received < hi
	ok     bool
}

// stamp returns the time of an RFC 3164 stamp (month, day, clock) in the
// parser's zone, in the latest year that puts it at most MaxSkew after
// received: Dec 31 23:59:59 received on Jan 1 is last year's, Jan 1
// 00:00:01 received on Dec 31 at 23:59 is next year's, and Mar 1 received
// in November is this year's, never next year's.
func (p *Parser) stamp(month time.Month, day, hour, min, sec int, received time.Time) time.Time {
	key := uint32(month)<<27 | uint32(day)<<22 | uint32(hour)<<16 | uint32(min)<<8 | uint32(sec)
	c := &p.ts
	if c.ok && c.key == key && received.After(c.lo) && received.Before(c.hi) {
		return c.t
	}
	limit := received.Add(MaxSkew)
	at := func(year int) (time.Time, bool) {
		t := time.Date(year, month, day, hour, min, sec, 0, p.loc)
		return t, t.Day() == day // not Feb 29 outside a leap year
	}
	var t time.Time
	for y := limit.In(p.loc).Year(); ; y-- {
		if c, ok := at(y); ok && !c.After(limit) {
			t = c
			break
		}
	}
	// The answer holds until the stamp's next year comes within MaxSkew.
	var next time.Time
	for y := t.Year() + 1; ; y++ {
		if c, ok := at(y); ok {
			next = c
			break
		}
	}
	*c = stampCache{key: key, t: t, lo: t.Add(-MaxSkew), hi: next.Add(-MaxSkew), ok: true}
	return t
}
