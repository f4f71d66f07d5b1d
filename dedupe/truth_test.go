package dedupe

import (
	"testing"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
)

// fates is an Observer that keeps every message's fate by its Seq.
type fates map[uint64]floodgate.Fate

func (f fates) Observe(x floodgate.Fate) { f[x.Seq] = x }

// TestGroupingAgainstTheTruth runs every kind of bench/gen's floods
// through an engine and compares what it wrote and counted with what the
// generator says each message is (gen.Truth, the template its program's
// author wrote):
//
//   - nothing is lost: every message is written or counted, once;
//   - the first message of every template of every source is written
//     verbatim, and the first block of every kind of block whole;
//   - every free-text line is written;
//   - no repeat summary stands for lines of two near-miss templates
//     (Failed and Accepted, OK and FAILED).
func TestGroupingAgainstTheTruth(t *testing.T) {
	n := 30_000
	if raceEnabled || testing.Short() {
		n = 8_000
	}
	for _, kind := range gen.Kinds() {
		t.Run(kind, func(t *testing.T) {
			g, err := gen.New(kind, 7, n)
			if err != nil {
				t.Fatal(err)
			}
			tr := g.(gen.Truther)
			var msgs []floodgate.Message
			var truths []gen.Truth
			for {
				var m floodgate.Message
				if !g.Next(&m) {
					break
				}
				m.Seq = uint64(len(msgs) + 1)
				msgs = append(msgs, m)
				truths = append(truths, tr.Truth())
			}
			f := fates{}
			opts := DefaultOptions()
			opts.Observer = f
			c := &collector{}
			replay(New(opts, c), msgs)
			checkTruth(t, msgs, truths, f, c.recs)
		})
	}
}

func checkTruth(t *testing.T, msgs []floodgate.Message, truths []gen.Truth, f fates, recs []floodgate.Record) {
	t.Helper()
	var written, counted int64
	var outBytes int
	for _, r := range recs {
		outBytes += len(r.Text) + 40
		if r.Summary == nil {
			written++
		} else {
			counted += r.Summary.Count
		}
	}
	if written+counted != int64(len(msgs)) {
		t.Errorf("accounting: %d messages, %d written + %d counted", len(msgs), written, counted)
	}
	if len(f) != len(msgs) {
		t.Errorf("observer told of %d messages of %d", len(f), len(msgs))
	}
	// Every message told counted under fp is counted by a summary with
	// that fp: per fp, the fates and the summaries' counts agree.
	byFP := map[string]int64{}
	for _, x := range f {
		if !x.Verbatim {
			byFP[x.FP]++
		}
	}
	for _, r := range recs {
		if r.Summary != nil {
			byFP[r.Summary.FP] -= r.Summary.Count
		}
	}
	for fp, n := range byFP {
		if n != 0 {
			t.Errorf("fp %s: %d more messages told counted than its summaries count", fp, n)
		}
	}
	type key struct{ host, app, tmpl string }
	seen := map[key]bool{}
	seenBlock := map[key]uint64{}             // the first instance of each block template
	nearFP := map[string]map[string]bool{}    // repeats: one template each
	nearCycle := map[string]map[string]bool{} // cycles: never a near-miss pair
	missing := 0
	inBytes := 0
	for i := range msgs {
		m, tr, x := &msgs[i], truths[i], f[msgs[i].Seq]
		inBytes += m.Size
		if tr.Free {
			if !x.Verbatim {
				t.Errorf("free text counted: %q", m.Text)
			}
			continue
		}
		if tr.Block != 0 {
			k := key{m.Host, m.App, tr.BlockTemplate}
			if first, ok := seenBlock[k]; !ok || first == tr.Block {
				seenBlock[k] = tr.Block
				if !x.Verbatim {
					missing++
					if missing < 5 {
						t.Errorf("line of the first %s block not written: %q", tr.BlockTemplate, m.Text)
					}
				}
			}
			continue
		}
		k := key{m.Host, m.App, tr.Template}
		if !seen[k] {
			seen[k] = true
			if !x.Verbatim {
				missing++
				if missing < 5 {
					t.Errorf("first occurrence of %q not written: %q", tr.Template, m.Text)
				}
			}
		}
		if tr.NearMiss != "" && !x.Verbatim {
			m := nearFP
			if x.Kind == floodgate.Cycle {
				m = nearCycle
			}
			if m[x.FP] == nil {
				m[x.FP] = map[string]bool{}
			}
			m[x.FP][tr.Template] = true
		}
	}
	if missing > 0 {
		t.Errorf("%d first occurrences not written", missing)
	}
	for fp, tmpls := range nearFP {
		if len(tmpls) > 1 {
			t.Errorf("near misses folded together under %s: %v", fp, tmpls)
		}
	}
	for fp, tmpls := range nearCycle {
		for a := range tmpls {
			for b := range tmpls {
				if a < b && gen.NearMissPair(a, b) {
					t.Errorf("near misses %q and %q counted under one cycle %s", a, b, fp)
				}
			}
		}
	}
	t.Logf("%d messages, %d templates: %d records (%.1fx fewer), ~%d bytes out (%.1fx fewer)",
		len(msgs), len(seen), len(recs), float64(len(msgs))/float64(len(recs)), outBytes, float64(inBytes)/float64(outBytes))
}
