package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/floodgate/floodgate/bench/gen"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Endpoint
		stream  bool
		wantErr bool
	}{
		{"tcp", "tcp://127.0.0.1:5514", Endpoint{"tcp", "127.0.0.1:5514"}, true, false},
		{"udp", "udp://[::1]:514", Endpoint{"udp", "[::1]:514"}, false, false},
		{"unix", "unix:///run/fg.sock", Endpoint{"unix", "/run/fg.sock"}, true, false},
		{"unixgram", "unixgram:///dev/log", Endpoint{"unixgram", "/dev/log"}, false, false},
		{"no scheme", "127.0.0.1:5514", Endpoint{}, false, true},
		{"no port", "tcp://127.0.0.1", Endpoint{}, false, true},
		{"unknown network", "sctp://h:1", Endpoint{}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEndpoint(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseEndpoint(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if got != tc.want || got.Stream() != tc.stream || got.String() != tc.in {
				t.Errorf("ParseEndpoint(%q) = %+v (stream %v, %q)", tc.in, got, got.Stream(), got.String())
			}
		})
	}
}

func readAll(t *testing.T, src Source) []string {
	t.Helper()
	var out []string
	for {
		b, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, string(b))
	}
}

func TestCaptureReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"traditional gets a PRI", "Sep  9 10:02:37 h dockerd[1]: #011at x\n", []string{"<30>Sep  9 10:02:37 h dockerd[1]: #011at x"}},
		{"PRI lines kept", "<13>Sep  9 10:02:37 h a: x\n<14>1 2018-09-09T10:02:37Z h a - - - y\n", []string{"<13>Sep  9 10:02:37 h a: x", "<14>1 2018-09-09T10:02:37Z h a - - - y"}},
		{"octet frames", "11 <13>1 - - a19 <13>1 - - - - - b\nc", []string{"<13>1 - - a", "<13>1 - - - - - b\nc"}},
		{"mixed, blank lines and CRLF", "\n\nSep  9 10:02:37 h a: x\r\n12 <13>1 - - ab\n<13>z", []string{"<30>Sep  9 10:02:37 h a: x", "<13>1 - - ab", "<13>z"}},
		{"no final newline", "<13>last", []string{"<13>last"}},
		{"a line starting with digits is a line", "2026-11-27T10:00:00+00:00 h a: x\n", []string{"<30>2026-11-27T10:00:00+00:00 h a: x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, NewCaptureReader(strings.NewReader(tc.in), 30))
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCaptureReaderReadsEveryFormat renders one flood in every format
// and checks that the reader gives the same number of messages back.
func TestCaptureReaderReadsEveryFormat(t *testing.T) {
	for _, f := range []gen.Format{gen.Traditional, gen.RFC3164, gen.RFC5424, gen.OctetCounted} {
		t.Run(f.String(), func(t *testing.T) {
			var b bytes.Buffer
			if _, _, err := gen.Write(&b, gen.NewMix(3, 2000), f); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, NewCaptureReader(&b, 30))
			if len(got) != 2000 {
				t.Fatalf("read %d messages, want 2000", len(got))
			}
			for i, m := range got {
				if !strings.HasPrefix(m, "<") {
					t.Fatalf("message %d has no PRI: %q", i, m)
				}
			}
		})
	}
}

func TestHostApp(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"rfc3164", "<30>Sep  9 10:02:37 host dockerd[12436]: goroutine 1 [x]:", "host dockerd"},
		{"rfc3164 two-digit day", "<30>Sep 19 10:02:37 host app: x", "host app"},
		{"rfc5424", "<30>1 2018-09-09T10:02:37Z host app 12 - - text", "host app"},
		{"rfc3339 in 3164", "<30>2026-11-27T10:00:00+00:00 host app[1]: x", "host app"},
		{"garbage keys consistently", "<13>z", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(strings.Fields(string(hostApp([]byte(tc.in)))), " "); got != tc.want {
				t.Errorf("hostApp(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSummaryCount(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		count int64
		ok    bool
	}{
		{"plain line", "Sep  9 10:02:37 h a[1]: hello 42 times", 0, false},
		{"floodgate traditional", "Sep  9 10:02:37 h dockerd[1]: [floodgate kind=block fp=9c41e0a7 count=2646 first=2018-09-09T10:02:37Z last=2018-09-09T10:03:07Z] 2646 goroutines", 2646, true},
		{"floodgate rfc5424", `<30>1 2018-09-09T10:03:07Z h a - - [floodgate@32473 kind="repeat" fp="9c41" count="17" first="x" last="y"] folded`, 17, true},
		{"floodgate json", `{"time":"t","host":"h","app":"a","procid":"","facility":"daemon","severity":"info","msg":"m","summary":{"kind":"cycle","fp":"f","count":90,"first":"a","last":"b"}}`, 90, true},
		{"json verbatim", `{"time":"t","host":"h","app":"a","msg":"the word \"summary\" inside"}`, 0, false},
		{"rsyslog", "Sep  9 10:02:37 h systemd[1]: message repeated 5 times: [ Started Session.]", 5, true},
		{"rsyslog legacy", "Sep  9 10:02:37 h rsyslogd: last message repeated 12 times", 12, true},
		{"syslog-ng", "Sep  9 10:02:37 h syslog-ng[9]: Last message 'goroutine 1 [runnable]:' repeated 3 times, suppressed by syslog-ng on h", 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := summaryCount([]byte(tc.line))
			if n != tc.count || ok != tc.ok {
				t.Errorf("summaryCount = %d, %v; want %d, %v", n, ok, tc.count, tc.ok)
			}
		})
	}
}

func TestCount(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("h/a.log", "Sep  9 10:02:37 h a: one\nSep  9 10:02:37 h a: [floodgate kind=repeat fp=1 count=10 first=x last=y] ten\n")
	write("h/b.log", "Sep  9 10:02:37 h b: message repeated 4 times: [ x]\nno newline at the end")
	a, err := Count(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Accounting{Files: 2, Lines: 4, Verbatim: 2, Summaries: 2, Summarized: 14}
	want.Bytes = a.Bytes
	if a != want || a.Accounted() != 16 {
		t.Errorf("Count = %+v (accounted %d), want %+v (16)", a, a.Accounted(), want)
	}
}

// startSink runs a Sink on e writing to a file in dir until the test ends.
// startSink serves a sink writing dir/sink.log; stop ends it, flushed,
// and the test's cleanup stops it too.
func startSink(t *testing.T, e Endpoint, dir string) (s *Sink, _ Endpoint, stop func()) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "sink.log"))
	if err != nil {
		t.Fatal(err)
	}
	s, err = ListenSink(e, f)
	if err != nil {
		t.Fatal(err)
	}
	if e.Network == "tcp" || e.Network == "udp" {
		e.Address = s.Addr().String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Serve(ctx); err != nil {
			t.Errorf("Serve: %v", err)
		}
		f.Close()
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return s, e, stop
}

