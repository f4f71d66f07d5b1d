package output

import (
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/floodgate/floodgate"
)

// mountTmpfs mounts a tmpfs of size on a new directory and unmounts it at
// the end of the test (after outputs created later are closed).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("a full disk needs a small tmpfs, and mounting one is not permitted here (tests run as root where it is): mount: %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file of n bytes, or as much as fits.
func fill(t *testing.T, name string, n int) {
	t.Helper()
	err := os.WriteFile(name, make([]byte, n), 0o600)
	if err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
}

// TestDiskFull fills a real filesystem past both watermarks while writing.
// The output must keep running, report the level, count what it could not
// write, and once space returns write it all, with suppressed summaries
// standing for what it dropped, so that for every source written plus
// counted equals sent.
func TestDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, "2m")
	cfg := fileConfig(mnt, "logs/{host}/{app}.log", "json")
	cfg.MinFree = Space{Bytes: 1 << 20}
	cfg.HardMinFree = Space{Percent: 25} // 512KiB of 2MiB
	cfg.MaxBuffer = 128 << 10
	cfg.MaxSize = 0
	f, stats := newTestFile(t, cfg)

	level := func(want floodgate.DiskLevel) {
		t.Helper()
		f.checkDisk()
		if got := f.DiskLevel(); got != want {
			t.Errorf("DiskLevel = %v, want %v", got, want)
		}
		if got := stats.DiskLevel(); got != want {
			t.Errorf("Stats.DiskLevel = %v, want %v", got, want)
		}
	}
	level(floodgate.DiskOK)

	filler := filepath.Join(mnt, "filler")
	fill(t, filler, 1200<<10)
	level(floodgate.DiskLow)

	sent := map[string]int64{}
	write := func(i int) error {
		host := []string{"a", "b", "c"}[i%3]
		sent[host+"/app"]++
		return f.Write(rec(host, "app", i))
	}
	// Write until the disk is full, then as much again as the buffer
	// holds and more.
	i, dropped := 0, 0
	for ; stats.WriteErrors.Load() == 0; i++ {
		if i > 1e6 {
			t.Fatal("a 2MiB filesystem never filled")
		}
		if err := write(i); err != nil {
			t.Fatalf("Write before the disk filled: %v", err)
		}
		if i%100 == 0 {
			f.Flush()
		}
	}
	if got := f.DiskLevel(); got != floodgate.DiskFull {
		t.Errorf("DiskLevel after ENOSPC = %v, want full at once", got)
	}
	for end := i + 2000; i < end; i++ {
		switch err := write(i); {
		case errors.Is(err, ErrDropped):
			dropped++
		case err != nil:
			t.Fatalf("Write on a full disk: %v", err)
		}
		if i%100 == 0 {
			if err := f.Flush(); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Flush on a full disk = %v, want ENOSPC", err)
			}
		}
	}
	level(floodgate.DiskFull)
	if dropped == 0 || stats.Lost.Load() != int64(dropped) {
		t.Errorf("%d records dropped, Stats.Lost %d: want them equal and not 0", dropped, stats.Lost.Load())
	}
	t.Logf("disk full after %d records; %d dropped, %d write errors", i-2000, dropped, stats.WriteErrors.Load())

	// Space returns.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// Close alone must do: it flushes, summaries included.
	if err := f.Close(); err != nil {
		t.Fatalf("Close after space returned: %v", err)
	}
	level(floodgate.DiskOK)

	got, summaries := accountDir(t, filepath.Join(mnt, "logs"))
	for k, n := range sent {
		if got[k] != n {
			t.Errorf("%s: written + counted = %d, sent %d", k, got[k], n)
		}
	}
	if summaries != 3 || stats.Summaries.Load() != 3 {
		t.Errorf("%d write-error summaries in the files, Stats.Summaries %d; want one per source, 3", summaries, stats.Summaries.Load())
	}
}

