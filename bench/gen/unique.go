package gen

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
)

// unique is the worst case for a deduplicator: no two lines share a
// pattern, so nothing folds and every line costs a new pattern entry.
type unique struct {
	r     *rand.Rand
	a     arena
	buf   []byte
	n     int
	limit int
	now   time.Time
	pids  []string
	// truths holds, per app, noun and verb, the Template of their lines.
	truths []string
	truth  string
}

var (
	uniqueApps  = []string{"api", "worker", "scheduler", "gateway", "indexer", "billing", "auth", "search"}
	uniqueHosts = []string{"node-01", "node-02", "node-03", "node-04"}
	uniqueVerbs = []string{"rebuilt", "evicted", "rejected", "flushed", "promoted", "skipped", "reloaded", "pinned"}
	uniqueNouns = []string{"shard", "session", "segment", "lease", "replica", "bucket", "ticket", "cursor"}
)

// NewUnique returns n lines that are all distinct once numbers are
// masked: each carries a word spelled from its own index (letters only,
// no digit or hex letter), so lines differ in words and not only in
// numbers, plus random numbers that a masker should ignore. That word and
// the host word sit at places where a new value turns up at every line:
// parameter words, so their Truth is one Template per app, noun and verb
// (512 in all), "api: shard <*> promoted after <*>ms on <*> (attempt <*>)".
func NewUnique(seed int64, n int) Generator {
	u := &unique{r: newRand(seed), buf: make([]byte, 0, 256), limit: n, now: DefaultIncident().Start}
	for i, a := range uniqueApps {
		u.pids = append(u.pids, strconv.Itoa(700+41*i))
		for _, n := range uniqueNouns {
			for _, v := range uniqueVerbs {
				u.truths = append(u.truths, a+": "+n+" <*> "+v+" after <*>ms on <*> (attempt <*>)")
			}
		}
	}
	return u
}

func (u *unique) Next(m *floodgate.Message) bool {
	if u.n >= u.limit {
		return false
	}
	// Scramble the index (an odd multiplier is a bijection on 32 bits) so
	// that neighbouring lines do not share their leading syllables.
	id := uint64(uint32(u.n) * 0x9e3779b1)
	u.n++
	u.now = u.now.Add(time.Duration(50+u.r.IntN(100)) * time.Microsecond)
	ai := u.r.IntN(len(uniqueApps))
	b := u.buf[:0]
	ni := u.r.IntN(len(uniqueNouns))
	b = append(b, uniqueNouns[ni]...)
	b = append(b, ' ')
	b = appendWord(b, id)
	b = append(b, ' ')
	vi := u.r.IntN(len(uniqueVerbs))
	b = append(b, uniqueVerbs[vi]...)
	u.truth = u.truths[(ai*len(uniqueNouns)+ni)*len(uniqueVerbs)+vi]
	b = append(b, " after "...)
	b = strconv.AppendUint(b, uint64(u.r.IntN(5000)), 10)
	b = append(b, "ms on "...)
	b = appendWord(b, uint64(u.r.IntN(40000)))
	b = append(b, " (attempt "...)
	b = strconv.AppendUint(b, uint64(1+u.r.IntN(9)), 10)
	b = append(b, ')')
	u.buf = b
	m.Time = u.now
	m.Host = uniqueHosts[u.r.IntN(len(uniqueHosts))]
	m.App, m.ProcID = uniqueApps[ai], u.pids[ai]
	m.Facility, m.Severity = 1, floodgate.Info
	m.Text = u.a.string(b)
	finish(m)
	return true
}

// Truth describes the message the last Next produced.
func (u *unique) Truth() Truth { return Truth{Kind: "unique", Template: u.truth} }