// waitFor polls cond, for what arrives asynchronously; it fails after a
// generous bound instead of asserting a speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestSendToSink sends a flood over every kind of endpoint and framing
// and checks that every message arrives intact and in order per source.
func TestSendToSink(t *testing.T) {
	tests := []struct {
		name    string
		network string
		framing Framing
		conns   int
		rate    float64
	}{
		{"tcp octet", "tcp", Octet, 1, 0},
		{"tcp lf, three connections", "tcp", LF, 3, 0},
		{"unix octet", "unix", Octet, 2, 0},
		{"unixgram", "unixgram", Octet, 1, 0},
		{"udp paced", "udp", Octet, 1, 20000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			e := Endpoint{tc.network, "127.0.0.1:0"}
			if tc.network == "unix" || tc.network == "unixgram" {
				e.Address = filepath.Join(dir, "s.sock")
			}
			s, e, stopSink := startSink(t, e, dir)
			const n = 3000
			want := readAll(t, NewGenSource(gen.NewMix(1, n), gen.RFC5424))
			res, err := Send(context.Background(), NewGenSource(gen.NewMix(1, n), gen.RFC5424),
				SendConfig{To: e, Framing: tc.framing, Conns: tc.conns, Rate: tc.rate}, nil)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.Msgs != n {
				t.Fatalf("sent %d, want %d", res.Msgs, n)
			}
			if tc.network == "udp" {
				waitFor(t, "some datagrams", func() bool { return s.Received() > 0 })
				return // UDP may drop: the harness measures that, the test cannot expect none
			}
			waitFor(t, "every message", func() bool { return s.Received() == n })
			stopSink() // Serve returns once it has flushed the file
			got := sinkLines(t, filepath.Join(dir, "sink.log"))
			if len(got) != n {
				t.Fatalf("sink wrote %d lines, want %d", len(got), n)
			}
			// Per source, order is kept; across sources, connections interleave.
			bySource := func(ms []string) map[string][]string {
				out := map[string][]string{}
				for _, m := range ms {
					k := string(hostApp([]byte(m)))
					out[k] = append(out[k], m)
				}
				return out
			}
			w, g := bySource(want), bySource(got)
			for k, ms := range w {
				if strings.Join(ms, "\n") != strings.Join(g[k], "\n") {
					t.Errorf("source %q: messages differ or are out of order", k)
				}
			}
		})
	}
}

func sinkLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestRunAgainstSink runs the whole harness against an in-process sink
// (no command: the target is already running) and checks the report's
// accounting: a sink writes every message, so nothing is lost.
func TestRunAgainstSink(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	s, e, _ := startSink(t, Endpoint{"tcp", "127.0.0.1:0"}, out)
	jsonPath, svgPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.svg")
	stdout, _, err := runMain(t, "run", "-to", e.String(), "-out", out, "-kind", "incident", "-n", "20000",
		"-goroutines", "300", "-settle", "300ms", "-probe", "1ms", "-interval", "20ms", "-json", jsonPath, "-svg", svgPath, "-name", "sink")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stdout)
	}
	var r Report
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Sent != s.Received() || r.Sent < 20000 {
		t.Errorf("sent %d, sink received %d", r.Sent, s.Received())
	}
	if r.Lost != 0 || r.Accounted != r.Sent || r.Output.Verbatim != r.Sent {
		t.Errorf("accounting %+v: want every sent message written", r.Output)
	}
	if r.Latency.Sent == 0 || r.Latency.Seen == 0 {
		t.Errorf("latency %+v: want probes sent and seen", r.Latency)
	}
	if !strings.Contains(stdout, "lost 0 (0.000%)") {
		t.Errorf("table does not say nothing was lost:\n%s", stdout)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(any)); err != nil {
		t.Errorf("SVG is not well-formed XML: %v", err)
	}
	if strings.Count(string(svg), "<polyline") != 2 {
		t.Errorf("SVG wants two lines, in and written")
	}

	// The table command reads the report back.
	tableOut, _, err := runMain(t, "table", "-md", filepath.Join(dir, "B.md"), jsonPath)
	if err != nil || !strings.Contains(tableOut, "| sink |") {
		t.Errorf("table: %v\n%s", err, tableOut)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no -out", []string{"run", "-n", "10"}},
		{"pid and command", []string{"run", "-out", "x", "-pid", "1", "--", "true"}},
		{"bad endpoint", []string{"run", "-out", "x", "-to", "tcp:/x"}},
		{"bad framing", []string{"send", "-framing", "xml", "-n", "1"}},
		{"no conns", []string{"send", "-conns", "0", "-n", "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := runMain(t, tc.args...); err == nil {
				t.Errorf("Main(%q) succeeded, want an error", tc.args)
			}
		})
	}
}

