package dedupe

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGolden replays each testdata/<case>/input.log through an engine with
// default options and compares the records with want.golden.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/input.log")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases under testdata/")
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			msgs := readLog(t, in)
			c := &collector{}
			replay(New(DefaultOptions(), c), msgs)
			checkInvariants(t, msgs, c.recs)
			got := render(c.recs)
			want := filepath.Join(dir, "want.golden")
			if *update {
				if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(b) != got {
				t.Errorf("records differ from %s (go test -update rewrites it); got:\n%s", want, got)
			}
		})
	}
}
