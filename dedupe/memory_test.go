package dedupe

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// TestLearningStateBounded feeds ten million lines, each with values never
// seen before (user names, job ids, and free text of new words of varying
// count, so new skeletons too), and requires the engine's live heap, what
// it learned included, to stay under 64 MiB with the default limits, and
// accounting to hold. Under the race detector it runs a few hundred thousand.
func TestLearningStateBounded(t *testing.T) {
	n := 10_000_000
	if raceEnabled || testing.Short() {
		n = 300_000
	}
	s := &sink{}
	e := New(DefaultOptions(), s)
	hosts := []string{"node-a", "node-b", "node-c", "node-d"}
	var buf []byte
	var r floodgate.Record
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ticked := now
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	for i := range n {
		now = now.Add(10 * time.Microsecond)
		if now.Sub(ticked) >= time.Second {
			e.Tick(now, false)
			ticked = now
		}
		buf = buf[:0]
		switch i % 3 {
		case 0:
			buf = append(buf, "session opened for user "...)
			buf = appendLetters(buf, uint64(i))
			buf = append(buf, " by (uid=0)"...)
		case 1:
			buf = append(buf, "job "...)
			buf = appendLetters(buf, uint64(i)*7919)
			buf = append(buf, " finished on worker "...)
			buf = appendLetters(buf, uint64(i)*104729)
		default:
			for w := range 3 + i%7 {
				if w > 0 {
					buf = append(buf, ' ')
				}
				buf = appendLetters(buf, uint64(i)*31+uint64(w)*1000003)
			}
		}
		r.Message = floodgate.Message{Time: now, Host: hosts[i&3], App: "app" + strconv.Itoa(i%5), ProcID: "7", Text: string(buf), Size: len(buf)}
		e.Handle(now, &r)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := int64(ms.HeapAlloc) - int64(base.HeapAlloc)
	t.Logf("%d lines of new values: live heap %.1f MiB, %d patterns, %d groups", n, float64(live)/(1<<20), e.patterns.Len(), e.groups.Len())
	if live > 64<<20 {
		t.Errorf("live heap %.1f MiB after %d lines of new values, want under 64 MiB", float64(live)/(1<<20), n)
	}
	e.Tick(now, true)
	if s.verbatim+s.counted != int64(n) {
		t.Errorf("accounting: %d lines, %d written + %d counted", n, s.verbatim, s.counted)
	}
	runtime.KeepAlive(e)
}

// appendLetters spells v in lowercase letters, which no masker rule
// touches.
func appendLetters(dst []byte, v uint64) []byte {
	v = v*0x9e3779b97f4a7c15 ^ v>>29
	for range 6 {
		dst = append(dst, byte('a'+v%26))
		v /= 26
	}
	return dst
}