// TestDiskWatermarks checks the level computed from free space.
func TestDiskWatermarks(t *testing.T) {
	tests := []struct {
		name        string
		free, total uint64 // blocks of 1KiB
		inodes      uint64
		freeInodes  uint64
		min, hard   Space
		want        floodgate.DiskLevel
	}{
		{name: "ok", free: 500, total: 1000, min: Space{Percent: 5}, hard: Space{Percent: 1}, want: floodgate.DiskOK},
		{name: "low by percent", free: 40, total: 1000, min: Space{Percent: 5}, hard: Space{Percent: 1}, want: floodgate.DiskLow},
		{name: "full by percent", free: 9, total: 1000, min: Space{Percent: 5}, hard: Space{Percent: 1}, want: floodgate.DiskFull},
		{name: "low by bytes", free: 100, total: 1000, min: Space{Bytes: 200 << 10}, hard: Space{Bytes: 50 << 10}, want: floodgate.DiskLow},
		{name: "full by bytes", free: 10, total: 1000, min: Space{Bytes: 200 << 10}, hard: Space{Bytes: 50 << 10}, want: floodgate.DiskFull},
		{name: "no inodes left", free: 500, total: 1000, inodes: 100, freeInodes: 0, min: Space{Percent: 5}, hard: Space{Percent: 1}, want: floodgate.DiskFull},
		{name: "at the mark is ok", free: 50, total: 1000, min: Space{Percent: 5}, hard: Space{Percent: 1}, want: floodgate.DiskOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Dest{opts: Options{MinFree: tt.min, HardMinFree: tt.hard}}
			st := syscall.Statfs_t{Bsize: 1024, Blocks: tt.total, Bavail: tt.free, Bfree: tt.free, Files: tt.inodes, Ffree: tt.freeInodes}
			if got := f.levelOf(&st); got != tt.want {
				t.Errorf("level %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDiskFullCompress fills the filesystem while rotated files are being
// compressed: a gzip that cannot be written leaves the rotated file
// uncompressed rather than losing it, and the current file keeps going.
func TestDiskFullCompress(t *testing.T) {
	mnt := mountTmpfs(t, "1m")
	cfg := fileConfig(mnt, "{host}.log", "traditional")
	cfg.MaxSize, cfg.MaxFiles, cfg.Compress = 256<<10, 10, true
	cfg.MaxBuffer = 64 << 10
	f, stats := newTestFile(t, cfg)
	// Random hex compresses to about half, so the .gz files need room too.
	rnd := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 100)
	for i := 0; stats.WriteErrors.Load() == 0; i++ {
		if i > 1e6 {
			t.Fatal("a 1MiB filesystem never filled")
		}
		r := rec("h", "a", i)
		for j := range raw {
			raw[j] = byte(rnd.Uint32())
		}
		r.Text = hex.EncodeToString(raw)
		f.Write(r)
		if i%500 == 0 {
			f.Flush()
			f.rot.wait()
		}
	}
	f.rot.wait()
	ents, err := os.ReadDir(mnt)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("partial file %s left behind", e.Name())
		}
	}
	if !strings.Contains(strings.Join(names, " "), "h.log.1") {
		t.Errorf("files %v: want a rotated h.log.1, compressed or not", names)
	}
	t.Logf("files %v, %d write errors, %d compressed", names, stats.WriteErrors.Load(), stats.FilesCompressed.Load())
	// Space returns: everything buffered is written.
	for _, n := range names {
		if strings.HasPrefix(n, "h.log.") {
			os.Remove(filepath.Join(mnt, n))
		}
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close after space returned: %v", err)
	}
}

// TestDiskFullRandom runs random writes, summaries and flushes on a real
// filesystem that fills up and frees again at random, and checks for
// every source that written + counted = sent.
func TestDiskFullRandom(t *testing.T) {
	mnt := mountTmpfs(t, "8m")
	for _, seed := range []uint64{1, 2, 3} {
		t.Run("seed "+itoa(int(seed)), func(t *testing.T) {
			dir := filepath.Join(mnt, itoa(int(seed)))
			cfg := fileConfig(dir, "{host}/{app}.log", "json")
			cfg.MaxSize, cfg.MaxBuffer, cfg.MaxOpenFiles = 0, 64<<10, 3
			f, stats := newTestFile(t, cfg)
			rnd := rand.New(rand.NewPCG(seed, 7))
			filler := filepath.Join(mnt, "filler")
			full := false
			sent := map[string]int64{}
			for i := range 6000 {
				switch op := rnd.IntN(1000); {
				case op < 3:
					if full = !full; full {
						var st syscall.Statfs_t
						if err := syscall.Statfs(mnt, &st); err != nil {
							t.Fatal(err)
						}
						fill(t, filler, int(st.Bavail*uint64(st.Bsize))-int(rnd.IntN(32<<10)))
					} else {
						os.Remove(filler)
					}
				case op < 30:
					f.Flush()
				default:
					host := "h" + itoa(rnd.IntN(5))
					r := rec(host, "app", i)
					if rnd.IntN(10) == 0 {
						r.Summary = &floodgate.Summary{Kind: floodgate.Block, FP: "fp", Count: int64(1 + rnd.IntN(50)), First: t0, Last: t0}
					}
					sent[host+"/app"] += r.Messages()
					if err := f.Write(r); err != nil && !errors.Is(err, ErrDropped) {
						t.Fatalf("Write: %v", err)
					}
				}
			}
			os.Remove(filler)
			if err := f.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got, _ := accountDir(t, dir)
			for k, n := range sent {
				if got[k] != n {
					t.Errorf("%s: written + counted = %d, sent %d", k, got[k], n)
				}
			}
			t.Logf("lost %d messages, %d write errors, %d summaries", stats.Lost.Load(), stats.WriteErrors.Load(), stats.Summaries.Load())
			os.RemoveAll(dir) // room for the next seed
		})
	}
}
