package relay

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/input"
)

// recorder is a chain end that keeps what it is handed; one per shard,
// read only after the pipeline is closed.
type recorder struct {
	shard  int
	recs   []floodgate.Record
	nows   []time.Time
	ticks  int
	finals int
}

func (r *recorder) Handle(now time.Time, rec *floodgate.Record) {
	r.recs = append(r.recs, *rec)
	r.nows = append(r.nows, now)
}

func (r *recorder) Tick(now time.Time, final bool) {
	r.ticks++
	if final {
		r.finals++
	}
}

func newRecorded(o pipelineOptions) (*pipeline, []*recorder) {
	recs := make([]*recorder, o.Shards)
	o.Chain = func(i int) floodgate.Handler {
		recs[i] = &recorder{shard: i}
		return recs[i]
	}
	return newPipeline(o), recs
}

func TestPipelineKeepsEverySourceInOrderOnOneShard(t *testing.T) {
	p, recs := newRecorded(pipelineOptions{Shards: 4, Queue: 2, Tick: time.Hour, clock: wallClock})
	const sources, perSource = 37, 300
	sent := 0
	// Batches interleave every source, as one busy TCP connection would.
	for seq := 0; seq < perSource; seq += 10 {
		b := &input.Batch{Input: "test", Received: time.Now()}
		for s := 0; s < sources; s++ {
			for k := seq; k < seq+10; k++ {
				b.Frames = append(b.Frames, []byte(fmt.Sprintf("<14>Nov 27 10:00:00 host%d app%d[1]: seq %d", s%5, s, k)))
				sent++
			}
		}
		p.Deliver(b)
	}
	p.Close()
	shardOf := map[string]int{}
	next := map[string]int{}
	got := 0
	for _, r := range recs {
		if r.finals != 1 {
			t.Errorf("shard %d got %d final ticks, want 1", r.shard, r.finals)
		}
		for _, rec := range r.recs {
			got++
			src := rec.Host + "/" + rec.App
			if s, ok := shardOf[src]; ok && s != r.shard {
				t.Fatalf("source %s on shards %d and %d", src, s, r.shard)
			}
			shardOf[src] = r.shard
			var k int
			if _, err := fmt.Sscanf(rec.Text, "seq %d", &k); err != nil {
				t.Fatalf("text %q: %v", rec.Text, err)
			}
			if k != next[src] {
				t.Fatalf("source %s: seq %d after %d", src, k, next[src]-1)
			}
			next[src]++
			if rec.Input != "test" {
				t.Fatalf("input = %q", rec.Input)
			}
		}
	}
	if got != sent {
		t.Fatalf("handled %d of %d messages", got, sent)
	}
	if len(shardOf) != sources {
		t.Fatalf("%d sources seen, want %d", len(shardOf), sources)
	}
	used := map[int]bool{}
	for _, s := range shardOf {
		used[s] = true
	}
	if len(used) < 2 {
		t.Errorf("%d sources all on one shard: sharding does not spread", sources)
	}
	if m, _ := p.Stats(); m != int64(sent) {
		t.Errorf("Stats() messages = %d, want %d", m, sent)
	}
}

