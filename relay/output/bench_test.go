package output

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/floodgate/floodgate"
)

// BenchmarkFileWrite measures File.Write and the Flushes a relay would
// make, to real files in a temporary directory, in records/s and MB/s.
func BenchmarkFileWrite(b *testing.B) {
	for _, bc := range []struct {
		name     string
		format   string
		sources  int
		parallel bool
	}{
		{name: "json/1-file", format: "json", sources: 1},
		{name: "json/64-files", format: "json", sources: 64},
		{name: "traditional/64-files", format: "traditional", sources: 64},
		{name: "json/64-files/parallel", format: "json", sources: 64, parallel: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := fileConfig(b.TempDir(), "{host}/{app}.log", bc.format)
			cfg.MaxSize = 64 << 20
			f, err := New(cfg, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			recs := make([]*floodgate.Record, bc.sources)
			for i := range recs {
				recs[i] = rec("host-"+itoa(i), "app", i)
			}
			b.ReportAllocs()
			if bc.parallel {
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						f.Write(recs[i%len(recs)])
						i++
					}
				})
			} else {
				i := 0
				for b.Loop() {
					f.Write(recs[i%len(recs)])
					if i++; i%4096 == 0 {
						f.Flush()
					}
				}
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			st := f.stats
			b.ReportMetric(float64(st.Records.Load())/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(st.Bytes.Load())/1e6/b.Elapsed().Seconds(), "MB/s")
		})
	}
}

// BenchmarkWriterWrite measures the stdout-style writer to io.Discard.
func BenchmarkWriterWrite(b *testing.B) {
	stats := new(Stats)
	o := NewWriter(io.Discard, "json", stats)
	r := rec("host", "app", 1)
	b.ReportAllocs()
	for b.Loop() {
		o.Write(r)
	}
	o.Close()
	b.ReportMetric(float64(stats.Records.Load())/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(stats.Bytes.Load())/1e6/b.Elapsed().Seconds(), "MB/s")
}

// BenchmarkRotateManyFiles measures one rotation under max_total with
// 200,000 other files under the output's directory: rotation must not
// cost a walk of the tree.
func BenchmarkRotateManyFiles(b *testing.B) {
	dir := b.TempDir()
	const others = 200000
	for i := range others {
		name := filepath.Join(dir, "old-"+itoa(i)+".log")
		if i%2 == 1 {
			name += ".1"
		}
		if err := os.WriteFile(name, []byte("x\n"), 0o640); err != nil {
			b.Fatal(err)
		}
	}
	cfg := fileConfig(dir, "{host}.log", "json")
	cfg.MaxSize, cfg.MaxFiles, cfg.MaxTotal = 4<<10, 5, 1<<40
	f, err := New(cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := rec("busy", "app", 1)
	b.ResetTimer()
	for b.Loop() {
		before := f.stats.FilesRotated.Load()
		for f.stats.FilesRotated.Load() == before {
			for range 8 {
				f.Write(r)
			}
			f.Flush()
		}
	}
	b.StopTimer()
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
