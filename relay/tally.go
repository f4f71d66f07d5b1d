package relay

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/input"
	"github.com/floodgate/floodgate/relay/parse"
)

// tally is the first stage of a replay that is asked for detail
// (ReplayOptions.Detail): it notes when each message was sent, by whom,
// and how big it was, by its sequence number, and passes it on unchanged.
// Together with the fates the later stages tell, that gives per-source
// totals, a timeline, and each pattern's first and last time, without
// the stages knowing of it.
type tally struct {
	next floodgate.Handler
	t    *received
}

func (s tally) Handle(now time.Time, r *floodgate.Record) {
	if r.Summary == nil && r.Seq != 0 && r.Syntax != floodgate.Internal {
		s.t.note(r)
	}
	s.next.Handle(now, r)
}

func (s tally) Tick(now time.Time, final bool) { s.next.Tick(now, final) }

// received holds, per message of a replay, its time, source and size.
// Shards note their messages at once, hence the lock.
type received struct {
	mu      sync.Mutex
	time    []int64  // unix nanoseconds, by Seq-1
	source  []uint32 // index in sources plus one; 0: no message noted
	size    []uint32
	sources []SourceTotal
	index   map[[2]string]uint32
	floods  []Flood
	// restarts are systemd's restarts by (host, unit): dedupe tells a
	// loop's count when it recognises it and then every flush, so the
	// report counts them to the end itself.
	restarts map[[2]string]*restartCount
}

type restartCount struct {
	n           int64
	first, last int64
}

// maxRestartUnits bounds restarts, as dedupe bounds its loops.
const maxRestartUnits = 1024

func newReceived() *received {
	return &received{index: map[[2]string]uint32{}, restarts: map[[2]string]*restartCount{}}
}

// restartUnit returns the unit that systemd says it restarts in text,
// in the words dedupe recognises, or "".
func restartUnit(app, text string) string {
	if app != "systemd" {
		return ""
	}
	unit, msg, ok := strings.Cut(text, ": ")
	if !ok || strings.IndexByte(unit, '.') < 0 || strings.IndexByte(unit, ' ') >= 0 {
		return ""
	}
	if strings.HasPrefix(msg, "Service hold-off time over, scheduling restart") || strings.HasPrefix(msg, "Scheduled restart job") {
		return unit
	}
	return ""
}

func (t *received) note(r *floodgate.Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.index[[2]string{r.Host, r.App}]
	if !ok {
		// Copies, so a source pins no buffer the message shares.
		host, app := strings.Clone(r.Host), strings.Clone(r.App)
		i = uint32(len(t.sources))
		t.index[[2]string{host, app}] = i
		t.sources = append(t.sources, SourceTotal{Host: host, App: app})
	}
	n := int(r.Seq)
	if n > len(t.time) {
		t.time = slices.Grow(t.time, n-len(t.time))[:n]
		t.source = slices.Grow(t.source, n-len(t.source))[:n]
		t.size = slices.Grow(t.size, n-len(t.size))[:n]
	}
	t.time[n-1] = r.Time.UnixNano()
	t.source[n-1] = i + 1
	t.size[n-1] = uint32(min(r.Size, 1<<32-1))
	s := &t.sources[i]
	s.Messages++
	s.Bytes += int64(r.Size)
	if u := restartUnit(r.App, r.Text); u != "" {
		at := r.Time.UnixNano()
		k := [2]string{r.Host, u}
		c := t.restarts[k]
		if c == nil && len(t.restarts) < maxRestartUnits {
			c = &restartCount{first: at, last: at}
			t.restarts[[2]string{strings.Clone(k[0]), strings.Clone(k[1])}] = c
		}
		if c != nil {
			c.n++
			c.first, c.last = min(c.first, at), max(c.last, at)
		}
	}
}

// flood is the flood stage's onFlood: a start opens a flood; an end, or
// the totals of one still going at the end, complete it.
func (t *received) flood(f Flood) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.floods) - 1; i >= 0; i-- {
		if g := &t.floods[i]; g.Host == f.Host && g.App == f.App && g.End.IsZero() && g.Start.Equal(f.Start) {
			*g = f
			return
		}
	}
	t.floods = append(t.floods, f)
}

