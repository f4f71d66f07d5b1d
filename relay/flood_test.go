package relay

import (
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// floodRecorder keeps what reaches it.
type floodRecorder struct{ recs []floodgate.Record }

func (r *floodRecorder) Handle(_ time.Time, rec *floodgate.Record) { r.recs = append(r.recs, *rec) }
func (r *floodRecorder) Tick(time.Time, bool)                      {}

func (r *floodRecorder) events() []floodgate.Record {
	var out []floodgate.Record
	for _, rec := range r.recs {
		if rec.Event != "" {
			out = append(out, rec)
		}
	}
	return out
}

// phase is a stretch of seconds in which a source sends rate bytes a
// second, in messages of up to 1000 bytes (none at rate 0).
type phase struct {
	app     string
	seconds int
	rate    int
}

// drive sends the phases one after the other on a fake clock, ticking
// every second as the relay does, and returns the events with the second
// each was written in.
func drive(t *testing.T, o FloodOptions, phases []phase) (events []floodgate.Record, at []int, passed int) {
	t.Helper()
	next, out := &floodRecorder{}, &floodRecorder{}
	s := newFloodStage(o, next, out)
	t0 := time.Date(2018, 9, 11, 1, 0, 0, 0, time.UTC)
	sec := 0
	for _, p := range phases {
		for range p.seconds {
			n, size := 0, 0
			if p.rate > 0 {
				n = max(1, p.rate/1000)
				size = p.rate / n
			}
			for i := range n {
				now := t0.Add(time.Duration(sec)*time.Second + time.Duration(i)*time.Second/time.Duration(n))
				r := floodgate.Record{Message: floodgate.Message{Time: now, Host: "ip-10-18-39-127", App: p.app, Size: size, Text: "goroutine 1 [runnable]:"}}
				s.Handle(now, &r)
				passed++
			}
			sec++
			before := len(out.events())
			s.Tick(t0.Add(time.Duration(sec)*time.Second), false)
			for range len(out.events()) - before {
				at = append(at, sec)
			}
		}
	}
	if len(next.recs) != passed {
		t.Errorf("the stage passed on %d of %d records", len(next.recs), passed)
	}
	// Events written on a message rather than a tick: find their second.
	ev := out.events()
	for len(at) < len(ev) {
		at = append([]int{-1}, at...)
	}
	return ev, at, passed
}

func TestFloodStartsAndEnds(t *testing.T) {
	o := DefaultFloodOptions()
	o.Host = "relay-1"
	tests := []struct {
		name   string
		phases []phase
		want   []string // events in order
	}{
		{
			name:   "a quiet source floods, then calms down",
			phases: []phase{{"dockerd", 600, 1000}, {"dockerd", 60, 4 << 20}, {"dockerd", 60, 1000}},
			want:   []string{EventFloodStart, EventFloodEnd},
		},
		{
			name:   "a flood that stops dead ends on the ticks",
			phases: []phase{{"dockerd", 600, 1000}, {"dockerd", 20, 4 << 20}, {"dockerd", 80, 0}},
			want:   []string{EventFloodStart, EventFloodEnd},
		},
		{
			name:   "a burst is no flood",
			phases: []phase{{"dockerd", 600, 1000}, {"dockerd", 1, 256 << 10}, {"dockerd", 60, 1000}},
		},
		{
			name:   "ten times a tiny baseline but under MinRate is no flood",
			phases: []phase{{"dockerd", 600, 100}, {"dockerd", 60, 30000}},
		},
		{
			name:   "a busy source at five times its usual rate is no flood",
			phases: []phase{{"kafka", 1200, 20000}, {"kafka", 600, 100000}},
		},
		{
			name: "a flood that wavers around twice its start threshold starts once",
			phases: []phase{{"dockerd", 600, 1000}, {"dockerd", 10, 4 << 20}, {"dockerd", 5, 100000},
				{"dockerd", 10, 4 << 20}, {"dockerd", 5, 100000}, {"dockerd", 60, 1000}},
			want: []string{EventFloodStart, EventFloodEnd},
		},
		{
			name:   "dumps every five seconds are one flood",
			phases: append(append([]phase{{"dockerd", 600, 1000}}, dumps(12)...), phase{"dockerd", 120, 1000}),
			want:   []string{EventFloodStart, EventFloodEnd},
		},
		{
			name:   "a source that arrives flooding floods",
			phases: []phase{{"dockerd", 30, 4 << 20}, {"dockerd", 60, 0}},
			want:   []string{EventFloodStart, EventFloodEnd},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, _, _ := drive(t, o, tt.phases)
			var got []string
			for _, e := range events {
				got = append(got, e.Event)
				if e.App != "floodgate" || e.Host != "relay-1" || e.Syntax != floodgate.Internal || e.Summary != nil ||
					!strings.Contains(e.Text, "flood from "+tt.phases[0].app+" on ip-10-18-39-127") {
					t.Errorf("event record: %+v", e.Message)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("events: got %v, want %v", got, tt.want)
			}
		})
	}
}

// dumps returns n rounds of a goroutine dump's 4 MiB in one second and
// four quiet seconds.
func dumps(n int) []phase {
	var p []phase
	for range n {
		p = append(p, phase{"dockerd", 1, 4 << 20}, phase{"dockerd", 4, 0})
	}
	return p
}

// The flood starts after Start seconds over the threshold and ends End
// seconds after the source calmed down, on the fake clock.
func TestFloodTiming(t *testing.T) {
	o := DefaultFloodOptions()
	_, at, _ := drive(t, o, []phase{{"dockerd", 600, 1000}, {"dockerd", 60, 4 << 20}, {"dockerd", 100, 0}})
	if len(at) != 2 {
		t.Fatalf("events at seconds %v, want a start and an end", at)
	}
	// The third second over the threshold is 602; it is closed by the
	// first message of second 603 (written before that second's tick).
	if at[0] != -1 && at[0] != 603 {
		t.Errorf("flood started at second %d, want 603", at[0])
	}
	// Quiet from second 660: the rate takes some twenty seconds to fall
	// under the end threshold, and stays there thirty.
	if at[1] < 690 || at[1] > 720 {
		t.Errorf("flood ended at second %d, want between 690 and 720", at[1])
	}
}

func TestFloodEndSaysHowMuch(t *testing.T) {
	events, _, _ := drive(t, DefaultFloodOptions(), []phase{{"dockerd", 600, 1000}, {"dockerd", 20, 1 << 20}, {"dockerd", 80, 1000}})
	if len(events) != 2 {
		t.Fatalf("events: %v", events)
	}
	end := events[1].Text
	// 20 seconds of 1048 messages of 1000 bytes, and the 1000 bytes of
	// each of the few seconds the rate took to fall.
	for _, want := range []string{"ended: 209", "20.0 MiB over ", "from 2018-09-11T01:10:00Z", "at most 1023.4 KiB/s"} {
		if !strings.Contains(end, want) {
			t.Errorf("end record %q lacks %q", end, want)
		}
	}
	if start := events[0].Text; !strings.Contains(start, "times its baseline of") {
		t.Errorf("start record %q does not compare with the baseline", start)
	}
}

func TestFloodIsToldToTheReport(t *testing.T) {
	var floods []Flood
	next, out := &floodRecorder{}, &floodRecorder{}
	s := newFloodStage(DefaultFloodOptions(), next, out)
	s.onFlood = func(f Flood) { floods = append(floods, f) }
	t0 := time.Date(2018, 9, 11, 1, 0, 0, 0, time.UTC)
	send := func(app string, from, to, perSecond int) {
		for sec := from; sec < to; sec++ {
			for i := range perSecond {
				now := t0.Add(time.Duration(sec)*time.Second + time.Duration(i)*time.Millisecond)
				s.Handle(now, &floodgate.Record{Message: floodgate.Message{Host: "h", App: app, Size: 1000}})
			}
			s.Tick(t0.Add(time.Duration(sec+1)*time.Second), false)
		}
	}
	// a floods from second 0 and stops at 10; its 5-second average is
	// over 64 KiB/s from second 1.
	send("a", 0, 10, 200)
	send("b", 10, 80, 200) // floods from 10 on; a ends on the ticks
	s.Tick(t0.Add(80*time.Second), true)
	if len(floods) != 4 {
		t.Fatalf("told %d times, want a's start and end, b's start and final totals: %+v", len(floods), floods)
	}
	a := floods[2]
	if a.App != "a" || !a.Start.Equal(t0.Add(time.Second)) || a.Messages != 1800 || a.Bytes != 1_800_000 || a.Peak != 200_000 ||
		a.End.Before(t0.Add(9*time.Second)) || a.End.After(t0.Add(20*time.Second)) {
		t.Errorf("a's end: %+v", a)
	}
	b := floods[3]
	if b.App != "b" || !b.End.IsZero() || b.Messages != 69*200 {
		t.Errorf("b at the final tick: %+v", b)
	}
}

func TestFloodSourcesAreBounded(t *testing.T) {
	o := DefaultFloodOptions()
	o.MaxSources = 100
	s := newFloodStage(o, &floodRecorder{}, &floodRecorder{})
	now := time.Date(2018, 9, 11, 1, 0, 0, 0, time.UTC)
	for i := range 10000 {
		r := floodgate.Record{Message: floodgate.Message{Host: "h", App: "app" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)), Size: 10}}
		s.Handle(now, &r)
	}
	if n := s.sources.Len(); n > 100 {
		t.Errorf("%d sources tracked, want at most 100", n)
	}
}
