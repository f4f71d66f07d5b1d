// Package golden compares test output with files under testdata/, the way
// go/printer's tests do: `go test -update` rewrites the files from what
// the code produces now, and a review of the diff says whether that is
// right. Every package's golden tests use it, so the flag and the report
// of a difference are the same everywhere.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// Updating reports whether the test run rewrites golden files.
func Updating() bool { return *update }

// Check compares got with the golden file at path. With -update it first
// writes got there (creating directories). A difference is reported with
// the first lines that differ, not both files whole.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, Diff(got, want))
	}
}

// Diff describes the first lines (up to five) where got and want differ.
func Diff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	var b bytes.Buffer
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 5; i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if bytes.Equal(gl, wl) {
			continue
		}
		shown++
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(":\n  got:  ")
		b.Write(gl)
		b.WriteString("\n  want: ")
		b.Write(wl)
		b.WriteByte('\n')
	}
	if len(g) != len(w) {
		b.WriteString("got " + strconv.Itoa(len(g)) + " lines, want " + strconv.Itoa(len(w)) + "\n")
	}
	return b.String()
}
