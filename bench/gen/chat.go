package gen

import (
	"strings"
	"time"

	"github.com/floodgate/floodgate"
)

// NewChat returns n free-text lines: an IRC/Matrix bridge that logs every
// message it relays, "[#ops] <anna.k> did anyone restart the db after
// the deploy", with a channel, a nick and 3 to 24 words drawn from a
// vocabulary of some 400 words by a Zipf law. No template: each line is
// new text, and a correct relay writes every one (Truth.Free). Talk comes
// in bursts (a conversation), with quiet spells between.
func NewChat(seed int64, n int) Generator {
	return build("chat", kindConfig{seed: seed, n: n, hosts: []string{"chat-01"}}, newChat)
}

var chatWords = strings.Fields(`the to and a i you it is that of in we for this on be have not
can do it's just with but so was what are if i'm at me no yes ok my all
will from up there like get now out about one they know think how
deploy db restart prod staging build test tests fix fixed broken merge
branch review pr ticket issue bug logs log disk cpu memory node pod
cluster alert page pager oncall incident rollback release version
config cache queue worker job cron timeout latency error errors 502
503 dns cert tls proxy lb nginx kafka redis postgres mysql backup
lunch coffee meeting standup tomorrow today yesterday later soon
again still already maybe probably actually really thanks thx please
sorry sure cool nice great weird strange looks seems works working
works? why where when who which anyone someone everyone nobody
something anything nothing check checking checked look looking
see saw seen try trying tried run running ran start started stop
stopped kill killed down up back over into after before while
because since until than then too very much more less some any
every other new old same different first last next few many
should would could might must need needs want wants going gone
let's lets me? here? there? right wrong true false on? off
dashboard grafana graph metrics spike spikes drop drops rate
traffic users customers region zone eu us east west primary
replica failover lag slow fast faster slower hour hours minute
minutes day days week weekend friday monday sprint plan doc docs
wiki readme link url repo ci pipeline green red flaky retry
retries rerun ping pinged ask asked tell told said say heard
`)

var chatChannels = []string{"#ops", "#dev", "#general", "#random", "#incidents", "#deploys", "#sre", "#help"}

type chat struct {
	words    *pool
	nicks    *pool
	channels *pool
	burst    int
}

func newChat(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	var nicks []string
	for _, p := range personNames() {
		nicks = append(nicks, p, p+"_", p+"|away")
	}
	for _, h := range c.hosts {
		b := &chat{
			words:    newPoolV(1.01, 6, chatWords),
			nicks:    newPool(1.3, shuffled(g.r, nicks)),
			channels: newPool(1.5, chatChannels),
		}
		s := &source{host: h, app: "ircbridge", pid: "4242", fac: 16, sev: floodgate.Info, b: b}
		g.addSource(s, c.start, time.Second)
	}
	return g
}

var chatLine = &line{sev: -1, free: true, text: func(g *flood, s *source, dst []byte) []byte {
	c, r := s.b.(*chat), s.r
	dst = append(dst, '[')
	dst = append(dst, c.channels.pick(r)...)
	dst = append(dst, "] <"...)
	dst = append(dst, c.nicks.pick(r)...)
	dst = append(dst, "> "...)
	n := 3 + int(r.ExpFloat64()*6)
	n = min(n, 24)
	for i := range n {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, c.words.pick(r)...)
	}
	return dst
}}

func (c *chat) event(g *flood, s *source) {
	r := s.r
	s.add(chatLine, 0)
	if c.burst <= 0 {
		c.burst = 5 + r.IntN(60)
		s.next = between(r, 30*time.Second, 5*time.Minute)
		return
	}
	c.burst--
	s.next = exp(r, 4*time.Second)
}
