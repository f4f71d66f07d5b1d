package output

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestRotation checks rotation by size and count: every file but the
// newest rotated ones stays within max_size, the oldest go, the numbering
// runs newest to oldest, and lines are never split across files.
func TestRotation(t *testing.T) {
	tests := []struct {
		name     string
		compress bool
		maxFiles int
	}{
		{name: "plain", maxFiles: 3},
		{name: "gzip", compress: true, maxFiles: 3},
		{name: "keep none", maxFiles: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := fileConfig(dir, "{host}/{app}.log", "traditional")
			cfg.MaxSize, cfg.MaxFiles, cfg.Compress = 1<<10, tt.maxFiles, tt.compress
			f, stats := newTestFile(t, cfg)
			const n = 100 // about 120 bytes each: 12 files' worth
			for i := range n {
				f.Write(rec("h", "app", i))
				if i%7 == 0 {
					if err := f.Flush(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			ext := ""
			if tt.compress {
				ext = ".gz"
			}
			want := []string{"app.log"}
			for i := 1; i <= tt.maxFiles; i++ {
				want = append(want, "app.log."+itoa(i)+ext)
			}
			if got := names(t, filepath.Join(dir, "h")); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("files %v, want %v", got, want)
			}
			// Newest first: app.log holds the last record, and each older
			// file ends where the next begins.
			next := n
			for _, name := range want {
				b := readFile(t, filepath.Join(dir, "h", name))
				if !tt.compress || name == "app.log" {
					if st, _ := os.Stat(filepath.Join(dir, "h", name)); st.Size() > int64(cfg.MaxSize) {
						t.Errorf("%s: %d bytes, max_size %d", name, st.Size(), cfg.MaxSize)
					}
				}
				lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				last := lines[len(lines)-1]
				if !strings.HasSuffix(last, " #"+itoa(next-1)) {
					t.Errorf("%s ends with %q, want record %d", name, last, next-1)
				}
				for _, l := range lines {
					if !strings.HasPrefix(l, "Sep  9 ") {
						t.Errorf("%s: broken line %q", name, l)
					}
				}
				next -= len(lines)
			}
			if stats.FilesRotated.Load() < int64(tt.maxFiles) {
				t.Errorf("FilesRotated = %d", stats.FilesRotated.Load())
			}
			if stats.FilesRemoved.Load() == 0 {
				t.Error("FilesRemoved = 0: the oldest were not removed")
			}
			if tt.compress && stats.FilesCompressed.Load() == 0 {
				t.Error("FilesCompressed = 0")
			}
		})
	}
}

// names lists the regular files in dir, current file first, then by number.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) < len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// TestLongLine checks that a line longer than max_size is written whole,
// alone in its file.
func TestLongLine(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "{host}.log", "traditional")
	cfg.MaxSize, cfg.MaxFiles = 256, 5
	f, _ := newTestFile(t, cfg)
	f.Write(rec("h", "a", 1))
	long := rec("h", "a", 2)
	long.Text = strings.Repeat("x", 1000)
	f.Write(long)
	f.Write(rec("h", "a", 3))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"h.log.2": 1, "h.log.1": 1, "h.log": 1} {
		if got := bytes.Count(readFile(t, filepath.Join(dir, name)), newline); got != want {
			t.Errorf("%s: %d lines, want %d", name, got, want)
		}
	}
	if b := readFile(t, filepath.Join(dir, "h.log.1")); !bytes.Contains(b, []byte(long.Text)) {
		t.Errorf("h.log.1 does not hold the long line: %q", b)
	}
}

// TestMaxTotal checks that the output directory is held to max_total by
// removing the oldest rotated files, never a current one, and never a file
// that is not the output's own.
func TestMaxTotal(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "out/{host}/{app}.log", "json")
	cfg.MaxSize, cfg.MaxFiles, cfg.MaxTotal = 2<<10, 100, 16<<10
	// Not ours, though it looks rotated: must survive.
	foreign := filepath.Join(dir, "out", "notes.txt.1")
	if err := os.MkdirAll(filepath.Dir(foreign), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(foreign, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, stats := newTestFile(t, cfg)
	for i := range 600 {
		f.Write(rec("h"+itoa(i%3), "a", i))
		if i%20 == 0 {
			f.Flush()
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var total int64
	current := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			info, _ := d.Info()
			total += info.Size()
			if strings.HasSuffix(path, "/a.log") {
				current++
			}
		}
		return nil
	})
	if total > int64(cfg.MaxTotal) {
		t.Errorf("%d bytes under the output directory, max_total %d", total, cfg.MaxTotal)
	}
	if current != 3 {
		t.Errorf("%d current files, want 3", current)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("a foreign file was removed: %v", err)
	}
	if stats.FilesRemoved.Load() == 0 {
		t.Error("nothing removed")
	}
}

// TestRotationExternal checks that a file renamed away by someone else
// (logrotate) is noticed and a new one created.
func TestRotationExternal(t *testing.T) {
	dir := t.TempDir()
	f, _ := newTestFile(t, fileConfig(dir, "{host}.log", "json"))
	f.Write(rec("h", "a", 0))
	f.Flush()
	if err := os.Rename(filepath.Join(dir, "h.log"), filepath.Join(dir, "h.log.old")); err != nil {
		t.Fatal(err)
	}
	f.Write(rec("h", "a", 1))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"h.log", "h.log.old"} {
		if got := bytes.Count(readFile(t, filepath.Join(dir, name)), newline); got != 1 {
			t.Errorf("%s: %d lines, want 1", name, got)
		}
	}
}

// TestRotatorWait checks the rotator's queue drains without Close.
func TestRotatorWait(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "{host}.log", "json")
	cfg.MaxSize, cfg.MaxFiles = 512, 2
	f, _ := newTestFile(t, cfg)
	for i := range 20 {
		f.Write(rec("h", "a", i))
	}
	f.Flush()
	done := make(chan struct{})
	go func() { f.rot.wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("rotator did not drain its queue")
	}
	if got := names(t, dir); len(got) != 3 {
		t.Errorf("files %v, want h.log h.log.1 h.log.2", got)
	}
}
