package dedupe

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/floodgate/floodgate"
)

// What varied. A repeat summary says, for the places of its pattern where
// the counted lines differed (learned parameters first, then masked
// tokens), how many distinct values turned up and the most frequent few:
// "vol-07 ×3, vol-02 ×2, … 9 distinct". An operator sees which volumes
// failed without the lines.
//
// Each tracked place keeps a space-saving list of its topValues heaviest
// values (Metwally et al.: a new value replaces the lightest and inherits
// its count, so the counts shown are upper bounds, exact for a place with
// few values) and a 256-bit linear-counting sketch for the distinct count,
// exact while small (the text says "about" past 64) and within about
// ten percent up to a thousand. Both
// are fixed-size, so counting a line allocates nothing.

const (
	// varyPlaces is how many places of a pattern are tracked.
	varyPlaces = 3
	// topValues is how many values of a place are kept.
	topValues = 3
	// valueLen bounds the bytes of a value kept for the summary.
	valueLen = 32
)

type topValue struct {
	n   int64
	err int64 // of n, what it inherited from the value it replaced
	len uint8
	b   [valueLen]byte
}

func (v *topValue) is(s string) bool {
	return int(v.len) == min(len(s), valueLen) && string(v.b[:v.len]) == s[:v.len]
}

func (v *topValue) set(s string, n int64) {
	v.len = uint8(copy(v.b[:], s))
	v.err = n - 1
	v.n = n
}

// varyPlace is one tracked place of a pattern.
type varyPlace struct {
	word   bool  // a word place, not a masked token
	idx    uint8 // its index among the line's word places or masked tokens
	top    [topValues]topValue
	sketch [4]uint64
}

func (p *varyPlace) add(s string) {
	h := xxhash.Sum64String(s)
	p.sketch[(h>>6)&3] |= 1 << (h & 63)
	lightest := 0
	for i := range p.top {
		t := &p.top[i]
		if t.n > 0 && t.is(s) {
			t.n++
			return
		}
		if t.n < p.top[lightest].n {
			lightest = i
		}
	}
	t := &p.top[lightest]
	t.set(s, t.n+1)
}

// distinct estimates the distinct values added.
func (p *varyPlace) distinct() int64 {
	set := 0
	for _, w := range p.sketch {
		set += popcount(w)
	}
	if set == 256 {
		return 256 * 6 // saturated: "over a thousand"
	}
	return int64(math.Round(-256 * math.Log(float64(256-set)/256)))
}

// exactBelow is the distinct count under which the sketch is exact in
// practice (a collision among so few values is rare); above it the text
// says the count is an estimate.
const exactBelow = 64

// writeDistinct writes the distinct count for the text: exact while
// small, "about 890" (two significant digits) above exactBelow, and
// "over 1000" once the sketch is saturated.
func writeDistinct(sb *strings.Builder, d int64) {
	switch {
	case d >= 256*6:
		sb.WriteString("over 1000 distinct")
	case d > exactBelow:
		f := int64(math.Pow10(int(math.Log10(float64(d))) - 1))
		fmt.Fprintf(sb, "about %d distinct", (d+f/2)/f*f)
	default:
		fmt.Fprintf(sb, "%d distinct", d)
	}
}

func popcount(w uint64) int {
	n := 0
	for w != 0 {
		w &= w - 1
		n++
	}
	return n
}

// variety is what varied in the lines a pattern counted since its last
// summary.
type variety struct {
	places [varyPlaces]varyPlace
	n      int
}

// track chooses the places to follow for a pattern: its learned
// parameters (vars, word places), then its masked tokens, in order.
func (v *variety) track(p *Prepared, vars uint32) {
	v.n = 0
	for k := range int(p.nwords) {
		if vars&(1<<k) != 0 && v.n < varyPlaces {
			v.places[v.n] = varyPlace{word: true, idx: uint8(k)}
			v.n++
		}
	}
	for j := range int(p.nmask) {
		if v.n < varyPlaces {
			v.places[v.n] = varyPlace{idx: uint8(j)}
			v.n++
		}
	}
}

// add counts the values of one line at the tracked places.
func (v *variety) add(p *Prepared) {
	for i := range v.n {
		vp := &v.places[i]
		var at span
		switch {
		case vp.word && vp.idx < p.nwords:
			at = p.words[vp.idx].at
		case !vp.word && vp.idx < p.nmask:
			at = p.masked[vp.idx]
		default:
			continue
		}
		vp.add(p.text[at.s:at.e])
	}
}

// reset empties the counts, keeping the places.
func (v *variety) reset() {
	for i := range v.n {
		v.places[i].top = [topValues]topValue{}
		v.places[i].sketch = [4]uint64{}
	}
}

// summarize appends the "varied" field to s and returns the sentence for
// the text: "vol-07 ×3, vol-02 ×2, … 9 distinct". Places where every line
// had the same value are left out.
func (v *variety) summarize(s *floodgate.Summary) string {
	var places []floodgate.Varied
	var sb strings.Builder
	for i := range v.n {
		p := &v.places[i]
		d := min(p.distinct(), s.Count)
		if d < 2 {
			continue
		}
		top := make([]floodgate.ValueCount, 0, topValues)
		for _, t := range p.top {
			// Show a value only where it surely recurred, or where every
			// value is shown: a count inherited is no count of its own.
			if n := t.n - t.err; n > 1 || n > 0 && d <= topValues {
				top = append(top, floodgate.ValueCount{Value: string(t.b[:t.len]), Count: n})
			}
		}
		slices.SortStableFunc(top, func(a, b floodgate.ValueCount) int { return cmp.Compare(b.Count, a.Count) })
		places = append(places, floodgate.Varied{Distinct: d, Top: top})
		if sb.Len() > 0 {
			sb.WriteString("; ")
		}
		for j, t := range top {
			if j > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "%s ×%d", t.Value, t.Count)
		}
		if d > int64(len(top)) {
			if len(top) > 0 {
				sb.WriteString(", … ")
			}
			writeDistinct(&sb, d)
		}
	}
	if len(places) == 0 {
		return ""
	}
	s.Fields = append(s.Fields, floodgate.Field{Key: "varied", Value: places})
	return sb.String()
}
