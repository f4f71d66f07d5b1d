package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
)

// replayLines are the lines of replay's report that do not depend on how
// fast it ran.
func replayLines(stderr string) []string {
	speed := regexp.MustCompile(`; [0-9.]+s, [0-9]+ msgs/s$`)
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "report: wrote") || l == "" {
			continue
		}
		out = append(out, speed.ReplaceAllString(l, ""))
	}
	return out
}

// TestReportAgreesWithReplay runs `replay` and `report` on one capture
// under one config: report's numbers are replay's, to the message.
func TestReportAgreesWithReplay(t *testing.T) {
	budget := "[ratelimit]\nrate = \"512B\"\nburst = \"1KiB\"\n"
	tests := []struct {
		name, config string
	}{
		{name: "defaults", config: ""},
		{name: "tight budget", config: budget},
		{name: "no dedupe", config: "[dedupe]\nenabled = false\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeFile(t, "floodgate.toml", tt.config+"\n[metrics]\naddress = \"\"\n")
			seed := "../../testdata/seed-flood.log"
			_, replayErr, code := runCLI(t, "", "replay", "-config", cfg, "-o", os.DevNull, seed)
			if code != 0 {
				t.Fatalf("replay: exit %d: %s", code, replayErr)
			}
			out := filepath.Join(t.TempDir(), "report.json")
			_, reportErr, code := runCLI(t, "", "report", "-config", cfg, "-format", "json", "-o", out, seed)
			if code != 0 {
				t.Fatalf("report: exit %d: %s", code, reportErr)
			}
			want, got := replayLines(replayErr), replayLines(reportErr)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("report's summary differs from replay's:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			var v struct {
				Messages, Records, BytesOut int64
				Verbatim                    int64
				Folded                      map[string]int64
				TopByMessages               []struct {
					FP       string
					Messages int64
				} `json:"top_by_messages"`
				Sources []struct{ Messages, Written, Folded, Suppressed int64 }
			}
			readJSON(t, out, &v)
			// replay: 136 messages (0 unparsed), 14.4 KiB in; 34 records out (30 verbatim, ...
			head := regexp.MustCompile(`^replay: (\d+) messages .*; (\d+) records out \((\d+) verbatim`).FindStringSubmatch(want[0])
			if head == nil || head[1] != itoa(v.Messages) || head[2] != itoa(v.Records) || head[3] != itoa(v.Verbatim) {
				t.Errorf("json: %d messages, %d records, %d verbatim; replay said %q", v.Messages, v.Records, v.Verbatim, want[0])
			}
			var sum, written, counted int64
			for _, s := range v.Sources {
				sum += s.Messages
				written += s.Written
				counted += s.Folded + s.Suppressed
			}
			var folded int64
			for _, n := range v.Folded {
				folded += n
			}
			if sum != v.Messages || written != v.Verbatim || counted != folded {
				t.Errorf("sources: %d messages, %d written, %d counted; want %d, %d, %d", sum, written, counted, v.Messages, v.Verbatim, folded)
			}
			if len(v.TopByMessages) == 0 || !strings.Contains(strings.Join(want, "\n"), v.TopByMessages[0].FP) {
				t.Errorf("top pattern %+v is not in replay's report", v.TopByMessages)
			}
		})
	}
}

func TestReportCommandLine(t *testing.T) {
	seed := "../../testdata/seed-flood.log"
	data, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string // in stdout, or stderr on failure
	}{
		{name: "text to stdout", args: []string{"-format", "text", "-q", seed}, want: "1. dockerd on ip-10-18-39-127: goroutine"},
		{name: "json to stdout", args: []string{"-format", "json", "-q", seed}, want: `"findings"`},
		{name: "stdin", stdin: string(data), args: []string{"-format", "text", "-q", "-"}, want: "2. restart loop: protokube.service"},
		{name: "html to stdout", args: []string{"-o", "-", "-q", seed}, want: "<!DOCTYPE html>"},
		{name: "unknown format", args: []string{"-format", "pdf", seed}, code: 2, want: `unknown -format "pdf"`},
		{name: "no capture", args: []string{"-format", "text"}, code: 2, want: "report needs a capture FILE"},
		{name: "missing capture", args: []string{"-format", "text", "/nonexistent/capture.log"}, code: 1, want: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tt.stdin, append([]string{"report"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			got := stdout
			if tt.code != 0 {
				got = stderr
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("output lacks %q:\n%.2000s", tt.want, got)
			}
		})
	}
}

func TestReportWritesHTMLFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.html")
	_, stderr, code := runCLI(t, "", "report", "-o", out, "../../testdata/seed-flood.log")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<svg") || !strings.Contains(stderr, "report: wrote "+out) {
		t.Errorf("no chart in %s, or not said: %s", out, stderr)
	}
}

// A report of a million messages of the incident counts every one.
func TestReportOfAMillionMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 120 MB capture")
	}
	c := gen.DefaultIncident()
	c.Messages = 1_000_000
	g := gen.NewIncident(c)
	path := filepath.Join(t.TempDir(), "incident.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var m floodgate.Message
	var line []byte
	for g.Next(&m) {
		line = append(gen.Append(line[:0], &m, gen.Traditional), '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	start := time.Now()
	out := filepath.Join(t.TempDir(), "report.json")
	_, stderr, code := runCLI(t, "", "report", "-q", "-format", "json", "-o", out, path)
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v struct{ Messages int64 }
	readJSON(t, out, &v)
	if v.Messages != 1_000_000 {
		t.Errorf("messages: got %d", v.Messages)
	}
	// How long it takes is a benchmark's figure (BENCHMARKS.md), not an
	// assertion: logged only.
	t.Logf("report of 1M messages: %s", took)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
