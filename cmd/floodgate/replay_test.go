package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/golden"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
)

// TestReplayGolden replays captures through the whole command line and
// compares the output with testdata/replay/<case>.<format>.golden.
func TestReplayGolden(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		format string
	}{
		{name: "seed json", input: "../../testdata/seed-flood.log", format: "json"},
		{name: "seed traditional", input: "../../testdata/seed-flood.log", format: "traditional"},
		{name: "seed rfc5424", input: "../../testdata/seed-flood.log", format: "rfc5424"},
		{name: "mixed json", input: "../../testdata/replay/mixed.log", format: "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeFile(t, "floodgate.toml", fmt.Sprintf(
				"[[output]]\ntype = \"stdout\"\nformat = %q\n\n[metrics]\naddress = \"\"\n", tt.format))
			// The capture's mtime is the reference for the year of RFC 3164
			// timestamps: pin it, as a checkout sets it to the clone's time.
			b, err := os.ReadFile(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			in := writeFile(t, filepath.Base(tt.input), string(b))
			captured := time.Date(2018, 9, 12, 0, 0, 0, 0, time.UTC)
			if err := os.Chtimes(in, captured, captured); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := runCLI(t, "", "replay", "-config", cfg, "-o", "-", in)
			if code != 0 {
				t.Fatalf("replay: exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "replay: ") {
				t.Errorf("no report on stderr: %q", stderr)
			}
			base := strings.TrimSuffix(filepath.Base(tt.input), ".log")
			golden.Check(t, filepath.Join("../../testdata/replay", base+"."+tt.format+".golden"), []byte(stdout))
		})
	}
}

// TestReplayKeepsTheContract replays generated floods of every kind and
// checks what docs/output-format.md promises, as the external acceptance tests do:
// nothing is lost per source, and the first occurrence of every distinct
// line (numbers and hex masked) is written verbatim.
func TestReplayKeepsTheContract(t *testing.T) {
	inc := gen.DefaultIncident()
	inc.Messages = 30000
	kind := func(k string, seed int64, n int) func() gen.Generator {
		return func() gen.Generator {
			g, err := gen.New(k, seed, n)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
	}
	tests := []struct {
		name   string
		g      func() gen.Generator
		format gen.Format
		config string
	}{
		{name: "incident", g: func() gen.Generator { return gen.NewIncident(inc) }, format: gen.Traditional},
		{name: "incident rfc5424 with budgets", g: func() gen.Generator { return gen.NewIncident(inc) }, format: gen.RFC5424,
			config: "[ratelimit]\nenabled = true\nrate = \"4KiB\"\nburst = \"16KiB\"\n"},
		{name: "java", g: kind("java", 2, 5000), format: gen.RFC3164},
		{name: "python", g: kind("python", 3, 5000), format: gen.OctetCounted},
		{name: "mix", g: kind("mix", 4, 20000), format: gen.Traditional},
		{name: "unique", g: kind("unique", 5, 5000), format: gen.Traditional},
		{name: "sshd", g: kind("sshd", 6, 10000), format: gen.OctetCounted},
		{name: "nearmiss", g: kind("nearmiss", 7, 10000), format: gen.RFC3164},
		{name: "chat", g: kind("chat", 8, 3000), format: gen.Traditional},
		{name: "kubelet", g: kind("kubelet", 9, 10000), format: gen.RFC5424},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var capture bytes.Buffer
			if _, _, err := gen.Write(&capture, tt.g(), tt.format); err != nil {
				t.Fatal(err)
			}
			truths = truthsOf(tt.g())
			in := writeFile(t, "capture.log", capture.String())
			config := tt.config
			if config == "" {
				config = "[ratelimit]\nenabled = false\n"
			}
			cfg := writeFile(t, "floodgate.toml", "[[output]]\ntype = \"stdout\"\nformat = \"json\"\n\n[metrics]\naddress = \"\"\n\n"+config)
			stdout, stderr, code := runCLI(t, "", "replay", "-config", cfg, "-o", "-", in)
			if code != 0 {
				t.Fatalf("replay: exit %d: %s", code, stderr)
			}
			checkContract(t, capture.Bytes(), tt.format, []byte(stdout), tt.config == "")
		})
	}
}

