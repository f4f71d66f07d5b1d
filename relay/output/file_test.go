package output

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/golden"

	"github.com/floodgate/floodgate"
)

func TestFileGolden(t *testing.T) {
	for _, format := range []string{"traditional", "rfc5424", "json"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			f, stats := newTestFile(t, fileConfig(dir, "out/{host}/{app}-{facility}-{severity}-{date}.log", format))
			for _, r := range fixture() {
				if err := f.Write(r); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			if err := f.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			golden.Check(t, filepath.Join("testdata", "file-"+format, "want.golden"), []byte(tree(t, dir)))
			if got := stats.Records.Load(); got != int64(len(fixture())) {
				t.Errorf("Stats.Records = %d, want %d", got, len(fixture()))
			}
		})
	}
}

func TestFileModes(t *testing.T) {
	dir := t.TempDir()
	f, _ := newTestFile(t, fileConfig(dir, "{host}/{app}.log", "json"))
	f.Write(rec("h", "a", 0))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]fs.FileMode{"h": fs.ModeDir | 0o755, "h/a.log": 0o640} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, st.Mode(), want)
		}
	}
}

// TestFileAppends checks that a new output appends to existing files.
func TestFileAppends(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "{host}.log", "traditional")
	for i := range 2 {
		f, _ := newTestFile(t, cfg)
		f.Write(rec("h", "a", i))
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := bytes.Count(readFile(t, filepath.Join(dir, "h.log")), newline); got != 2 {
		t.Errorf("%d lines, want 2", got)
	}
}

// TestPathSanitize checks that no host or app, however hostile, names a
// file outside the base directory or a directory of its own.
func TestPathSanitize(t *testing.T) {
	tests := []struct {
		name      string
		host, app string
		want      string // below the base directory
	}{
		{name: "plain", host: "web-1", app: "nginx", want: "web-1/nginx.log"},
		{name: "climbs", host: "../../etc", app: "passwd", want: ".._.._etc/passwd.log"},
		{name: "slashes", host: "a/b/c", app: "/abs", want: "a_b_c/_abs.log"},
		{name: "dot", host: ".", app: "a", want: "_/a.log"},
		{name: "dot dot", host: "..", app: "..", want: "_/_.log"},
		{name: "empty", host: "", app: "e", want: "_/e.log"},
		{name: "nul", host: "a\x00b", app: "x", want: "a_b/x.log"},
		{name: "control", host: "a\nb\tc\x7f", app: "x", want: "a_b_c_/x.log"},
		{name: "backslash kept", host: `a\b`, app: "x", want: `a\b/x.log`},
		{name: "utf-8 kept", host: "hôte", app: "x", want: "hôte/x.log"},
		{name: "long cut", host: strings.Repeat("h", 300), app: "x", want: strings.Repeat("h", maxValue) + "/x.log"},
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	f, _ := newTestFile(t, fileConfig(base, "{host}/{app}.log", "json"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rec(tt.host, tt.app, 0)
			path := string(f.tmpl.append(nil, r))
			if want := filepath.Join(base, tt.want); path != want {
				t.Errorf("path %q, want %q", path, want)
			}
			if !inside(base, filepath.Clean(path)) {
				t.Errorf("path %q is outside %q", path, base)
			}
			if err := f.Write(r); err != nil {
				t.Fatalf("Write: %v", err)
			}
		})
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// Every file was written, and only under base.
	n := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
			if !inside(base, path) {
				t.Errorf("%s written outside %s", path, base)
			}
		}
		return nil
	})
	if n != len(tests) {
		t.Errorf("%d files, want %d", n, len(tests))
	}
}

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		base, rest string
		wantErr    bool
	}{
		{name: "default", path: "floodgate-logs/{host}/{app}.log", base: "floodgate-logs", rest: "{host}/{app}.log"},
		{name: "prefix in name", path: "/var/log/app-{host}.log", base: "/var/log", rest: "app-{host}.log"},
		{name: "no directory", path: "{host}.log", base: ".", rest: "{host}.log"},
		{name: "root", path: "/{host}.log", base: "/", rest: "{host}.log"},
		{name: "no placeholder", path: "out/all.log", base: "out", rest: "all.log"},
		{name: "unknown placeholder", path: "out/{pid}.log", wantErr: true},
		{name: "unclosed", path: "out/{host.log", wantErr: true},
		{name: "directory", path: "out/{host}/", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := parseTemplate(tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (tm.base != tt.base || tm.rest != tt.rest) {
				t.Errorf("base %q rest %q, want %q %q", tm.base, tm.rest, tt.base, tt.rest)
			}
		})
	}
}

