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

	// The day: the stamps of one day of one year, for the receive times
	// for which every second of that day gets the same year, in a zone
	// whose offset holds all day. Traffic that is not a flood (a chat, a
	// busy web server) changes its second with nearly every line, and
	// then a stamp is the day's midnight plus its clock.
	day   uint32    // month<<5 | day of the day cached
	mid   time.Time // the day's midnight in the year chosen
	dlo   time.Time // the day is valid for dlo <= received < dhi
	dhi   time.Time
	dayOK bool
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
	if dk := uint32(month)<<5 | uint32(day); c.dayOK && c.day == dk && !received.Before(c.dlo) && received.Before(c.dhi) {
		return c.mid.Add(time.Duration(hour*3600+min*60+sec) * time.Second)
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
	c.key, c.t, c.lo, c.hi, c.ok = key, t, t.Add(-MaxSkew), next.Add(-MaxSkew), true
	p.cacheDay(month, day, t.Year())
	return t
}

// cacheDay caches the day month/day of year when the zone's offset holds
// all that day: every second of it then gets year for the receive times
// from the day's last second less MaxSkew (the whole day at most MaxSkew
// ahead) up to the next occurrence's midnight less MaxSkew (none of it
// yet within reach).
func (p *Parser) cacheDay(month time.Month, day, year int) {
	c := &p.ts
	c.dayOK = false
	mid := time.Date(year, month, day, 0, 0, 0, 0, p.loc)
	if mid.Hour() != 0 || mid.Minute() != 0 || mid.Second() != 0 {
		return // midnight skipped by a change of offset
	}
	end := mid.Add(24*time.Hour - time.Second)
	if _, until := mid.ZoneBounds(); !until.IsZero() && !until.After(end) {
		return // the offset changes during the day
	}
	c.day, c.mid, c.dayOK = uint32(month)<<5|uint32(day), mid, true
	c.dlo = end.Add(-MaxSkew)
	// The next year that has the day (Feb 29 skips three), asked at noon,
	// which no change of offset moves to another day. Its midnight may
	// not exist (time.Date then picks an instant an hour off either way),
	// so the cache ends two hours early: past that, the slow path.
	next := year + 1
	for time.Date(next, month, day, 12, 0, 0, 0, p.loc).Day() != day {
		next++
	}
	c.dhi = time.Date(next, month, day, 0, 0, 0, 0, p.loc).Add(-MaxSkew - 2*time.Hour)
}
