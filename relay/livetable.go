package relay

import (
	"slices"
	"sync"
	"time"
)

// liveTable merges the shards' live tables. sample, once a second, keeps
// each row's per-second history (for rates and sparklines) and the
// per-source metrics; view merges the latest snapshots on request.
type liveTable struct {
	shards []*liveShard
	// labels caps the sources given series of their own.
	labels int

	mu      sync.Mutex
	n       int64 // samples taken
	srcHist map[[2]string]*history
	patHist map[string]*history
	total   history
	// labelled are the sources with series of their own; other the rest.
	labelled  map[[2]string]*labelled
	other     [4]int64
	prevTotal [4]int64
}

// liveCapTotal bounds the rows of all shards together, per table.
const liveCapTotal = 4096

// sparkSeconds is the length of a row's sparkline.
const sparkSeconds = 60

// history is a row's last minute second by second, and its last five
// minutes in ten-second buckets. prev are the cumulative messages, bytes,
// folded and suppressed at the last sample.
type history struct {
	born int64
	prev [4]int64
	sec  [sparkSeconds][2]uint64 // messages, bytes
	ten  [30][2]uint64
}

type labelled struct {
	prev, val [4]int64
}

func newLiveTable(shards, labels int) *liveTable {
	t := &liveTable{
		labels:   labels,
		srcHist:  map[[2]string]*history{},
		patHist:  map[string]*history{},
		labelled: map[[2]string]*labelled{},
	}
	per := max(256, liveCapTotal/max(shards, 1))
	for range shards {
		t.shards = append(t.shards, newLiveShard(per))
	}
	return t
}

// merged is the shards' snapshots put together.
type merged struct {
	at       time.Time
	sources  map[[2]string]*liveSource
	patterns map[string]*livePattern
	srcOther liveCounts
	patOther liveCounts
	total    liveCounts
}

// merge takes every shard's latest snapshot.
func (t *liveTable) merge() *merged {
	m := &merged{sources: map[[2]string]*liveSource{}, patterns: map[string]*livePattern{}}
	for _, s := range t.shards {
		s.mu.Lock()
		p := &s.pub
		if p.at.After(m.at) {
			m.at = p.at
		}
		for i := range p.sources {
			v := &p.sources[i]
			k := [2]string{v.Host, v.App}
			if w := m.sources[k]; w != nil {
				w.add(&v.liveCounts)
			} else {
				c := *v
				m.sources[k] = &c
			}
		}
		for i := range p.patterns {
			v := &p.patterns[i]
			if w := m.patterns[v.FP]; w != nil {
				w.add(&v.liveCounts)
			} else {
				c := *v
				m.patterns[v.FP] = &c
			}
		}
		m.srcOther.add(&p.srcOther)
		m.patOther.add(&p.patOther)
		m.total.add(&p.total)
		s.mu.Unlock()
	}
	return m
}

func counts4(c *liveCounts) [4]int64 {
	return [4]int64{c.Messages, c.Bytes, c.Folded, c.Suppressed}
}

// step records a row's cumulative counts at sample n and returns what
// they grew by since the last sample (all of them for a new row; a row
// pruned and seen again starts over from zero).
func (h *history) step(n int64, cur [4]int64) (d [4]int64) {
	for i := range cur {
		d[i] = cur[i] - h.prev[i]
		if d[i] < 0 {
			d[i] = cur[i]
		}
	}
	h.prev = cur
	h.sec[n%sparkSeconds] = [2]uint64{uint64(d[0]), uint64(d[1])}
	slot := &h.ten[(n/10)%int64(len(h.ten))]
	if n%10 == 0 {
		*slot = [2]uint64{}
	}
	slot[0] += uint64(d[0])
	slot[1] += uint64(d[1])
	return d
}

