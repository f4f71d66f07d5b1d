package bench

import (
	"strings"
	"testing"
)

func TestMediansGroupByNameAndTakeTheMiddle(t *testing.T) {
	rep := func(name string, rate, cpu float64, lost int64) *Report {
		return &Report{Name: name, E2ERate: rate, CPUSecs: cpu, Sent: 1000000, Lost: lost}
	}
	// Interleaved as peers.sh runs them: A, B, A, B, A, B.
	ms := Medians([]*Report{
		rep("rsyslog", 100, 3, 0), rep("floodgate", 300, 1, 0),
		rep("rsyslog", 200, 2, 0), rep("floodgate", 100, 9, 5),
		rep("rsyslog", 150, 1, 0), rep("floodgate", 250, 2, 0),
	})
	if len(ms) != 2 || ms[0].Name != "rsyslog" || ms[1].Name != "floodgate" {
		t.Fatalf("groups = %+v, want rsyslog then floodgate", ms)
	}
	r, f := ms[0], ms[1]
	if r.Runs != 3 || r.E2ERate != 150 || r.MinRate != 100 || r.MaxRate != 200 || r.CPUSecs != 2 {
		t.Errorf("rsyslog = %+v, want 3 runs, median 150 in 100..200, 2 CPU s", r)
	}
	if f.E2ERate != 250 || f.CPUSecs != 2 || f.CPUPerMsg != 2 {
		t.Errorf("floodgate = %+v, want median 250 msg/s, 2 CPU s, 2 µs/msg", f)
	}
	if f.Lost != 5 {
		t.Errorf("floodgate lost %d, want the worst run's 5", f.Lost)
	}
	var b strings.Builder
	if err := WriteMedians(&b, ms, "rsyslog"); err != nil {
		t.Fatal(err)
	}
	// 250/150 msg/s and 2/2 µs per message.
	if !strings.Contains(b.String(), "| floodgate | 3 | 250 |") || !strings.Contains(b.String(), " 1.67x | 1.00x |") {
		t.Errorf("table:\n%s", b.String())
	}
}

func TestMedianOfAnEvenCount(t *testing.T) {
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
	if m := median(nil); m != 0 {
		t.Errorf("median of none = %v, want 0", m)
	}
}
