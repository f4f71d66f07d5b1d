package output

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// TestMaxTotalCheapHosts checks that max_total counts the bytes really on
// disk: one message from each of 300 new host names must not delete a
// real source's rotated history while the directory holds far less than
// max_total (each current file used to count as max_size).
func TestMaxTotalCheapHosts(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "{host}/{app}.log", "json")
	cfg.MaxSize, cfg.MaxFiles, cfg.MaxTotal = 256<<10, 10, 64<<20
	f, stats := newTestFile(t, cfg)
	rotations := func(n int64) int {
		i := 0
		for stats.FilesRotated.Load() < n {
			f.Write(rec("legit", "app", i))
			if i++; i%100 == 0 {
				f.Flush()
			}
		}
		return i
	}
	sent := rotations(5)
	for i := range 300 {
		f.Write(rec("cheap-"+itoa(i), "app", i))
	}
	f.Flush()
	// One more rotation of the real source: it prunes under max_total.
	for stats.FilesRotated.Load() < 6 {
		f.Write(rec("legit", "app", sent))
		if sent++; sent%100 == 0 {
			f.Flush()
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := accountDir(t, dir)
	if got["legit/app"] != int64(sent) {
		t.Errorf("legit/app: %d lines on disk, want all %d (%d files removed)", got["legit/app"], sent, stats.FilesRemoved.Load())
	}
	if n := stats.FilesRemoved.Load(); n != 0 {
		t.Errorf("%d rotated files removed with %d bytes on disk, max_total %d", n, du(t, dir), cfg.MaxTotal)
	}
}

// du returns the bytes of the regular files under dir.
func du(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			info, _ := d.Info()
			total += info.Size()
		}
		return nil
	})
	return total
}

// TestMaxTotalOldestFirst checks that over max_total the oldest rotated
// files go first, by age across every source, and current files never.
func TestMaxTotalOldestFirst(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "{host}/{app}.log", "json")
	cfg.MaxSize, cfg.MaxFiles, cfg.MaxTotal = 2<<10, 100, 16<<10
	f, stats := newTestFile(t, cfg)
	seq := 0
	// Sources take turns, two rotations each, so that their rotated files
	// interleave in age.
	for turn := range 6 {
		host := "h" + itoa(turn%3)
		want := stats.FilesRotated.Load() + 2
		for stats.FilesRotated.Load() < want {
			f.Write(rec(host, "a", seq))
			seq++
			f.Flush()
			if total := du(t, dir); total > int64(cfg.MaxTotal) {
				t.Fatalf("%d bytes on disk after line %d, max_total %d: it must hold at every moment", total, seq, cfg.MaxTotal)
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if total := du(t, dir); total > int64(cfg.MaxTotal) {
		t.Errorf("%d bytes on disk, max_total %d", total, cfg.MaxTotal)
	}
	// A rotated file is as old as its last line, written just before it
	// was rotated. Every removed file was rotated before every rotated
	// file kept: each missing line is older than the last line of the
	// oldest rotated file kept.
	present := map[int]bool{}
	oldestKept := seq
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		newest := -1
		for _, line := range strings.Split(strings.TrimSpace(string(readFile(t, path))), "\n") {
			i := strings.LastIndexByte(line, '#')
			if i < 0 {
				continue
			}
			n, _ := strconv.Atoi(strings.TrimRight(line[i+1:], `"}`))
			present[n] = true
			newest = max(newest, n)
		}
		if !strings.HasSuffix(path, ".log") && newest >= 0 {
			oldestKept = min(oldestKept, newest)
		}
		return nil
	})
	missing := 0
	for i := range seq {
		if !present[i] {
			missing++
			if i > oldestKept {
				t.Errorf("line %d removed, but a rotated file whose last line is %d kept", i, oldestKept)
				break
			}
		}
	}
	if missing == 0 || stats.FilesRemoved.Load() == 0 {
		t.Errorf("nothing removed (%d lines written, %d bytes on disk)", seq, du(t, dir))
	}
	for h := range 3 {
		if _, err := os.Stat(filepath.Join(dir, "h"+itoa(h), "a.log")); err != nil {
			t.Errorf("current file removed: %v", err)
		}
	}
}

