package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/relay"
)

const seed = "../../testdata/seed-flood.log"

// incident writes n messages of the generated incident to a file.
func incident(t testing.TB, n int) string {
	t.Helper()
	c := gen.DefaultIncident()
	c.Messages = n
	g := gen.NewIncident(c)
	path := filepath.Join(t.TempDir(), "incident.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var m floodgate.Message
	var line []byte
	for g.Next(&m) {
		line = append(gen.Append(line[:0], &m, gen.Traditional), '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func view(t testing.TB, path string) *View {
	t.Helper()
	rep, err := relay.Replay(context.Background(), config.Default(), relay.ReplayOptions{
		Files: []string{path}, Output: "-", Stdout: io.Discard, Detail: true,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return Build(rep, []string{filepath.Base(path)})
}

// The incident's two causes come first: the dockerd goroutine dump, then
// protokube's restart loop.
func TestFindingsPutTheIncidentFirst(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
	}{
		{name: "seed", path: func(*testing.T) string { return seed }},
		{name: "generated incident", path: func(t *testing.T) string { return incident(t, 200_000) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := view(t, tt.path(t))
			if len(v.Findings) < 2 {
				t.Fatalf("findings: %+v", v.Findings)
			}
			f0, f1 := v.Findings[0], v.Findings[1]
			if !strings.HasPrefix(f0.Title, "dockerd on ") || !strings.Contains(f0.Title, "goroutine") || !strings.Contains(f0.Detail, "multi-line block") {
				t.Errorf("first finding: got %+v, want dockerd's goroutine dump", f0)
			}
			if f1.Unit != "protokube.service" || !strings.HasPrefix(f1.Title, "restart loop: protokube.service") {
				t.Errorf("second finding: got %+v, want protokube's restart loop", f1)
			}
			if tt.name == "generated incident" && (len(v.Floods) != 1 || v.Floods[0].App != "dockerd") {
				t.Errorf("floods: got %+v, want dockerd's", v.Floods)
			}
			var text bytes.Buffer
			if err := v.Text(&text); err != nil {
				t.Fatal(err)
			}
			out := text.String()
			first := strings.Index(out, "1. dockerd on ")
			second := strings.Index(out, "2. restart loop: protokube.service")
			if first < 0 || second < first || strings.Index(out, "top patterns") < second {
				t.Errorf("text does not open with the two findings:\n%s", out[:min(len(out), 1200)])
			}
		})
	}
}

// JSON and text carry the numbers the View has.
func TestFormatsCarryTheSameNumbers(t *testing.T) {
	v := view(t, seed)
	var buf bytes.Buffer
	if err := v.JSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got View
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Messages != v.Messages || got.BytesIn != v.BytesIn || got.Records != v.Records || got.BytesOut != v.BytesOut ||
		len(got.Sources) != len(v.Sources) || len(got.TopByBytes) != len(v.TopByBytes) || got.Findings[0] != v.Findings[0] ||
		got.Loops[0].Restarts != v.Loops[0].Restarts || !got.First.Equal(v.First) {
		t.Errorf("JSON round trip lost numbers:\ngot  %+v\nwant %+v", got, v)
	}
	var text, page bytes.Buffer
	if err := v.Text(&text); err != nil {
		t.Fatal(err)
	}
	if err := v.HTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, s := range v.Sources {
		row := regexp.MustCompile(regexp.QuoteMeta(s.App) + `\s+` + itoa(s.Messages) + `\s`)
		if !row.MatchString(text.String()) {
			t.Errorf("text has no row for %s with %d messages", s.App, s.Messages)
		}
		if !strings.Contains(page.String(), "<td>"+s.App+"</td><td class=\"n\">"+itoa(s.Messages)+"</td>") {
			t.Errorf("html has no row for %s with %d messages", s.App, s.Messages)
		}
	}
	for _, want := range []string{itoa(v.Messages), itoa(v.Records)} {
		if !strings.Contains(text.String(), want) || !strings.Contains(page.String(), want) {
			t.Errorf("%s missing from text or html", want)
		}
	}
}

// The page works offline: no script, nothing fetched.
func TestHTMLIsSelfContained(t *testing.T) {
	var page bytes.Buffer
	if err := view(t, seed).HTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "src=", "http://", "https://", "@import", "url("} {
		if strings.Contains(page.String(), bad) {
			t.Errorf("page holds %q", bad)
		}
	}
	for _, want := range []string{"<svg", "<polygon", `id="findings"`, `id="sources"`, "goroutine 2648 [runnable]:"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	tests := []struct {
		name          string
		in, base, out float64
	}{
		{name: "zero", in: 0, base: 10, out: 1},
		{name: "one", in: 1, base: 10, out: 1},
		{name: "to two", in: 1.1, base: 10, out: 2},
		{name: "to five", in: 3.2e4, base: 10, out: 5e4},
		{name: "to ten", in: 6e5, base: 10, out: 1e6},
		{name: "bytes to 5 MiB", in: 4.4 * 1024 * 1024, base: 1024, out: 5 * 1024 * 1024},
		{name: "bytes to 200 KiB", in: 150 * 1024, base: 1024, out: 200 * 1024},
		{name: "bytes to 1 MiB", in: 600 * 1024, base: 1024, out: 1024 * 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := niceCeil(tt.in, tt.base); got != tt.out {
				t.Errorf("niceCeil(%g, %g) = %g, want %g", tt.in, tt.base, got, tt.out)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