func TestRotatedPattern(t *testing.T) {
	tm, _ := parseTemplate("out/{host}/{app}.log")
	re := tm.rotated()
	tests := []struct {
		name string
		rel  string
		want bool
	}{
		{name: "current", rel: "h/a.log", want: false},
		{name: "numbered", rel: "h/a.log.1", want: true},
		{name: "gzipped", rel: "h/a.log.12.gz", want: true},
		{name: "set aside", rel: "h/a.log.rotating-7", want: true},
		{name: "partial gzip", rel: "h/a.log.1.gz.tmp", want: true},
		{name: "other file", rel: "h/notes.txt.1", want: false},
		{name: "too deep", rel: "h/x/a.log.1", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := re.MatchString(tt.rel); got != tt.want {
				t.Errorf("%q: %v, want %v", tt.rel, got, tt.want)
			}
		})
	}
}

// TestLRU checks that at most max_open_files handles are open, that closing
// one writes its buffer out first, and that nothing is lost on the way.
func TestLRU(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "{host}.log", "json")
	cfg.MaxOpenFiles = 2
	f, stats := newTestFile(t, cfg)
	const hosts, per = 7, 50
	for i := range per {
		for h := range hosts {
			f.Write(rec("h"+itoa(h), "a", i))
		}
		if i%10 == 9 {
			if err := f.Flush(); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			n := f.open.Len()
			f.mu.Unlock()
			if n > cfg.MaxOpenFiles {
				t.Fatalf("%d handles open, max_open_files %d", n, cfg.MaxOpenFiles)
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if stats.FilesOpened.Load() <= hosts {
		t.Errorf("opened %d files for %d hosts with 2 handles: the LRU did not close any", stats.FilesOpened.Load(), hosts)
	}
	got, _ := accountDir(t, dir)
	for h := range hosts {
		if n := got["h"+itoa(h)+"/a"]; n != per {
			t.Errorf("h%d: %d records, want %d", h, n, per)
		}
	}
}

// TestConcurrentWrites writes from several goroutines, as shards do.
func TestConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "{host}/{app}.log", "json")
	cfg.MaxOpenFiles = 3
	cfg.MaxSize = 16 << 10
	cfg.MaxFiles = 1000
	f, _ := newTestFile(t, cfg)
	const workers, per = 4, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				if err := f.Write(rec("h"+itoa(w), "a"+itoa(i%3), i)); err != nil {
					t.Errorf("Write: %v", err)
					return
				}
				if i%500 == 0 {
					f.Flush()
				}
			}
		})
	}
	wg.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := accountDir(t, dir)
	var total int64
	for _, n := range got {
		total += n
	}
	if total != workers*per {
		t.Errorf("%d records written, want %d", total, workers*per)
	}
}