// contractRE is the public contract check's mask: UUIDs, 0x-hex values,
// bare hex runs of six or more that hold a digit, and runs of digits. It
// knows no parameter words, so it tells first occurrences apart more
// finely than the output format requires.
var contractRE = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}` +
	`|0x[0-9a-fA-F]+|\b[0-9a-fA-F]{6,}\b|\d+`)

// contractMask masks s as the contract check does (its lookahead, a hex
// run that holds a digit, spelled as a filter).
func contractMask(s string) string {
	return contractRE.ReplaceAllStringFunc(s, func(tok string) string {
		if strings.Trim(tok, "abcdefABCDEF") == "" {
			return tok
		}
		return "#"
	})
}

// truths holds, for the capture being checked, what its generator says
// each message is.
var truths []gen.Truth

// truthsOf returns the Truth of each message g makes.
func truthsOf(g gen.Generator) []gen.Truth {
	tr := g.(gen.Truther)
	var out []gen.Truth
	var m floodgate.Message
	for g.Next(&m) {
		out = append(out, tr.Truth())
	}
	return out
}

// checkContract compares a capture with floodgate's JSON output. The
// first occurrence of every pattern must be written verbatim: for a single
// line, a pattern is the template its generator says it came from (its
// parameter words vary within it); for a line of a block, what the public
// contract check sees (numbers, hex values and UUIDs masked).
func checkContract(t *testing.T, capture []byte, f gen.Format, out []byte, exemplars bool) {
	t.Helper()
	type src struct{ host, app string }
	received := map[src]int64{}
	first := map[[3]string]bool{} // host, app, masked text
	var order [][3]string
	n := 0
	// The capture's truth comes from the generator's own rendering, read
	// back with the contract checker's simple view of a line.
	msgs := readCapture(t, capture, f)
	if len(truths) != len(msgs) {
		t.Fatalf("%d messages read back, %d made", len(msgs), len(truths))
	}
	for i, m := range msgs {
		n++
		received[src{m.Host, m.App}]++
		k := [3]string{m.Host, m.App, contractMask(m.Msg)}
		if tr := truths[i]; tr.Block == 0 && tr.Template != "" {
			k[2] = "template " + tr.Template
		} else if tr.Free {
			k[2] = "free " + m.Msg
		}
		if !first[k] {
			first[k] = true
			order = append(order, k)
			if k[2] != contractMask(m.Msg) {
				// The text itself must be written, not only its form.
				order[len(order)-1] = [3]string{m.Host, m.App, "exact " + m.Msg}
			}
		}
	}
	got := map[src]int64{}
	seen := map[[3]string]bool{}
	records := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		records++
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("output is not JSON: %v: %q", err, sc.Text())
		}
		if r.Summary == nil {
			got[src{r.Host, r.App}]++
			seen[[3]string{r.Host, r.App, contractMask(r.Msg)}] = true
			seen[[3]string{r.Host, r.App, "exact " + r.Msg}] = true
			continue
		}
		switch r.Summary.Kind {
		case "repeat", "block", "cycle", "suppressed":
		default:
			t.Errorf("summary kind %q", r.Summary.Kind)
		}
		if r.Summary.FP == "" || r.Summary.First == "" || r.Summary.Last == "" || r.Summary.Count < 1 {
			t.Errorf("summary lacks fields: %s", sc.Text())
		}
		got[src{r.Host, r.App}] += r.Summary.Count
	}
	for s, want := range received {
		if got[s] != want {
			t.Errorf("source %s/%s: received %d, accounted %d", s.host, s.app, want, got[s])
		}
	}
	for s := range got {
		if _, ok := received[s]; !ok {
			t.Errorf("output names a source %s/%s that sent nothing", s.host, s.app)
		}
	}
	if exemplars {
		missing := 0
		for _, k := range order {
			if !seen[k] {
				if missing < 3 {
					t.Errorf("first occurrence not written verbatim: %s/%s %q", k[0], k[1], k[2])
				}
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%d of %d first occurrences not written verbatim", missing, len(order))
		}
	}
	t.Logf("%d messages in, %d records out, %d bytes in, %d bytes out", n, records, len(capture), len(out))
}

type captured struct{ Host, App, Msg string }

var (
	tradLine = regexp.MustCompile(`^(?:<\d{1,3}>)?[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d (\S+) ([^\s\[:]+)(?:\[[^\]]*\])?: ?(.*)$`)
	line5424 = regexp.MustCompile(`^(?:\d+ )?<\d{1,3}>1 \S+ (\S+) (\S+) \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(.*)$`)
)

func readCapture(t *testing.T, capture []byte, f gen.Format) []captured {
	t.Helper()
	var out []captured
	if f == gen.OctetCounted {
		for len(capture) > 0 {
			var n int
			sp := bytes.IndexByte(capture, ' ')
			if _, err := fmt.Sscanf(string(capture[:sp]), "%d", &n); err != nil {
				t.Fatalf("bad octet count in capture: %q", capture[:min(len(capture), 40)])
			}
			frame := capture[sp+1 : sp+1+n]
			capture = capture[sp+1+n:]
			capture = bytes.TrimLeft(capture, "\n")
			out = append(out, parseCaptured(t, string(frame)))
		}
		return out
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(capture), "\n"), "\n") {
		out = append(out, parseCaptured(t, line))
	}
	return out
}

func parseCaptured(t *testing.T, line string) captured {
	t.Helper()
	if m := line5424.FindStringSubmatch(line); m != nil {
		return captured{m[1], m[2], m[3]}
	}
	if m := tradLine.FindStringSubmatch(line); m != nil {
		return captured{m[1], m[2], m[3]}
	}
	t.Fatalf("capture line fits no format: %q", line)
	return captured{}
}

// Replay frames with the configured inputs' max_message_size: a message
// that the live relay would take whole is not cut in a replay.
func TestReplayHonoursMaxMessageSize(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	in := writeFile(t, "big.log", "<13>Nov 27 10:00:00 h app: "+long+"\n")
	tests := []struct {
		name    string
		input   string
		wantLen int
	}{
		{name: "default 64KiB cuts it", input: "", wantLen: 64<<10 - len("<13>Nov 27 10:00:00 h app: ")},
		{name: "256KiB keeps it whole", input: "[[input]]\ntype = \"tcp\"\naddress = \"127.0.0.1:5514\"\nmax_message_size = \"256KiB\"\n", wantLen: len(long)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeFile(t, "floodgate.toml", tt.input+"\n[[output]]\ntype = \"stdout\"\nformat = \"json\"\n\n[metrics]\naddress = \"\"\n")
			stdout, stderr, code := runCLI(t, "", "replay", "-q", "-config", cfg, "-o", "-", in)
			if code != 0 {
				t.Fatalf("replay: exit %d: %s", code, stderr)
			}
			var r record
			if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &r); err != nil {
				t.Fatalf("%v: %.200q", err, stdout)
			}
			if len(r.Msg) != tt.wantLen {
				t.Errorf("msg of %d bytes, want %d", len(r.Msg), tt.wantLen)
			}
		})
	}
}

// replay -o FILE holds the one replay that wrote it, not the ones before,
// and never writes over a capture it reads.
func TestReplayOutputStartsAfresh(t *testing.T) {
	in := writeFile(t, "capture.log", "Sep 11 01:24:50 h app[1]: one line\n")
	out := filepath.Join(t.TempDir(), "out.log")
	for range 2 {
		if _, stderr, code := runCLI(t, "", "replay", "-q", "-o", out, in); code != 0 {
			t.Fatalf("replay: exit %d: %s", code, stderr)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 1 {
		t.Errorf("after two replays -o holds %d lines, want the one of the last:\n%s", n, b)
	}
	if _, stderr, code := runCLI(t, "", "replay", "-q", "-o", in, in); code == 0 || !strings.Contains(stderr, "capture being read") {
		t.Errorf("replay -o onto its own capture: exit %d, %q; want a refusal", code, stderr)
	}
	if b, _ := os.ReadFile(in); !strings.Contains(string(b), "one line") {
		t.Errorf("the capture was written over: %q", b)
	}
	if _, stderr, code := runCLI(t, "", "replay", "-q", "-o", os.DevNull, in); code != 0 {
		t.Errorf("replay -o %s: exit %d: %s", os.DevNull, code, stderr)
	}
}
