package parse

import "time"

// stampCache remembers the last RFC 3164 stamp resolved and the range of
// receive times for which the same year is nearest: a flood repeats the
// same second many times, and time.Date in a zone is not free.
type stampCache struct {
	key    uint32
	t      time.Time
	lo, hi time.Time // cache valid for lo < received < hi
	ok     bool
}

// stamp returns the time of an RFC 3164 stamp (month, day, clock) in the
// parser's zone, in the year that puts it nearest to received: Dec 31
// 23:59:59 received on Jan 1 is last year's.
func (p *Parser) stamp(month time.Month, day, hour, min, sec int, received time.Time) time.Time {
	key := uint32(month)<<27 | uint32(day)<<22 | uint32(hour)<<16 | uint32(min)<<8 | uint32(sec)
	c := &p.ts
	if c.ok && c.key == key && received.After(c.lo) && received.Before(c.hi) {
		return c.t
	}
	y := received.In(p.loc).Year()
	var cand [3]time.Time
	var valid [3]bool
	best := -1
	var bestD time.Duration
	for i := range cand {
		t := time.Date(y-1+i, month, day, hour, min, sec, 0, p.loc)
		if t.Day() != day { // Feb 29 outside a leap year
			continue
		}
		cand[i], valid[i] = t, true
		d := received.Sub(t)
		if d < 0 {
			d = -d
		}
		if best < 0 || d < bestD {
			best, bestD = i, d
		}
	}
	if best < 0 {
		// Feb 29 with no leap year within a year of received: the last
		// leap year before, since logs come from the past.
		for yy := y - 2; ; yy-- {
			if t := time.Date(yy, month, day, hour, min, sec, 0, p.loc); t.Day() == day {
				return t
			}
		}
	}
	t := cand[best]
	*c = stampCache{key: key, t: t, lo: t, hi: t, ok: true}
	if best > 0 && valid[best-1] {
		c.lo = t.Add(-t.Sub(cand[best-1]) / 2)
	}
	if best < 2 && valid[best+1] {
		c.hi = t.Add(cand[best+1].Sub(t) / 2)
	}
	return t
}
