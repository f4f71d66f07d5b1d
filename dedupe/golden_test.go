package dedupe

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/golden"

	"github.com/floodgate/floodgate"
)

// goldenCase is an input for TestGolden: a captured log under
// testdata/<name>/input.log, or a generated flood.
type goldenCase struct {
	name  string
	input func(t *testing.T) []floodgate.Message
}

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	files, err := filepath.Glob("testdata/*/input.log")
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, f := range files {
		cases = append(cases, goldenCase{filepath.Base(filepath.Dir(f)), func(t *testing.T) []floodgate.Message { return readLog(t, f) }})
	}
	return append(cases,
		goldenCase{"gen-incident", func(*testing.T) []floodgate.Message {
			g := newFloodGen(1, floodStep)
			msgs := make([]floodgate.Message, 30_000)
			for i := range msgs {
				g.Next(&msgs[i])
			}
			return msgs
		}},
		goldenCase{"gen-mixed", mixedTraffic},
	)
}

// mixedTraffic interleaves a Java exception loop, Python tracebacks, a
// restart loop in systemd's new wording, near misses and unique lines.
func mixedTraffic(t *testing.T) []floodgate.Message {
	var lines []string
	for i := range 30 {
		lines = append(lines,
			fmt.Sprintf("web shop[%d]: request %d failed", 100+i%2, i),
			fmt.Sprintf("web shop[%d]: java.lang.IllegalStateException: order %d missing", 100+i%2, i),
			fmt.Sprintf("web shop[%d]: #011at com.shop.Orders.get(Orders.java:42)", 100+i%2),
			fmt.Sprintf("web shop[%d]: #011at com.shop.Api.handle(Api.java:%d)", 100+i%2, 7+i%2),
			"web systemd[1]: shop.service: Main process exited, code=exited, status=1/FAILURE",
			fmt.Sprintf("web systemd[1]: shop.service: Scheduled restart job, restart counter is at %d.", i+1),
			"web systemd[1]: Started Shop.",
			fmt.Sprintf("web sshd[%d]: Failed password for root from 10.0.0.%d port %d ssh2", 2000+i, i, 40000+i),
			fmt.Sprintf("web sshd[%d]: Accepted publickey for core from 10.0.0.%d port %d ssh2", 3000+i, i, 50000+i),
			fmt.Sprintf("web df[9]: /dev/sda1 is %d%% full", 80+i%20),
			fmt.Sprintf("web cron[%d]: job %s started", 400+i, word(i*7919)),
		)
		if i%10 == 0 {
			lines = append(lines,
				"web worker[5]: Traceback (most recent call last):",
				"web worker[5]:   File \"/app/worker.py\", line 88, in run",
				fmt.Sprintf("web worker[5]:     handle(job_%d)", i),
				fmt.Sprintf("web worker[5]: KeyError: 'job_%d'", i),
				"web df[9]: /dev/sda1 is healthy",
			)
		}
	}
	return msgs(t, 700*time.Millisecond, lines...)
}

var cronJob = regexp.MustCompile(`^job [a-z]+ started$`)

// TestGolden runs each case through an engine with default options,
// checks the contract's invariants, and compares the records with
// testdata/<case>/want.golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, gc := range goldenCases(t) {
		t.Run(gc.name, func(t *testing.T) {
			in := gc.input(t)
			c := &collector{}
			replay(New(DefaultOptions(), c), in)
			// The cron lines of gen-mixed name a job at a place where
			// every line has another word: a parameter, as the contract
			// defines exemplars.
			checkInvariantsMasked(t, in, c.recs, func(s string) string {
				return cronJob.ReplaceAllString(contractMask(s), "job <*> started")
			})
			got := render(c.recs)
			golden.Check(t, filepath.Join("testdata", gc.name, "want.golden"), []byte(got))
		})
	}
}