// TestDirRemoved checks that a directory removed under the output is
// recreated, and the records written after it are not lost into the
// removed file.
func TestDirRemoved(t *testing.T) {
	dir := t.TempDir()
	f, stats := newTestFile(t, fileConfig(dir, "{host}/{app}.log", "json"))
	f.Write(rec("h", "a", 0))
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "h")); err != nil {
		t.Fatal(err)
	}
	f.Write(rec("h", "a", 1))
	if err := f.Flush(); err != nil {
		t.Fatalf("Flush after removal: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := accountDir(t, dir)
	if got["h/a"] != 1 {
		t.Errorf("%d records in the recreated file, want 1", got["h/a"])
	}
	if stats.FilesOpened.Load() != 2 {
		t.Errorf("FilesOpened = %d, want 2", stats.FilesOpened.Load())
	}
}

// TestOpenError checks that a path that cannot be created counts errors,
// keeps the data, and writes it once the obstacle is gone.
func TestOpenError(t *testing.T) {
	dir := t.TempDir()
	f, stats := newTestFile(t, fileConfig(dir, "{host}/{app}.log", "json"))
	// A regular file where the host's directory should be.
	block := filepath.Join(dir, "h")
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := f.Write(rec("h", "a", i)); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := f.Flush(); err == nil {
		t.Fatal("Flush succeeded with a file in the way")
	}
	if stats.WriteErrors.Load() == 0 {
		t.Error("no write errors counted")
	}
	os.Remove(block)
	// Creating files backs off after a failure: a later Flush writes.
	for deadline := time.Now().Add(10 * time.Second); ; {
		err := f.Flush()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Flush after the obstacle went: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, _ := accountDir(t, dir)
	if got["h/a"] != 10 {
		t.Errorf("%d records, want 10", got["h/a"])
	}
}

func TestWriteAfterClose(t *testing.T) {
	f, _ := newTestFile(t, fileConfig(t.TempDir(), "{host}.log", "json"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(rec("h", "a", 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := f.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		cfg     Options
		want    string
		wantErr bool
	}{
		{name: "file", cfg: fileConfig(dir, "a/{host}.log", "json"), want: "*output.Dest"},
		{name: "stdout", cfg: Options{Type: "stdout", Format: "rfc5424"}, want: "*output.Dest"},
		{name: "bad type", cfg: Options{Type: "kafka"}, wantErr: true},
		{name: "bad format", cfg: fileConfig(dir, "{host}.log", "xml"), wantErr: true},
		{name: "base not creatable", cfg: fileConfig("/proc/none", "{host}.log", ""), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := New(tt.cfg, nil, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New: %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer o.Close()
			if got := fmt.Sprintf("%T", o); got != tt.want {
				t.Errorf("New returned %s, want %s", got, tt.want)
			}
		})
	}
}

// Ensure the summaries the output writes itself have the contract's shape.
func TestLossSummaryShape(t *testing.T) {
	l := NewLosses(lostFP, lostReason, "write")
	a := rec("h", "a", 1)
	a.Severity = floodgate.Err
	s := rec("h", "a", 2)
	s.Summary = &floodgate.Summary{Kind: floodgate.Repeat, Count: 40, First: t0.Add(-60e9), Last: t0.Add(60e9)}
	l.AddRecord(a, 100)
	l.AddRecord(s, 50)
	l.AddRecord(rec("g", "a", 3), 10)
	if l.Total() != 42 {
		t.Errorf("Total %d, want 42", l.Total())
	}
	recs := l.Take()
	if len(recs) != 2 || l.Len() != 0 {
		t.Fatalf("Take returned %d records and left %d", len(recs), l.Len())
	}
	r := recs[1] // h/a after g/a
	sum := r.Summary
	if r.Host != "h" || sum.Kind != floodgate.Suppressed || sum.Count != 41 || sum.FP != lostFP ||
		!sum.First.Equal(t0.Add(-60e9)) || !sum.Last.Equal(t0.Add(60e9)) || r.Severity != floodgate.Err {
		t.Errorf("summary %+v of %+v", *sum, r.Message)
	}
	if sum.Fields[0].Value != lostReason || sum.Fields[1].Value != int64(150) {
		t.Errorf("fields %+v", sum.Fields)
	}
}

// FuzzPath checks that any host and app give a path below the base
// directory, with each value one path element.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"", ".", "..", "../..", "a/b", "\x00", "/", "x\n", strings.Repeat("/..", 100)} {
		f.Add(s, s)
	}
	tm, err := parseTemplate("/base/{host}/{app}.log")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, app string) {
		r := rec(host, app, 0)
		path := string(tm.append(nil, r))
		if !inside("/base", filepath.Clean(path)) {
			t.Fatalf("%q/%q: %q is outside /base", host, app, path)
		}
		if rel, _ := filepath.Rel("/base", filepath.Clean(path)); strings.Count(rel, "/") != 1 {
			t.Fatalf("%q/%q: %q is not host/app", host, app, rel)
		}
		if strings.ContainsAny(path, "\x00\n") {
			t.Fatalf("%q/%q: control characters in %q", host, app, path)
		}
	})
}
