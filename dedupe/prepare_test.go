package dedupe

import (
	"testing"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
)

// Records prepared ahead (as the relay's input goroutines do) fold
// exactly as records the engine prepares itself: the same records out, in
// the same order, on the capture of every kind; and a Prepared made for
// another text is never used.
func TestPreparedFoldsAlike(t *testing.T) {
	n := 200_000
	if testing.Short() || raceEnabled {
		n = 40_000
	}
	g, err := gen.New("capture", 3, n)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []floodgate.Message
	var m floodgate.Message
	for g.Next(&m) {
		msgs = append(msgs, m)
	}
	plain := &collector{}
	replay(New(DefaultOptions(), plain), msgs)

	pp := NewPreparer()
	stale := Prepare("some other line entirely")
	prepped := &collector{}
	e := New(DefaultOptions(), prepped)
	var r floodgate.Record
	var now, ticked = msgs[0].Time, msgs[0].Time
	for i := range msgs {
		if msgs[i].Time.After(now) {
			now = msgs[i].Time
		}
		if now.Sub(ticked) >= 1e9 {
			e.Tick(now, false)
			ticked = now
		}
		r = floodgate.Record{Message: msgs[i]}
		if i%5 == 4 {
			r.Prep = stale // made for another text: ignored
		} else {
			p := new(Prepared)
			pp.Prepare(msgs[i].Text, p)
			r.Prep = p
		}
		e.Handle(now, &r)
	}
	e.Tick(now, true)
	if len(plain.recs) != len(prepped.recs) {
		t.Fatalf("%d records prepared ahead, %d prepared by the engine", len(prepped.recs), len(plain.recs))
	}
	for i := range plain.recs {
		a, b := &plain.recs[i], &prepped.recs[i]
		if a.Text != b.Text || a.Host != b.Host || (a.Summary == nil) != (b.Summary == nil) ||
			a.Summary != nil && (a.Summary.FP != b.Summary.FP || a.Summary.Count != b.Summary.Count) {
			t.Fatalf("record %d differs:\nengine:   %s\nprepared: %s", i, render(plain.recs[i:i+1]), render(prepped.recs[i:i+1]))
		}
	}
	var got int64
	for i := range prepped.recs {
		got += prepped.recs[i].Messages()
	}
	if got != int64(len(msgs)) {
		t.Errorf("accounting: %d messages, %d written or counted", len(msgs), got)
	}
}

// Prepare is a pure function of the text: the same Prepared from any
// Preparer, whatever it prepared before.
func TestPrepareIsPure(t *testing.T) {
	texts := []string{
		"Invalid user admin from 203.0.113.9 port 4242",
		"GET /api/v1/items/17?x=1 HTTP/1.1 200 5120 \"https://shop.example.com/\"",
		"uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.4 user=root",
		"java.lang.IllegalStateException: queue full",
		"",
	}
	pp := NewPreparer()
	for _, s := range texts {
		a := Prepare(s)
		var b Prepared
		pp.Prepare(texts[0]+texts[1]+texts[2], &b)
		pp.Prepare(s, &b)
		if *a != b {
			t.Errorf("Prepare(%q) depends on what was prepared before", s)
		}
		if a.tmpl != Fingerprint(s) {
			t.Errorf("Prepare(%q): template hash %x, Fingerprint %x", s, a.tmpl, Fingerprint(s))
		}
	}
}

// TestPreparerReadableTemplate checks that the readable template made in
// a Preparer's scratch buffers is readableTemplate's, with and without
// learned places, and costs one allocation: an Observer is told one for
// every line of free text.
func TestPreparerReadableTemplate(t *testing.T) {
	g, err := gen.New("capture", 1, 3000)
	if err != nil {
		t.Fatal(err)
	}
	pp := NewPreparer()
	var m floodgate.Message
	for g.Next(&m) {
		for _, vars := range []uint32{0, 1, 0b101, 1 << 3, 1<<maxPlaces - 1} {
			if got, want := pp.readableTemplate(m.Text, vars), readableTemplate(m.Text, vars); got != want {
				t.Fatalf("%q, places %b: %q, want %q", m.Text, vars, got, want)
			}
		}
	}
	text := "user alice logged in from 10.0.0.1 port 2222 after 3 tries"
	pp.readableTemplate(text, 0b11)
	if n := testing.AllocsPerRun(100, func() { pp.readableTemplate(text, 0b11) }); n > 1 {
		t.Errorf("%v allocations per readable template, want 1", n)
	}
}
