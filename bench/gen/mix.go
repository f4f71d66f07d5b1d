package gen

import (
	"github.com/floodgate/floodgate"
)

// mix merges several generators in timestamp order.
type mix struct {
	gens []Generator
	head []floodgate.Message
	ok   []bool
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
// would receive them.
func Merge(gens ...Generator) Generator {
	x := &mix{gens: gens, head: make([]floodgate.Message, len(gens)), ok: make([]bool, len(gens))}
	for i, g := range gens {
		x.ok[i] = g.Next(&x.head[i])
	}
	return x
}

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
	x.ok[best] = x.gens[best].Next(&x.head[best])
	return true
}
