package bench

import (
	"bytes"
	"slices"
	"sync"
	"time"
)

// probeMarker starts a probe's text. A probe is then one word that spells
// its send time (Unix microseconds) in letters only: the probe carries
// its own send time, so any tool that reads the output can measure the
// latency; and a deduplicator masks numbers, so probes that differed only
// in a number would fold into one summary and measure nothing, while
// different words are different patterns.
const probeMarker = "latency probe "

// Probes pairs the send time of each latency probe with the moment it
// shows up in the target's output. It is safe for concurrent use: the
// sender records, the watcher finds.
type Probes struct {
	mu    sync.Mutex
	seq   uint64
	us    int64 // send time of the last probe, Unix microseconds
	sent  map[string]time.Time
	lat   []time.Duration
	last  string    // the word of the last probe sent
	lastT time.Time // when the last probe was seen, zero until then
}

// NewProbes returns an empty registry.
func NewProbes() *Probes {
	return &Probes{sent: make(map[string]time.Time)}
}

const probeLetters = "ghjklmnprstvwz"

// next appends the wire form of a new probe sent at now to dst: an RFC
// 3164 message from host floodgate-bench, app probe.
func (p *Probes) next(dst []byte, now time.Time) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	// Strictly increasing, so that every probe is a word of its own.
	p.us = max(now.UnixMicro(), p.us+1)
	dst = append(dst, "<29>"...)
	dst = now.AppendFormat(dst, time.Stamp)
	dst = append(dst, " floodgate-bench probe: "+probeMarker...)
	start := len(dst)
	for n := uint64(p.us); n > 0; n /= uint64(len(probeLetters)) {
		dst = append(dst, probeLetters[n%uint64(len(probeLetters))])
	}
	p.last = string(dst[start:])
	p.lastT = time.Time{}
	p.sent[p.last] = time.UnixMicro(p.us)
	return dst
}

// DecodeProbe returns the send time a probe's word spells, so that a
// tool other than the harness can measure latency from the output alone.
func DecodeProbe(word string) (time.Time, bool) {
	if word == "" || len(word) > 20 {
		return time.Time{}, false
	}
	var us uint64
	for i := len(word) - 1; i >= 0; i-- {
		d := bytes.IndexByte([]byte(probeLetters), word[i])
		if d < 0 {
			return time.Time{}, false
		}
		us = us*uint64(len(probeLetters)) + uint64(d)
	}
	return time.UnixMicro(int64(us)), true
}

// find looks for probes in complete output lines and records the latency
// of each one seen for the first time.
func (p *Probes) find(lines []byte, now time.Time) {
	for {
		i := bytes.Index(lines, []byte(probeMarker))
		if i < 0 {
			return
		}
		lines = lines[i+len(probeMarker):]
		end := 0
		for end < len(lines) && bytes.IndexByte([]byte(probeLetters), lines[end]) >= 0 {
			end++
		}
		word := string(lines[:end])
		p.mu.Lock()
		if t, ok := p.sent[word]; ok {
			p.lat = append(p.lat, now.Sub(t))
			delete(p.sent, word)
			if word == p.last {
				p.lastT = now
			}
		}
		p.mu.Unlock()
	}
}

// LastSeen returns when the last probe sent showed up in the output.
// Sent after the whole corpus, it marks when the target had worked
// through it: for a relay that writes summaries on a timer long after,
// a truer end than the output's last growth.
func (p *Probes) LastSeen() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastT, !p.lastT.IsZero()
}

// Latency summarises the probes: how many were sent and seen, and
// percentiles of the seen ones' latency.
type Latency struct {
	Sent int64   `json:"sent"`
	Seen int64   `json:"seen"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

// Latency returns the summary so far.
func (p *Probes) Latency() Latency {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := Latency{Sent: int64(p.seq), Seen: int64(len(p.lat))}
	if len(p.lat) == 0 {
		return l
	}
	s := slices.Clone(p.lat)
	slices.Sort(s)
	q := func(f float64) float64 {
		return float64(s[min(len(s)-1, int(f*float64(len(s))))]) / float64(time.Millisecond)
	}
	l.P50, l.P90, l.P99 = q(0.50), q(0.90), q(0.99)
	l.Max = float64(s[len(s)-1]) / float64(time.Millisecond)
	return l
}
