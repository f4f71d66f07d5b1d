package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Main(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestMainGen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		lines   int
		wantErr bool
	}{
		{"incident traditional", []string{"gen", "-n", "500", "-o", filepath.Join(dir, "a.log")}, 500, false},
		{"mix rfc5424", []string{"gen", "-kind", "mix", "-n", "300", "-format", "rfc5424", "-o", filepath.Join(dir, "b.log")}, 300, false},
		{"unknown kind", []string{"gen", "-kind", "nope", "-o", filepath.Join(dir, "c.log")}, 0, true},
		{"bad format", []string{"gen", "-format", "xml"}, 0, true},
		{"bad count", []string{"gen", "-n", "0"}, 0, true},
		{"unknown command", []string{"frobnicate"}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runMain(t, tc.args...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Main(%q) error %v, want error %v", tc.args, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			data, err := os.ReadFile(tc.args[len(tc.args)-1])
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(string(data), "\n"); got != tc.lines {
				t.Errorf("%d lines, want %d", got, tc.lines)
			}
		})
	}
}

func TestMainHelp(t *testing.T) {
	_, stderr, err := runMain(t, "gen", "-h")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("gen -h: error %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr, "-goroutines") {
		t.Errorf("gen -h does not list -goroutines:\n%s", stderr)
	}
}