func TestProbes(t *testing.T) {
	p := NewProbes()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var lines []byte
	for i := range 3 {
		lines = append(p.next(lines, t0.Add(time.Duration(i)*time.Second)), '\n')
	}
	p.find(lines, t0.Add(10*time.Second))
	p.find(lines, t0.Add(20*time.Second)) // seen twice counts once
	if last, ok := p.LastSeen(); !ok || !last.Equal(t0.Add(10*time.Second)) {
		t.Errorf("LastSeen = %v, %v; want the first time the last probe was found", last, ok)
	}
	l := p.Latency()
	if l.Sent != 3 || l.Seen != 3 || l.Max != 10_000 || l.P50 != 9_000 {
		t.Errorf("Latency = %+v", l)
	}
	words := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		w := line[strings.Index(line, probeMarker)+len(probeMarker):]
		if strings.ContainsAny(w, "0123456789abcdef") || words[w] {
			t.Errorf("probe word %q is not a fresh letters-only word", w)
		}
		words[w] = true
		if sent, ok := DecodeProbe(w); !ok || !sent.Equal(t0.Add(time.Duration(i)*time.Second)) {
			t.Errorf("probe %q decodes to %v, %v; want its send time", w, sent, ok)
		}
	}
	// Probes sent in the same microsecond are still different words.
	a, b := p.next(nil, t0), p.next(nil, t0)
	if string(a) == string(b) {
		t.Errorf("two probes at one instant: %q", a)
	}
	if _, ok := DecodeProbe("not a probe"); ok {
		t.Errorf("DecodeProbe accepted a sentence")
	}
}

func TestReadProcSelf(t *testing.T) {
	st, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.PeakRSS <= 0 {
		t.Errorf("peak RSS %d, want > 0", st.PeakRSS)
	}
}

func TestWriteSVGScale(t *testing.T) {
	tests := []struct {
		name    string
		out     int64 // bytes written per second, with 100 MB/s in
		wantLog bool
	}{
		{"a plain daemon writes what comes in", 90e6, false},
		{"a deduplicator writes a thousandth", 100e3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var samples []Sample
			for i := range 20 {
				samples = append(samples, Sample{T: float64(i), In: int64(i) * 100e6, Out: int64(i) * tc.out})
			}
			var b strings.Builder
			if err := WriteSVG(&b, "t", samples); err != nil {
				t.Fatal(err)
			}
			if err := xml.Unmarshal([]byte(b.String()), new(any)); err != nil {
				t.Fatalf("not well-formed: %v", err)
			}
			if got := strings.Contains(b.String(), "(log scale)"); got != tc.wantLog {
				t.Errorf("log scale %v, want %v", got, tc.wantLog)
			}
		})
	}
}

// floodgate's own records stand for no message: counting a flood_start
// line as verbatim made a live run account one message more than sent.
func TestOwnRecordsAreNoMessages(t *testing.T) {
	for _, tc := range []struct {
		line string
		own  bool
	}{
		{"Dec  8 01:00:00 node-1 floodgate: flood from chat on node-1: 9.0 MiB/s for 3s\n", true},
		{"Dec  8 01:00:00 node-1 floodgate[42]: disk free space under min_free\n", true},
		{"<44>1 2026-12-08T01:00:00Z node-1 floodgate - - - flood from chat\n", true},
		{`{"time":"2026-12-08T01:00:00Z","host":"node-1","app":"floodgate","event":"flood_start","msg":"x"}` + "\n", true},
		{"Dec  8 01:00:00 node-1 chat[7]: floodgate: is a word here\n", false},
		{"<13>1 2026-12-08T01:00:00Z node-1 chat 7 - - floodgate\n", false},
		{`{"time":"2026-12-08T01:00:00Z","host":"node-1","app":"chat","msg":"\"event\": x"}` + "\n", false},
	} {
		if got := ownRecord([]byte(tc.line)); got != tc.own {
			t.Errorf("ownRecord(%q) = %v, want %v", tc.line, got, tc.own)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.log"), []byte(
		"Dec  8 01:00:00 node-1 chat[7]: hello\n"+
			"Dec  8 01:00:00 node-1 floodgate: flood from chat on node-1\n"), 0o644)
	a, err := Count(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Accounted() != 1 || a.Own != 1 {
		t.Errorf("accounted %d, own %d; want 1, 1", a.Accounted(), a.Own)
	}
}
