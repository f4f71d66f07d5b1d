package output

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

var t0 = time.Date(2018, 9, 9, 10, 2, 37, 0, time.UTC)

// rec returns a verbatim message of host and app, numbered i.
func rec(host, app string, i int) *floodgate.Record {
	return &floodgate.Record{Message: floodgate.Message{
		Time: t0.Add(time.Duration(i) * time.Millisecond), Host: host, App: app, ProcID: "12436",
		Facility: 3, Severity: floodgate.Info, Syntax: floodgate.SyntaxTraditional,
		Text: "syscall.Syscall6(0x101, 0xffffffffffffff9c, 0xc457325700, 0x800c2) #" + itoa(i),
	}}
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// fixture is a verbatim message of every input format and a summary of
// every kind, over two sources.
func fixture() []*floodgate.Record {
	sum := func(host, app string, k floodgate.Kind, fp string, n int64, text string, fields ...floodgate.Field) *floodgate.Record {
		r := rec(host, app, 0)
		r.Time, r.Text = t0.Add(30*time.Second), text
		r.Summary = &floodgate.Summary{Kind: k, FP: fp, Count: n, First: t0, Last: t0.Add(30 * time.Second), Fields: fields}
		return r
	}
	rfc := rec("web-1", "nginx", 1)
	rfc.Syntax, rfc.MsgID, rfc.StructuredData = floodgate.SyntaxRFC5424, "ACCESS", `[meta@32473 status="500"]`
	unparsed := &floodgate.Record{Message: floodgate.Message{Time: t0, Host: "-", App: "-", Text: "not syslog at all", Facility: 1, Severity: floodgate.Notice}}
	internal := &floodgate.Record{Message: floodgate.Message{Time: t0, Host: "relay-1", App: "floodgate", Text: "disk low", Facility: 5, Severity: floodgate.Warning, Syntax: floodgate.Internal}}
	return []*floodgate.Record{
		rec("ip-10-18-39-127", "dockerd", 0),
		rfc,
		unparsed,
		internal,
		sum("ip-10-18-39-127", "dockerd", floodgate.Repeat, "9c41e0a7", 2646, "repeated 2646 times"),
		sum("ip-10-18-39-127", "dockerd", floodgate.Block, "0b1c2d3e", 40, "goroutine stack repeated 40 times", floodgate.Field{Key: "lines", Value: int64(31)}),
		sum("web-1", "systemd", floodgate.Cycle, "77aa01bc", 12, "unit foo.service restarted 12 times",
			floodgate.Field{Key: "unit", Value: "foo.service"}, floodgate.Field{Key: "states", Value: map[string]int64{"failed": 12, "activating": 12}}),
		sum("web-1", "nginx", floodgate.Suppressed, "budget", 1200, "1200 messages dropped by the budget",
			floodgate.Field{Key: "reason", Value: "budget"}, floodgate.Field{Key: "bytes", Value: int64(181234)}),
	}
}

// fileConfig is a file output under dir with the defaults.
func fileConfig(dir, path, format string) Options {
	o := DefaultOptions()
	o.Type, o.Path, o.Format = "file", filepath.Join(dir, path), format
	return o
}

// newTestFile starts a file output and closes it at the end of the test.
func newTestFile(t *testing.T, cfg Options) (*Dest, *Stats) {
	t.Helper()
	stats := new(Stats)
	f, err := New(cfg, nil, stats)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f, stats
}

// tree returns every regular file under dir with its contents (gunzipped
// for .gz), as "== path\ncontents" in path order.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			names = append(names, path)
		}
		return nil
	})
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		rel, _ := filepath.Rel(dir, n)
		b.WriteString("== " + filepath.ToSlash(rel) + "\n")
		b.Write(readFile(t, n))
	}
	return b.String()
}

// readFile reads a file, gunzipping a .gz.
func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return b
}

// account reads JSON lines and returns, per "host/app", the verbatim
// records plus the counts of summaries, and the number of suppressed
// summaries with fp write-error. Every line must be valid JSON.
func account(t *testing.T, r io.Reader) (map[string]int64, int) {
	t.Helper()
	got := map[string]int64{}
	lostSummaries := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v struct {
			Host, App string
			Summary   *struct {
				Kind  string
				FP    string
				Count int64
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("invalid JSON line %q: %v", sc.Text(), err)
		}
		k := v.Host + "/" + v.App
		if v.Summary == nil {
			got[k]++
			continue
		}
		got[k] += v.Summary.Count
		if v.Summary.FP == lostFP && v.Summary.Kind == "suppressed" {
			lostSummaries++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return got, lostSummaries
}

// accountDir is account over every file under dir.
func accountDir(t *testing.T, dir string) (map[string]int64, int) {
	t.Helper()
	var all bytes.Buffer
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			all.Write(readFile(t, path))
		}
		return nil
	})
	return account(t, &all)
}

// newTestWriter is NewWriter with a smaller max_buffer.
func newTestWriter(w io.Writer, format string, maxBuffer int, stats *Stats) *Dest {
	o := NewWriter(w, format, stats)
	o.maxBuffer = maxBuffer
	return o
}

// inside reports whether path lies under base.
func inside(base, path string) bool {
	rel, err := filepath.Rel(base, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}
