package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/floodgate/floodgate/bench/gen"
)

// TestReplayLabels replays floods with -labels and checks the labels file
// against the output and against what the generator says each message is:
// one line per message, in order; as many v lines as verbatim records; per
// fingerprint, as many c lines as its summaries count; and no summary
// stands for lines of two near-miss templates (Failed and Accepted).
func TestReplayLabels(t *testing.T) {
	for _, kind := range []string{"nearmiss", "sshd", "incident"} {
		t.Run(kind, func(t *testing.T) {
			g, err := gen.New(kind, 11, 8000)
			if err != nil {
				t.Fatal(err)
			}
			var capture bytes.Buffer
			if _, _, err := gen.Write(&capture, g, gen.Traditional); err != nil {
				t.Fatal(err)
			}
			g, _ = gen.New(kind, 11, 8000)
			truth := truthsOf(g)
			in := writeFile(t, "capture.log", capture.String())
			labels := filepath.Join(t.TempDir(), "labels.tsv")
			cfg := writeFile(t, "floodgate.toml", "[[output]]\ntype = \"stdout\"\nformat = \"json\"\n\n[metrics]\naddress = \"\"\n\n[ratelimit]\nenabled = false\n")
			stdout, stderr, code := runCLI(t, "", "replay", "-config", cfg, "-o", "-", "-labels", labels, in)
			if code != 0 {
				t.Fatalf("replay: exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "top patterns by messages") || !strings.Contains(stderr, "top patterns by bytes") {
				t.Errorf("the report lists no top patterns:\n%s", stderr)
			}
			verbatim, counts := 0, map[string]int64{}
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				var r record
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatal(err)
				}
				if r.Summary == nil {
					verbatim++
				} else {
					counts[r.Summary.FP] += r.Summary.Count
				}
			}
			f, err := os.Open(labels)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			n, v := 0, 0
			near := map[string]map[string]bool{} // fp of a counted near miss -> its templates
			for sc.Scan() {
				n++
				fields := strings.Split(sc.Text(), "\t")
				if len(fields) != 3 || fields[0] != strconv.Itoa(n) {
					t.Fatalf("label line %d: %q", n, sc.Text())
				}
				switch fields[2] {
				case "v":
					v++
				case "c":
					counts[fields[1]]--
					if tr := truth[n-1]; tr.NearMiss != "" {
						if near[fields[1]] == nil {
							near[fields[1]] = map[string]bool{}
						}
						near[fields[1]][tr.Template] = true
					}
				default:
					t.Fatalf("label line %d: %q", n, sc.Text())
				}
			}
			if n != len(truth) {
				t.Errorf("%d label lines for %d messages", n, len(truth))
			}
			if v != verbatim {
				t.Errorf("%d messages labelled v, %d verbatim records", v, verbatim)
			}
			for fp, d := range counts {
				if d != 0 {
					t.Errorf("fp %s: summaries count %d more than the c labels", fp, d)
				}
			}
			for fp, tmpls := range near {
				for a := range tmpls {
					for b := range tmpls {
						if a < b && gen.NearMissPair(a, b) {
							t.Errorf("near misses %q and %q counted under one summary %s", a, b, fp)
						}
					}
				}
			}
		})
	}
}