// TestMaxFilesTotal checks the cap on current files: past it messages of
// new sources go to the overflow file, a warning of floodgate's own says
// so, and a file idle for file_idle frees its place.
func TestMaxFilesTotal(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "{host}/{app}.log", "json")
	cfg.MaxFilesTotal, cfg.FileIdle, cfg.Host = 3, time.Hour, "relay-1"
	f, stats := newTestFile(t, cfg)
	now := time.Now().Add(time.Minute)
	f.mu.Lock()
	f.clock = func() time.Time { return now }
	f.mu.Unlock()
	for i := range 5 {
		f.Write(rec("h"+itoa(i), "a", i))
		f.Write(rec("h"+itoa(i), "a", i))
	}
	f.Flush()
	now = now.Add(30 * time.Minute)
	f.Flush()
	f.Write(rec("h1", "a", 5)) // h1 is written again
	now = now.Add(40 * time.Minute)
	f.Flush()                  // h0 and h2 have gone idle, h1 not
	f.Write(rec("h5", "a", 6)) // takes h0's place, the oldest idle
	f.Write(rec("h6", "a", 7)) // and h2's
	f.Write(rec("h7", "a", 8)) // h1 is not idle: overflow
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	lines := func(name string) []string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	for _, h := range []string{"h0", "h1", "h2", "h5", "h6"} {
		if lines(h+"/a.log") == nil {
			t.Errorf("%s has no file of its own", h)
		}
	}
	for _, h := range []string{"h3", "h4", "h7"} {
		if lines(h+"/a.log") != nil {
			t.Errorf("%s has a file of its own past max_files_total", h)
		}
	}
	ov := lines("_overflow/_overflow.log")
	if len(ov) != 5 {
		t.Errorf("overflow file: %d lines, want 5 (h3, h4 twice, h7):\n%s", len(ov), strings.Join(ov, "\n"))
	}
	if got := stats.Overflow.Load(); got != 5 {
		t.Errorf("Stats.Overflow = %d, want 5", got)
	}
	got, _ := accountDir(t, dir)
	for h, n := range map[string]int64{"h0": 2, "h1": 3, "h2": 2, "h3": 2, "h4": 2, "h5": 1, "h6": 1, "h7": 1} {
		if got[h+"/a"] != n {
			t.Errorf("%s: %d messages in the files, want %d", h, got[h+"/a"], n)
		}
	}
	warn := lines("relay-1/floodgate.log")
	if len(warn) != 2 { // once at first, again after the hour
		t.Fatalf("own records: %q, want two overflow warnings", warn)
	}
	if !strings.Contains(warn[0], `"event":"overflow"`) || !strings.Contains(warn[0], `"app":"floodgate"`) {
		t.Errorf("warning %s: want app floodgate, event overflow", warn[0])
	}
	if got["relay-1/floodgate"] != 2 {
		t.Errorf("warnings counted %d", got["relay-1/floodgate"])
	}
}

