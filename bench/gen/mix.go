package gen

import (
	"github.com/floodgate/floodgate"
)

// mix merges several generators in timestamp order.
type mix struct {
	gens   []Generator
	head   []floodgate.Message
	ok     []bool
	truths []Truth // of each head, when its generator is a Truther
	truth  Truth
}

// NewMix returns n messages of everything at once, merged by timestamp:
// half the incident (dumps, restart loop, background), a fifth Java
// traces, 15% Python tracebacks and 15% unique lines. It is the corpus
// for a relay that must fold floods without hiding what is new.
func NewMix(seed int64, n int) Generator {
	ic := DefaultIncident()
	ic.Seed = seed
	ic.Messages = max(1, n/2)
	java := n / 5
	py := n * 15 / 100
	uniq := n - ic.Messages - java - py
	gens := []Generator{NewIncident(ic)}
	if java > 0 {
		gens = append(gens, NewJava(seed+1, java))
	}
	if py > 0 {
		gens = append(gens, NewPython(seed+2, py))
	}
	if uniq > 0 {
		gens = append(gens, NewUnique(seed+3, uniq))
	}
	return Merge(gens...)
}

// Merge interleaves generators by message timestamp (ties go to the
// earlier generator), so that composed floods keep time order as a relay
// would receive them. The result is a Truther: it passes on the Truth of
// the generators that have one (with block ids kept apart between
// generators) and a zero Truth for the others.
func Merge(gens ...Generator) Generator {
	x := &mix{gens: gens, head: make([]floodgate.Message, len(gens)), ok: make([]bool, len(gens)), truths: make([]Truth, len(gens))}
	for i := range gens {
		x.advance(i)
	}
	return x
}

// advance reads generator i's next message into its head.
func (x *mix) advance(i int) {
	x.ok[i] = x.gens[i].Next(&x.head[i])
	if t, ok := x.gens[i].(Truther); ok && x.ok[i] {
		x.truths[i] = t.Truth()
		if b := x.truths[i].Block; b != 0 {
			x.truths[i].Block = b*uint64(len(x.gens)) + uint64(i)
		}
	}
}

// Truth describes the message the last Next produced.
func (x *mix) Truth() Truth { return x.truth }

func (x *mix) Next(m *floodgate.Message) bool {
	best := -1
	for i := range x.gens {
		if x.ok[i] && (best < 0 || x.head[i].Time.Before(x.head[best].Time)) {
			best = i
		}
	}
	if best < 0 {
		return false
	}
	*m = x.head[best]
	x.truth = x.truths[best]
	x.advance(best)
	return true
}
