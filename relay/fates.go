package relay

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/dedupe"
)

// fateTable is the Observer of a replay: it keeps the fate of every
// message by its sequence number (for `replay -labels`) and totals per
// pattern (for the report). Stages may tell a message's fate twice (a
// budget drops what dedupe wrote): the last stage's word counts, and the
// totals follow it. A budget's drop is final whatever order the two are
// told in, as the budgets come last. It is safe for the shards to call at
// once.
type fateTable struct {
	mu sync.Mutex
	// fates holds, per message, its pattern's index in patterns plus one,
	// shifted left by one, with the low bit set when it was written.
	fates    []uint32
	patterns []PatternTotal
	index    map[string]uint32
}

// PatternTotal is what a replay saw of one pattern.
type PatternTotal struct {
	FP       string
	Kind     floodgate.Kind
	Template string
	Messages int64 // received: written and counted
	Written  int64
	Bytes    int64 // received
	// Host and App are the source of its first message.
	Host, App string
	// First and Last are the times of its first and last message, and
	// Exemplar the text of its first occurrence; a replay fills them in
	// only when asked for detail (ReplayOptions.Detail).
	First, Last time.Time
	Exemplar    []string
}

var _ floodgate.Observer = (*fateTable)(nil)

func newFateTable() *fateTable {
	return &fateTable{index: make(map[string]uint32)}
}

// Observe records f.
func (t *fateTable) Observe(f floodgate.Fate) {
	if f.Seq == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.index[f.FP]
	if !ok {
		i = uint32(len(t.patterns))
		t.index[f.FP] = i
		t.patterns = append(t.patterns, PatternTotal{FP: f.FP, Kind: f.Kind, Template: f.Template,
			Host: strings.Clone(f.Host), App: strings.Clone(f.App)})
	}
	for uint64(len(t.fates)) < f.Seq {
		t.fates = append(t.fates, 0)
	}
	at := &t.fates[f.Seq-1]
	if prev := *at; prev != 0 && f.Kind != floodgate.Suppressed && t.patterns[prev>>1-1].Kind == floodgate.Suppressed {
		// The budgets come after dedupe, so their drop is the last
		// word, even when dedupe tells that it wrote the message only
		// after passing it on.
		return
	}
	if prev := *at; prev != 0 {
		p := &t.patterns[prev>>1-1]
		p.Messages--
		p.Bytes -= int64(f.Size)
		if prev&1 != 0 {
			p.Written--
		}
	}
	p := &t.patterns[i]
	p.Messages++
	p.Bytes += int64(f.Size)
	v := (i + 1) << 1
	if f.Verbatim {
		p.Written++
		v |= 1
	}
	*at = v
	if p.Template == "" {
		p.Template = f.Template
	}
}

// labels is a handler at the end of a chain without dedupe: every message
// that reaches it is written, as an occurrence of its template.
type labels struct {
	next floodgate.Handler
	obs  floodgate.Observer
}

func (l labels) Handle(now time.Time, r *floodgate.Record) {
	if r.Summary == nil && r.Seq != 0 {
		fp := dedupe.Fingerprint(r.Text)
		l.obs.Observe(floodgate.Fate{Host: r.Host, App: r.App, Seq: r.Seq, Size: r.Size, Kind: floodgate.Repeat, FP: dedupe.FormatFP(fp),
			Template: dedupe.Template(r.Text), Verbatim: true})
	}
	l.next.Handle(now, r)
}

func (l labels) Tick(now time.Time, final bool) { l.next.Tick(now, final) }

// WriteLabels writes one line per message: its number, the fingerprint
// of the pattern it opened or joined (written) or of the summary that
// counts it, and v (written verbatim) or c (counted).
func (t *fateTable) WriteLabels(w io.Writer, messages int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	for n := int64(1); n <= messages; n++ {
		line = strconv.AppendInt(line[:0], n, 10)
		line = append(line, '\t')
		var v uint32
		if n <= int64(len(t.fates)) {
			v = t.fates[n-1]
		}
		switch {
		case v == 0:
			line = append(line, "-\t-"...) // a stage that tells no fate (none do)
		default:
			line = append(line, t.patterns[v>>1-1].FP...)
			if v&1 != 0 {
				line = append(line, "\tv"...)
			} else {
				line = append(line, "\tc"...)
			}
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// top returns the n patterns with the most of by, most first.
func (t *fateTable) top(n int, by func(PatternTotal) int64) []PatternTotal {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := slices.Clone(t.patterns)
	slices.SortStableFunc(all, func(a, b PatternTotal) int { return cmp.Compare(by(b), by(a)) })
	return all[:min(n, len(all))]
}