// loop completes what dedupe last said of a loop with the restarts
// counted to the end of the capture.
func (t *received) loop(l RestartLoop) RestartLoop {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.restarts[[2]string{l.Host, l.Unit}]; c != nil && c.n >= l.Restarts {
		l.Restarts = c.n
		l.First, l.Last = time.Unix(0, c.first).UTC(), time.Unix(0, c.last).UTC()
	}
	return l
}

// SourceTotal is what a replay saw of one source, a (host, app) pair.
type SourceTotal struct {
	Host, App string
	Messages  int64 // received
	Bytes     int64 // received
	// Written were written verbatim; Folded were counted into repeat,
	// block or cycle summaries; Suppressed into suppressed summaries.
	// The three add up to Messages.
	Written, Folded, Suppressed int64
	First, Last                 time.Time
}

// Timeline is the rate of the busiest sources over the capture's time, in
// buckets of Step: Series[i].Messages[j] messages and Series[i].Bytes[j]
// bytes were sent by source i in [Start+j*Step, Start+(j+1)*Step).
type Timeline struct {
	Start  time.Time
	Step   time.Duration
	Series []Series
}

// Series is one source's (or, with Other set, all the rest's) share of a
// Timeline.
type Series struct {
	Host, App       string
	Other           bool
	Messages, Bytes []int64
}

// Detail is what `floodgate report` shows beyond the replay's report.
type Detail struct {
	// First and Last are the earliest and latest message times.
	First, Last time.Time
	// Sources are every source, most bytes first.
	Sources []SourceTotal
	// Loops are the restart loops dedupe recognised.
	Loops []RestartLoop
	// Floods are the floods the flood records told of, by start; End is
	// zero for one still going at the end of the capture.
	Floods   []Flood
	Timeline Timeline
}

// RestartLoop is a unit that systemd kept restarting.
type RestartLoop struct {
	Host, Unit  string
	Restarts    int64
	First, Last time.Time
	ExitStatus  string
	GaveUp      bool
}

// Period is the mean time between restarts, 0 with fewer than two.
func (l RestartLoop) Period() time.Duration {
	if l.Restarts < 2 {
		return 0
	}
	return l.Last.Sub(l.First) / time.Duration(l.Restarts-1)
}

// timelineSteps are the bucket widths a timeline picks from: the
// smallest that keeps it within maxBuckets.
var timelineSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

const maxBuckets = 120

// detail joins what the tally noted with the fates: per-source totals,
// each pattern's first and last time, and the timeline of the top
// sources (the rest summed as one series).
func (t *received) detail(f *fateTable, topSources int) Detail {
	t.mu.Lock()
	defer t.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	var d Detail
	first, last := make([]int64, len(t.sources)), make([]int64, len(t.sources))
	pFirst, pLast := make([]int64, len(f.patterns)), make([]int64, len(f.patterns))
	var lo, hi int64
	seen := false
	for n, at := range t.time {
		if t.source[n] == 0 {
			continue // a number no noted message had
		}
		i := t.source[n] - 1
		s := &t.sources[i]
		if first[i] == 0 || at < first[i] {
			first[i] = at
		}
		last[i] = max(last[i], at)
		if !seen || at < lo {
			lo = at
		}
		hi = max(hi, at)
		seen = true
		var v uint32
		if n < len(f.fates) {
			v = f.fates[n]
		}
		if v == 0 {
			continue
		}
		p := v>>1 - 1
		switch {
		case v&1 != 0:
			s.Written++
		case f.patterns[p].Kind == floodgate.Suppressed:
			s.Suppressed++
		default:
			s.Folded++
		}
		if pFirst[p] == 0 || at < pFirst[p] {
			pFirst[p] = at
		}
		pLast[p] = max(pLast[p], at)
	}
	for i := range f.patterns {
		if pFirst[i] != 0 {
			f.patterns[i].First, f.patterns[i].Last = time.Unix(0, pFirst[i]).UTC(), time.Unix(0, pLast[i]).UTC()
		}
	}
	for i := range t.sources {
		t.sources[i].First, t.sources[i].Last = time.Unix(0, first[i]).UTC(), time.Unix(0, last[i]).UTC()
	}
	if !seen {
		return d
	}
	d.First, d.Last = time.Unix(0, lo).UTC(), time.Unix(0, hi).UTC()
	d.Sources = slices.Clone(t.sources)
	slices.SortStableFunc(d.Sources, func(a, b SourceTotal) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(b.Messages, a.Messages))
	})
	d.Timeline = t.timeline(d, lo, hi, topSources)
	d.Floods = slices.Clone(t.floods)
	slices.SortStableFunc(d.Floods, func(a, b Flood) int { return a.Start.Compare(b.Start) })
	return d
}

