package dedupe

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
)

// TestUniqueLinesRSS runs ten million unique lines (bench/gen's chat: free
// text of 3 to 24 words, no template, every line written) through an
// engine with the default limits, in a process of its own, and requires
// its peak resident set to stay under 100 MiB and to grow by less than 16
// MiB after the first million: flat once the tables are full. With -short
// or the race detector it runs a million and only logs the figures.
func TestUniqueLinesRSS(t *testing.T) {
	if os.Getenv("DEDUPE_RSS_CHILD") != "" {
		rssChild(t)
		return
	}
	n := 10_000_000
	if testing.Short() || raceEnabled {
		n = 1_000_000
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUniqueLinesRSS$", "-test.v")
	cmd.Env = append(os.Environ(), "DEDUPE_RSS_CHILD="+strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var warm, peak, written int64
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.Index(l, "rss:"); i >= 0 {
			fmt.Sscanf(l[i:], "rss: warm=%d peak=%d written=%d", &warm, &peak, &written)
		}
	}
	if peak == 0 {
		t.Fatalf("child said no figures:\n%s", out)
	}
	t.Logf("%d unique lines: peak RSS %.1f MiB (%.1f MiB after the first million), %d written", n, float64(peak)/(1<<20), float64(warm)/(1<<20), written)
	if written != int64(n) {
		t.Errorf("%d of %d unique lines written, want every one", written, n)
	}
	if n < 10_000_000 {
		return
	}
	if peak > 100<<20 {
		t.Errorf("peak RSS %.1f MiB on %d unique lines, want under 100 MiB", float64(peak)/(1<<20), n)
	}
	if peak-warm > 16<<20 {
		t.Errorf("peak RSS grew %.1f MiB after the first million lines, want it flat", float64(peak-warm)/(1<<20))
	}
}

func rssChild(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DEDUPE_RSS_CHILD"))
	g, err := gen.New("chat", 1, n)
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{}
	e := New(DefaultOptions(), s)
	var r floodgate.Record
	var now, ticked time.Time
	var warm int64
	for i := 0; g.Next(&r.Message); i++ {
		r.Summary = nil
		if r.Time.After(now) {
			now = r.Time
		}
		if now.Sub(ticked) >= time.Second {
			e.Tick(now, false)
			ticked = now
		}
		e.Handle(now, &r)
		if i == 1_000_000 {
			warm = peakRSS(t)
		}
	}
	e.Tick(now, true)
	fmt.Printf("rss: warm=%d peak=%d written=%d\n", warm, peakRSS(t), s.verbatim)
}

// peakRSS returns the process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