func TestReplayClockFollowsMessagesAndNeverGoesBack(t *testing.T) {
	p, recs := newRecorded(pipelineOptions{Shards: 1, Tick: 10 * time.Second, clock: messageClock})
	wall := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p.Deliver(&input.Batch{Input: "replay", Received: wall, Frames: [][]byte{
		[]byte("not syslog at all, first"), // no clock yet: keeps the receive time
		[]byte("Sep  9 10:02:37 h app: a"),
		[]byte("Sep  9 10:02:30 h app: b, pasted out of order"),
		[]byte("garbage line"), // takes the replay clock, not the wall clock
		[]byte("Sep  9 10:02:59 h app: c"),
	}})
	p.Close()
	r := recs[0]
	if len(r.recs) != 5 {
		t.Fatalf("got %d records", len(r.recs))
	}
	for i := 1; i < len(r.nows); i++ {
		if r.nows[i].Before(r.nows[i-1]) && i > 1 {
			t.Errorf("clock went back at %d: %v after %v", i, r.nows[i], r.nows[i-1])
		}
	}
	at := func(s string) time.Time {
		ts, _ := time.ParseInLocation("Jan _2 15:04:05 2006", s+" 2026", time.Local)
		return ts
	}
	if !r.nows[2].Equal(at("Sep  9 10:02:37")) {
		t.Errorf("out-of-order message moved the clock back: now %v", r.nows[2])
	}
	if !r.recs[3].Time.Equal(at("Sep  9 10:02:37")) || r.recs[3].Syntax != floodgate.Unparsed {
		t.Errorf("unparsed line: time %v syntax %v, want the replay clock", r.recs[3].Time, r.recs[3].Syntax)
	}
	if !r.nows[4].Equal(at("Sep  9 10:02:59")) {
		t.Errorf("clock = %v, want the last message's time", r.nows[4])
	}
	// 22 s of message time passed with a 10 s tick: at least one tick
	// before the final one, driven by message time, not wall time.
	if r.ticks < 2 || r.finals != 1 {
		t.Errorf("ticks %d (final %d): replay must tick as message time passes", r.ticks, r.finals)
	}
}

func TestShardByKeyKeepsABudgetOnOneShard(t *testing.T) {
	tests := []struct {
		name string
		key  []string
		// same reports whether two messages must share a shard.
		same func(a, b floodgate.Message) bool
	}{
		{name: "host and app", key: []string{"host", "app"},
			same: func(a, b floodgate.Message) bool { return a.Host == b.Host && a.App == b.App }},
		{name: "host", key: []string{"host"},
			same: func(a, b floodgate.Message) bool { return a.Host == b.Host }},
		{name: "app and procid", key: []string{"app", "procid"},
			same: func(a, b floodgate.Message) bool { return a.App == b.App }},
		{name: "input only", key: []string{"input"},
			same: func(a, b floodgate.Message) bool { return true }},
		// Each peer sends under every host name.
		{name: "peer", key: []string{"peer"},
			same: func(a, b floodgate.Message) bool { return a.Peer == b.Peer }},
		{name: "peer and app", key: []string{"peer", "app"},
			same: func(a, b floodgate.Message) bool { return a.Peer == b.Peer }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, recs := newRecorded(pipelineOptions{Shards: 4, Tick: time.Hour, clock: wallClock, shardBy: shardByKey(tt.key)})
			b := &input.Batch{Input: "test", Received: time.Now()}
			for h := 0; h < 6; h++ {
				for a := 0; a < 6; a++ {
					b.Frames = append(b.Frames, []byte(fmt.Sprintf("<14>Nov 27 10:00:00 host%d app%d[%d]: x", h, a, h*a)))
					b.Peers = append(b.Peers, netip.AddrFrom4([4]byte{10, 0, 0, byte(a)}))
				}
			}
			p.Deliver(b)
			p.Close()
			var all []floodgate.Message
			var shard []int // shard[i] handled all[i]
			for _, r := range recs {
				for i := range r.recs {
					all = append(all, r.recs[i].Message)
					shard = append(shard, r.shard)
				}
			}
			if len(all) != 36 {
				t.Fatalf("%d messages arrived, want 36", len(all))
			}
			used := map[int]bool{}
			for i := range all {
				used[shard[i]] = true
				for j := range all {
					if tt.same(all[i], all[j]) && shard[i] != shard[j] {
						t.Fatalf("%s/%s and %s/%s share a budget but not a shard",
							all[i].Host, all[i].App, all[j].Host, all[j].App)
					}
				}
			}
			if len(tt.key) > 1 || tt.key[0] == "host" || tt.key[0] == "peer" {
				if len(used) < 2 {
					t.Errorf("everything on one shard: the key %v does not spread sources", tt.key)
				}
			}
		})
	}
}

func TestSourceHashTellsHostFromApp(t *testing.T) {
	if sourceHash("a", "b") == sourceHash("b", "a") {
		t.Error("sourceHash is symmetric in host and app")
	}
	if h := sourceHash("a", "b"); h != sourceHash(string([]byte("a")), string([]byte("b"))) {
		t.Error("sourceHash is not a function of host and app")
	}
}