// sample takes the shards' snapshots into the history and the per-source
// metrics; the server calls it once a second.
func (t *liveTable) sample() {
	m := t.merge()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	n := t.n
	if n == 1 {
		t.total.born = 1
	}
	deltas := make(map[[2]string][4]int64, len(m.sources))
	for k, v := range m.sources {
		h := t.srcHist[k]
		if h == nil {
			h = &history{born: n}
			t.srcHist[k] = h
		}
		deltas[k] = h.step(n, counts4(&v.liveCounts))
	}
	for k := range t.srcHist {
		if m.sources[k] == nil {
			delete(t.srcHist, k)
		}
	}
	for k, v := range m.patterns {
		h := t.patHist[k]
		if h == nil {
			h = &history{born: n}
			t.patHist[k] = h
		}
		h.step(n, counts4(&v.liveCounts))
	}
	for k := range t.patHist {
		if m.patterns[k] == nil {
			delete(t.patHist, k)
		}
	}
	t.total.step(n, counts4(&m.total))

	// Per-source series: a labelled source takes what it grew by; new
	// labels go to the sources that sent the most bytes this second, up
	// to the cap; host="other" takes the rest of what everything grew by.
	var sum [4]int64
	for k, l := range t.labelled {
		d, ok := deltas[k]
		if !ok {
			continue // pruned for now: what it sends meanwhile is other's
		}
		for i := range d {
			l.val[i] += d[i]
			sum[i] += d[i]
		}
		l.prev = counts4(&m.sources[k].liveCounts)
	}
	if len(t.labelled) < t.labels {
		var cand [][2]string
		for k, d := range deltas {
			if t.labelled[k] == nil && d[1] > 0 {
				cand = append(cand, k)
			}
		}
		slices.SortFunc(cand, func(a, b [2]string) int {
			if c := deltas[b][1] - deltas[a][1]; c != 0 {
				return int(min(max(c, -1), 1))
			}
			return slices.Compare(a[:], b[:])
		})
		for _, k := range cand[:min(len(cand), t.labels-len(t.labelled))] {
			d := deltas[k]
			t.labelled[k] = &labelled{prev: counts4(&m.sources[k].liveCounts), val: d}
			for i := range d {
				sum[i] += d[i]
			}
		}
	}
	total := counts4(&m.total)
	for i := range total {
		grew := total[i] - t.prevTotal[i]
		t.other[i] += max(0, grew-sum[i])
	}
	t.prevTotal = total
}

// sourceSeries is one per-source series' values: messages, bytes,
// folded, suppressed.
type sourceSeries struct {
	Host, App string
	Values    [4]int64
}

// series returns the per-source series, labelled ones first, then other.
func (t *liveTable) series() []sourceSeries {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]sourceSeries, 0, len(t.labelled)+1)
	for k, l := range t.labelled {
		out = append(out, sourceSeries{Host: k[0], App: k[1], Values: l.val})
	}
	slices.SortFunc(out, func(a, b sourceSeries) int {
		return slices.Compare([]string{a.Host, a.App}, []string{b.Host, b.App})
	})
	return append(out, sourceSeries{Host: "other", App: "other", Values: t.other})
}

// rates fills c's rates from h (nil: a row newer than the last sample,
// all of whose counts are recent).
func (t *liveTable) rates(c *Counts, h *history) {
	if h == nil {
		c.Rate10s = Rate{Messages: float64(c.Messages) / 10, Bytes: float64(c.Bytes) / 10}
		c.Rate5m = Rate{Messages: float64(c.Messages) / 300, Bytes: float64(c.Bytes) / 300}
		return
	}
	n := t.n
	var m, b uint64
	for i := range min(n-h.born+1, 10) {
		v := h.sec[(n-i)%sparkSeconds]
		m += v[0]
		b += v[1]
	}
	c.Rate10s = Rate{Messages: float64(m) / 10, Bytes: float64(b) / 10}
	m, b = 0, 0
	for _, v := range h.ten {
		m += v[0]
		b += v[1]
	}
	c.Rate5m = Rate{Messages: float64(m) / 300, Bytes: float64(b) / 300}
}

// spark fills c's sparkline from h: bytes in each of the last 60
// seconds, oldest first.
func (t *liveTable) spark(c *Counts, h *history) {
	c.Spark = make([]uint64, sparkSeconds)
	if h == nil {
		c.Spark[sparkSeconds-1] = uint64(c.Bytes)
		return
	}
	n := t.n
	for i := range int64(sparkSeconds) {
		if j := n - int64(sparkSeconds) + 1 + i; j >= h.born {
			c.Spark[i] = h.sec[j%sparkSeconds][1]
		}
	}
}

// totalRates fills the rates of everything received; t.mu is held.
func (t *liveTable) totalRates(c *Counts) {
	if t.n == 0 {
		t.rates(c, nil)
		t.spark(c, nil)
		return
	}
	t.rates(c, &t.total)
	t.spark(c, &t.total)
}
