package gen

import (
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
)

// NewPoison returns n sshd messages of one host that try to poison a
// learner of variable places. For the first 30% of the flood the place
// before "password" shows two recurring values, "Failed password for
// <*> ..." and "Accepted password for <*> ...". Then, for 40% of the
// flood, nine lines in ten put a new capitalised word at that place
// ("Zuvoki password for ..."), thousands of distinct values that make
// it look like a parameter, while Failed and Accepted go on. In the last
// 30% only Failed and Accepted are left. They must stay two patterns
// throughout (Truth.NearMiss "ssh-password"); the poison lines are one
// pattern of their own, "sshd: <*> password for <*> ...".
func NewPoison(seed int64, n int) Generator {
	return build("poison", kindConfig{seed: seed, n: n, hosts: []string{"bastion-01"}}, newPoison)
}

var sshPoison = ln("sshd", "{$3} password for {$0} from {$1} port {$2} ssh2")

type poison struct {
	users, ips *pool
	from, to   int // the poisoning phase, in messages
	pid        int
}

func newPoison(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	users := append(append([]string(nil), sshUsers...), personNames()...)
	for _, h := range c.hosts {
		b := &poison{
			users: newPool(1.1, users),
			ips:   newPool(1.05, publicIPs(g.r, 3000)),
			from:  c.n * 3 / 10,
			to:    c.n * 7 / 10,
			pid:   3000 + g.r.IntN(20000),
		}
		g.addSource(&source{host: h, app: "sshd", fac: 10, sev: floodgate.Info, b: b}, c.start, time.Second)
	}
	return g
}

func (p *poison) event(g *flood, s *source) {
	r := s.r
	p.pid += 1 + r.IntN(30)
	s.pid = g.a.string(strconv.AppendInt(g.buf[:0], int64(p.pid), 10))
	s.set(0, p.users.pick(r))
	s.set(1, p.ips.pick(r))
	s.setInt(2, 1024+r.IntN(64511))
	s.next = exp(r, 300*time.Millisecond)
	if g.n > p.from && g.n <= p.to && r.IntN(10) < 9 { // g.n counts this message
		w := appendWord(s.slots[3][:0], r.Uint64N(1<<40))
		w[0] -= 'a' - 'A'
		s.slots[3] = w
		s.add(sshPoison, 0)
		s.next = exp(r, 20*time.Millisecond)
		return
	}
	if r.IntN(3) == 0 {
		s.add(sshAccepted, 0)
	} else {
		s.add(sshFailed, 0)
	}
}