func (t *received) timeline(d Detail, lo, hi int64, top int) Timeline {
	span := time.Duration(hi - lo)
	step := timelineSteps[len(timelineSteps)-1]
	for _, s := range timelineSteps {
		if span/s < maxBuckets {
			step = s
			break
		}
	}
	start := time.Unix(0, lo).UTC().Truncate(step)
	buckets := int(time.Duration(hi-start.UnixNano())/step) + 1
	series := map[uint32]int{}
	tl := Timeline{Start: start, Step: step}
	for _, s := range d.Sources[:min(top, len(d.Sources))] {
		series[t.index[[2]string{s.Host, s.App}]+1] = len(tl.Series)
		tl.Series = append(tl.Series, Series{Host: s.Host, App: s.App, Messages: make([]int64, buckets), Bytes: make([]int64, buckets)})
	}
	other := -1
	if len(d.Sources) > top {
		other = len(tl.Series)
		tl.Series = append(tl.Series, Series{Other: true, Messages: make([]int64, buckets), Bytes: make([]int64, buckets)})
	}
	for n, at := range t.time {
		if t.source[n] == 0 {
			continue
		}
		j, ok := series[t.source[n]]
		if !ok {
			j = other
		}
		b := int(time.Duration(at-start.UnixNano()) / step)
		if b < 0 || b >= buckets || j < 0 {
			continue
		}
		tl.Series[j].Messages[b]++
		tl.Series[j].Bytes[b] += int64(t.size[n])
	}
	return tl
}

// exemplarLines bounds the lines kept as a pattern's exemplar.
const exemplarLines = 24

// exemplars reads the files again and returns, for each pattern given,
// the text of its first messages: the ones written verbatim (the first
// occurrence, a whole block), or, for a pattern never written (a cycle
// whose first round went out as single lines), the first counted. A
// repeat's exemplar is one line.
func (f *fateTable) exemplars(ctx context.Context, files []string, limit int, fps []string) (map[string][]string, error) {
	if slices.Contains(files, "-") {
		return nil, nil // stdin cannot be read twice: no exemplars
	}
	f.mu.Lock()
	want := map[uint64]string{} // Seq → FP
	for _, fp := range fps {
		i, ok := f.index[fp]
		if !ok {
			continue
		}
		lines := exemplarLines
		if f.patterns[i].Kind == floodgate.Repeat || f.patterns[i].Kind == floodgate.Suppressed {
			lines = 1
		}
		var written, counted []uint64
		for n, v := range f.fates {
			if v>>1 != i+1 {
				continue
			}
			if v&1 != 0 && len(written) < lines {
				written = append(written, uint64(n+1))
			} else if v&1 == 0 && len(counted) < lines {
				counted = append(counted, uint64(n+1))
			}
			if len(written) == lines {
				break
			}
		}
		if len(written) == 0 {
			written = counted
		}
		for _, n := range written {
			want[n] = fp
		}
	}
	f.mu.Unlock()
	out := map[string][]string{}
	if len(want) == 0 {
		return out, nil
	}
	// Exemplars are first occurrences, mostly early on: stop reading
	// once every one is found.
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	pick := &picker{want: want, left: len(want), stop: stop, out: out, parser: parse.New(parse.Options{})}
	for _, name := range files {
		r, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		err = input.ReadStream(rctx, r, "replay "+name, limit, pick, nil)
		r.Close()
		if pick.left == 0 {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	return out, nil
}

// picker is the Sink of the exemplars' second reading: it numbers the
// frames as the pipeline did and keeps the text of the wanted ones.
type picker struct {
	seq    uint64
	want   map[uint64]string
	left   int    // wanted and not found yet
	stop   func() // called once none is left
	out    map[string][]string
	parser *parse.Parser
}

func (p *picker) Deliver(b *input.Batch) {
	for _, fr := range b.Frames {
		p.seq++
		fp, ok := p.want[p.seq]
		if !ok {
			continue
		}
		var m floodgate.Message
		p.parser.Parse(fr, b.Received, &m)
		p.out[fp] = append(p.out[fp], m.Text)
		if p.left--; p.left == 0 {
			p.stop()
			return
		}
	}
}
