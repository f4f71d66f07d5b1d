package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiffShowsTheFirstDifferingLines(t *testing.T) {
	got := Diff([]byte("a\nb\nc\n"), []byte("a\nB\nc\nd\n"))
	for _, want := range []string{"line 2:", "got:  b", "want: B", "line 4:", "got 4 lines, want 5"} {
		if !strings.Contains(got, want) {
			t.Errorf("Diff misses %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "line 1:") || strings.Contains(got, "line 3:") {
		t.Errorf("Diff shows equal lines:\n%s", got)
	}
	if d := Diff([]byte("same\n"), []byte("same\n")); d != "" {
		t.Errorf("Diff of equal input = %q", d)
	}
}

func TestCheckAcceptsTheSameBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "case", "want.golden")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Check(t, path, []byte("one\ntwo\n"))
}