// TestDeletedUnderFlood removes the output directory while records are
// written: what went to the removed files is written again to new ones,
// so every record written after the removal is on disk, and the
// rewrites are counted.
func TestDeletedUnderFlood(t *testing.T) {
	dir := t.TempDir()
	cfg := fileConfig(dir, "out/{host}/{app}.log", "json")
	f, stats := newTestFile(t, cfg)
	for i := range 1000 {
		f.Write(rec("h"+itoa(i%4), "a", i))
	}
	f.Flush()
	if err := os.RemoveAll(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	// Each file's buffer passes flushSize and is written out before any
	// Flush looks at the path.
	sent := map[string]int64{}
	for i := range 4000 {
		h := "h" + itoa(i%4)
		f.Write(rec(h, "a", i))
		sent[h+"/a"]++
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := accountDir(t, filepath.Join(dir, "out"))
	for k, n := range sent {
		if got[k] != n {
			t.Errorf("%s: %d of the %d records written after the removal are on disk", k, got[k], n)
		}
	}
	if stats.FilesDeleted.Load() == 0 || stats.Rewritten.Load() == 0 {
		t.Errorf("FilesDeleted %d, Rewritten %d: want the writes to removed files counted", stats.FilesDeleted.Load(), stats.Rewritten.Load())
	}
}

// tinyTmpfs mounts a tmpfs of 64 MiB and 20,000 inodes, or skips.
func tinyTmpfs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m,nr_inodes=20000", "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestManyHostsFewInodes writes one message from each of 200,000 host
// names to a tmpfs with 20,000 inodes: new sources go to the overflow
// file past max_files_total or when no inode is left, the accounting is
// exact, and Close is quick however full the filesystem.
func TestManyHostsFewInodes(t *testing.T) {
	t.Run("inode reserve", testManyHostsFewInodes)
	// Without the reserve the last creates fail with ENOSPC: what their
	// files held goes to the overflow file.
	t.Run("ENOSPC", func(t *testing.T) {
		defer func(n int64) { inodeReserve = n }(inodeReserve)
		inodeReserve = 0
		testManyHostsFewInodes(t)
	})
}

func testManyHostsFewInodes(t *testing.T) {
	dir := tinyTmpfs(t)
	cfg := fileConfig(dir, "{host}/{app}.log", "traditional")
	cfg.Host = "relay-1"
	f, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const hosts = 200000
	for i := range hosts {
		r := &floodgate.Record{Message: floodgate.Message{
			Time: t0, Host: "h" + itoa(i), App: "a", Facility: 3, Severity: floodgate.Info,
			Syntax: floodgate.SyntaxTraditional, Text: "m",
		}}
		if err := f.Write(r); err != nil && !errors.Is(err, ErrDropped) {
			t.Fatalf("Write: %v", err)
		}
		if i%2000 == 0 {
			f.Flush() // the relay's flush interval
		}
	}
	start := time.Now()
	err = f.Close()
	took := time.Since(start)
	if err != nil {
		t.Errorf("Close: %v", err)
	}
	const drainTimeout = 5 * time.Second
	if took > drainTimeout {
		t.Errorf("Close took %s, longer than the drain timeout %s", took, drainTimeout)
	}
	got := accountTraditional(t, dir)
	bad := 0
	for i := range hosts {
		if n := got["h"+itoa(i)+"/a"]; n != 1 && bad < 5 {
			bad++
			t.Errorf("h%d/a: %d in the files, want 1", i, n)
		}
	}
	st := f.stats
	if st.Overflow.Load() == 0 {
		t.Error("nothing went to the overflow file")
	}
	if got["relay-1/floodgate"] == 0 {
		t.Error("no overflow warning written")
	}
	t.Logf("%d sent to overflow, %d write errors, %d files opened, Close took %s",
		st.Overflow.Load(), st.WriteErrors.Load(), st.FilesOpened.Load(), took)
}

// accountTraditional returns, per "host/app", the verbatim lines plus the
// counts of summaries in the traditional files under dir.
func accountTraditional(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		sc := bufio.NewScanner(bytes.NewReader(readFile(t, path)))
		for sc.Scan() {
			// "Sep  9 10:02:37 host app: text"
			fs := strings.Fields(sc.Text())
			if len(fs) < 5 {
				t.Fatalf("%s: short line %q", path, sc.Text())
			}
			app, _, _ := strings.Cut(strings.TrimSuffix(fs[4], ":"), "[")
			k := fs[3] + "/" + app
			n := int64(1)
			if len(fs) > 5 && fs[5] == "[floodgate" {
				for _, kv := range fs[6:] {
					if c, ok := strings.CutPrefix(kv, "count="); ok {
						n, _ = strconv.ParseInt(c, 10, 64)
					}
				}
			}
			got[k] += n
		}
		return nil
	})
	return got
}
