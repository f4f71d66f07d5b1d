package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/floodgate/floodgate/bench/gen"
	"github.com/floodgate/floodgate/internal/bytesize"
)

func init() {
	commands["send"] = cmdSend
	commands["run"] = cmdRun
	commands["sink"] = cmdSink
	commands["count"] = cmdCount
	commands["table"] = cmdTable
}

// sendFlags are the flags of send, shared by run.
type sendFlags struct {
	gen     genFlags
	to      string
	framing string
	rate    float64
	conns   int
	pri     int
	wire    string
}

func (s *sendFlags) register(fs *flag.FlagSet) {
	s.gen.register(fs)
	fs.StringVar(&s.to, "to", "tcp://127.0.0.1:5514", "endpoint: udp://HOST:PORT, tcp://HOST:PORT, unix:///PATH, unixgram:///PATH")
	fs.StringVar(&s.framing, "framing", "octet", "stream framing: octet (RFC 6587 octet counting) or lf")
	fs.Float64Var(&s.rate, "rate", 0, "messages per second (0: as fast as the target takes them)")
	fs.IntVar(&s.conns, "conns", 1, "connections (or datagram sockets); each source stays on one")
	fs.IntVar(&s.pri, "pri", 30, "PRI put before bare traditional lines of a capture (30: daemon.info)")
	fs.StringVar(&s.wire, "wire", "rfc5424", "format of generated messages on the wire: rfc5424 or rfc3164")
}

// open returns the source (capture files, "-" for stdin, or without
// files the generated flood), a name for the report, a count of messages
// when it is known, and a function that closes the files.
func (s *sendFlags) open(files []string, stdin io.Reader) (Source, string, int64, func(), error) {
	if len(files) == 0 {
		g, err := s.gen.generator()
		if err != nil {
			return nil, "", 0, nil, err
		}
		f, err := gen.ParseFormat(s.wire)
		if err != nil {
			return nil, "", 0, nil, fmt.Errorf("-wire: %w", err)
		}
		name := fmt.Sprintf("%s n=%d seed=%d", s.gen.kind, s.gen.n, s.gen.seed)
		return NewGenSource(g, f), name, int64(s.gen.n), func() {}, nil
	}
	var srcs []Source
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	for _, name := range files {
		if name == "-" {
			srcs = append(srcs, NewCaptureReader(stdin, s.pri))
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			closeAll()
			return nil, "", 0, nil, fmt.Errorf("open capture: %w", err)
		}
		closers = append(closers, f)
		srcs = append(srcs, NewCaptureReader(f, s.pri))
	}
	return &multiSource{srcs: srcs}, strings.Join(files, " "), 0, closeAll, nil
}

func (s *sendFlags) config() (SendConfig, error) {
	to, err := ParseEndpoint(s.to)
	if err != nil {
		return SendConfig{}, err
	}
	fr, err := ParseFraming(s.framing)
	if err != nil {
		return SendConfig{}, err
	}
	if s.rate < 0 || s.conns < 1 {
		return SendConfig{}, fmt.Errorf("-rate %v -conns %d: want a rate >= 0 and at least one connection", s.rate, s.conns)
	}
	return SendConfig{To: to, Framing: fr, Rate: s.rate, Conns: s.conns}, nil
}

func cmdSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("send", "[-to URL] [-framing octet|lf] [-rate N] [-conns N] [FILE...|-kind K -n N]", stderr)
	var sf sendFlags
	sf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := sf.config()
	if err != nil {
		return err
	}
	src, name, total, closeSrc, err := sf.open(fs.Args(), os.Stdin)
	if err != nil {
		return err
	}
	defer closeSrc()
	live := new(Counters)
	pctx, stopProgress := context.WithCancel(ctx)
	done := make(chan struct{})
	if isTerminal(stderr) {
		go func() { defer close(done); progress(pctx, stderr, live, total, nil) }()
	} else {
		close(done)
	}
	res, err := Send(ctx, src, cfg, live)
	stopProgress()
	<-done
	fmt.Fprintf(stdout, "sent %d messages (%s) from %s to %s in %.2fs: %s msg/s\n",
		res.Msgs, bytesize.Human(res.Bytes), name, cfg.To, res.Elapsed.Seconds(), countString(float64(res.Msgs)/res.Elapsed.Seconds()))
	return err
}

// runFlags are run's own flags.
type runFlags struct {
	send     sendFlags
	out      string
	pid      int
	name     string
	corpus   string
	jsonOut  string
	svgOut   string
	logOut   string
	settle   time.Duration
	timeout  time.Duration
	ready    time.Duration
	grace    time.Duration
	probe    time.Duration
	interval time.Duration
	samples  bool
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "-out DIR [-to URL] [send flags] [-pid PID] [-json F] [-svg F] [FILE...] [-- COMMAND ARGS...]", stderr)
	var rf runFlags
	rf.send.register(fs)
	fs.StringVar(&rf.out, "out", "", "the target's output directory (or file) to account; comma-separated for several")
	fs.IntVar(&rf.pid, "pid", 0, "measure this running process (CPU and peak RSS from /proc)")
	fs.StringVar(&rf.name, "name", "", "target name for the report (default: the command or the endpoint)")
	fs.StringVar(&rf.corpus, "corpus", "", "corpus name for the report (default: the files, or the generator's flags)")
	fs.StringVar(&rf.jsonOut, "json", "", "write the report as JSON to this file")
	fs.StringVar(&rf.svgOut, "svg", "", "write the chart of bytes/s in and written to this SVG file")
	fs.StringVar(&rf.logOut, "log", "", "the started command's stdout and stderr go to this file (default: discarded)")
	fs.DurationVar(&rf.settle, "settle", 2*time.Second, "after sending, the output must be quiet this long before the run ends")
	fs.DurationVar(&rf.timeout, "timeout", 10*time.Minute, "longest wait for the output to settle")
	fs.DurationVar(&rf.ready, "ready", 10*time.Second, "longest wait for a started command's endpoint")
	fs.DurationVar(&rf.grace, "grace", 30*time.Second, "time a started command gets to exit after SIGTERM before SIGKILL")
	fs.DurationVar(&rf.probe, "probe", 100*time.Millisecond, "latency probe interval (0: no probes)")
	fs.DurationVar(&rf.interval, "interval", 100*time.Millisecond, "how often the output is sampled")
	fs.BoolVar(&rf.samples, "samples", true, "include the time series in the JSON report")
	before, command := splitCommand(args)
	if err := fs.Parse(before); err != nil {
		return err
	}
	if rf.out == "" {
		fs.Usage()
		return errors.New("run: -out is required: the directory the target writes to")
	}
	if rf.pid != 0 && len(command) > 0 {
		return errors.New("run: give -pid or a command, not both")
	}
	return run(ctx, rf, fs.Args(), command, stdout, stderr)
}

// splitCommand cuts args at the first "--": the flags and files before,
// the target's command line after.
func splitCommand(args []string) ([]string, []string) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:]
		}
	}
	return args, nil
}

func run(ctx context.Context, rf runFlags, files, command []string, stdout, stderr io.Writer) (err error) {
	cfg, err := rf.send.config()
	if err != nil {
		return err
	}
	src, corpus, total, closeSrc, err := rf.send.open(files, os.Stdin)
	if err != nil {
		return err
	}
	defer closeSrc()
	if rf.corpus != "" {
		corpus = rf.corpus
	}
	outs := strings.Split(rf.out, ",")
	base, err := countExisting(outs)
	if err != nil {
		return err
	}
	rep := &Report{Name: rf.name, Date: time.Now().UTC(), Corpus: corpus, Endpoint: cfg.To.String(),
		Framing: cfg.Framing.String(), Conns: cfg.Conns, Rate: cfg.Rate}
	if rep.Name == "" {
		rep.Name = cfg.To.String()
		if len(command) > 0 {
			rep.Name = filepath.Base(command[0])
		}
	}

	var tgt *target
	if len(command) > 0 {
		// Someone else on the endpoint would get the flood and make the
		// figures of a target that never saw it.
		if cfg.To.Network != "unixgram" && ready(cfg.To) {
			return fmt.Errorf("run: %s is already taken by another process; pick a free endpoint", cfg.To)
		}
		log := io.Discard
		if rf.logOut != "" {
			f, err := os.Create(rf.logOut)
			if err != nil {
				return fmt.Errorf("create target log: %w", err)
			}
			defer f.Close()
			log = f
		}
		if tgt, err = startTarget(command, log); err != nil {
			return err
		}
		// Whatever happens, the target does not outlive the run.
		defer func() {
			if tgt != nil {
				tgt.stop(rf.grace)
			}
		}()
		if err := waitReady(ctx, cfg.To, tgt, rf.ready); err != nil {
			return err
		}
	}
	var before ProcStats
	if rf.pid != 0 {
		if before, err = ReadProc(rf.pid); err != nil {
			return err
		}
		if err := ResetPeak(rf.pid); err != nil {
			fmt.Fprintf(stderr, "run: %v: peak RSS will be the process's lifetime peak\n", err)
		}
	}

	live := new(Counters)
	probes := NewProbes()
	if rf.probe > 0 {
		cfg.Probes, cfg.ProbeEvery = probes, rf.probe
	}
	w := newWatcher(outs, probes, live)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); w.run(wctx, rf.interval) }()
	pctx, stopProgress := context.WithCancel(ctx)
	progDone := make(chan struct{})
	if isTerminal(stderr) {
		go func() {
			defer close(progDone)
			progress(pctx, stderr, live, total, func() int64 {
				w.mu.Lock()
				defer w.mu.Unlock()
				return w.out - base.Bytes
			})
		}()
	} else {
		close(progDone)
	}

	res, sendErr := Send(ctx, src, cfg, live)
	rep.Sent, rep.SentBytes, rep.SendSecs = res.Msgs, res.Bytes, res.Elapsed.Seconds()

	// Wait for the target to catch up: the output quiet for -settle.
	deadline := time.Now().Add(rf.timeout)
	for sendErr == nil && w.quietFor() < rf.settle && time.Now().Before(deadline) && (tgt == nil || !tgt.exited()) {
		select {
		case <-ctx.Done():
			sendErr = ctx.Err()
		case <-time.After(rf.interval):
		}
	}
	stopProgress()
	<-progDone
	rep.E2ESecs, rep.E2EBy = max(w.lastGrowth(), res.Elapsed).Seconds(), "last output growth"
	if t, ok := probes.LastSeen(); ok && rf.probe > 0 {
		rep.E2ESecs, rep.E2EBy = max(t.Sub(w.begin), res.Elapsed).Seconds(), "last probe"
	}

	switch {
	case tgt != nil:
		st, err := tgt.stop(rf.grace)
		tgt = nil
		rep.CPUSecs, rep.PeakRSS, rep.ProcSource = st.CPU.Seconds(), st.PeakRSS, "wait4"
		if err != nil {
			fmt.Fprintf(stderr, "run: %v\n", err)
		}
	case rf.pid != 0:
		after, err := ReadProc(rf.pid)
		if err != nil {
			return err
		}
		rep.CPUSecs, rep.PeakRSS, rep.ProcSource = (after.CPU - before.CPU).Seconds(), after.PeakRSS, "/proc"
	}
	stopWatch()
	<-watchDone
	w.look() // what the target flushed on its way out
	if rf.probe > 0 {
		rep.Latency = probes.Latency()
	}
	if rf.samples {
		rep.Samples = w.series()
	}
	after, err := countExisting(outs)
	if err != nil {
		return err
	}
	rep.Output = after.minus(base)
	rep.finish()

	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if rf.jsonOut != "" {
		if err := writeFileWith(rf.jsonOut, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}); err != nil {
			return err
		}
	}
	if rf.svgOut != "" {
		title := fmt.Sprintf("%s: %s", rep.Name, rep.Corpus)
		if err := writeFileWith(rf.svgOut, func(w io.Writer) error { return WriteSVG(w, title, rep.Samples) }); err != nil {
			return err
		}
	}
	return sendErr
}

// countExisting accounts the outputs that exist; a directory the target
// has not created yet counts as empty.
func countExisting(paths []string) (Accounting, error) {
	var total Accounting
	for _, p := range paths {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		a, err := Count(p)
		if err != nil {
			return total, err
		}
		total = total.plus(a)
	}
	return total, nil
}

func (a Accounting) plus(b Accounting) Accounting {
	return Accounting{a.Files + b.Files, a.Bytes + b.Bytes, a.Lines + b.Lines, a.Verbatim + b.Verbatim, a.Summaries + b.Summaries, a.Summarized + b.Summarized, a.Own + b.Own}
}

// minus takes off what was there before the run: the harness measures
// what the run added, so it can watch a target that already has logs.
// Files stays the count after the run: a file the run appended to is one
// of its files.
func (a Accounting) minus(b Accounting) Accounting {
	return Accounting{a.Files, a.Bytes - b.Bytes, a.Lines - b.Lines, a.Verbatim - b.Verbatim, a.Summaries - b.Summaries, a.Summarized - b.Summarized, a.Own - b.Own}
}

func writeFileWith(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func cmdSink(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sink", "-listen URL -o FILE", stderr)
	listen := fs.String("listen", "tcp://127.0.0.1:5514", "endpoint to receive on")
	out := fs.String("o", "-", "file to write messages to, one per line (- for stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, err := ParseEndpoint(*listen)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "-" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return fmt.Errorf("create sink dir: %w", err)
		}
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("create sink file: %w", err)
		}
		defer f.Close()
		w = f
	}
	removeStaleSocket(e)
	s, err := ListenSink(e, w)
	if err != nil {
		return err
	}
	// The sink is a target: SIGTERM is its normal end, after which it
	// flushes, as a daemon would.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = s.Serve(ctx)
	fmt.Fprintf(stderr, "sink: %d messages\n", s.Received())
	return err
}

func cmdCount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("count", "DIR|FILE...", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("count: no directory given")
	}
	a, err := Count(fs.Args()...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "files %d, bytes %d, lines %d, verbatim %d, summaries %d for %d messages, accounted %d\n",
		a.Files, a.Bytes, a.Lines, a.Verbatim, a.Summaries, a.Summarized, a.Accounted())
	return nil
}

func cmdTable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("table", "[-md FILE [-append]] [-median [-ref NAME]] [-title T] [-note TEXT]... REPORT.json...", stderr)
	md := fs.String("md", "", "also write the table, with the machine's description, to this Markdown file")
	appendMD := fs.Bool("append", false, "append the table as one more corpus section to the -md file")
	title := fs.String("title", "floodgate and its peers on one flood", "heading of the Markdown file")
	med := fs.Bool("median", false, "one row per target name: the medians of its runs (repeated runs of peers.sh)")
	ref := fs.String("ref", "", "with -median: the target the others' rate and CPU per message are compared to")
	var notes multiFlag
	fs.Var(&notes, "note", "a line for the Markdown file (versions, the corpus, ...); repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("table: no report given")
	}
	var reps []*Report
	for _, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read report: %w", err)
		}
		r := new(Report)
		if err := json.Unmarshal(b, r); err != nil {
			return fmt.Errorf("read report %s: %w", name, err)
		}
		reps = append(reps, r)
	}
	write := func(w io.Writer) error { return WriteComparison(w, reps) }
	if *med {
		ms := Medians(reps)
		write = func(w io.Writer) error { return WriteMedians(w, ms, *ref) }
	}
	if err := write(stdout); err != nil {
		return err
	}
	if *md == "" {
		return nil
	}
	section := func(w io.Writer) error {
		r := reps[0]
		fmt.Fprintf(w, "### %s\n\n", r.Corpus)
		fmt.Fprintf(w, "Sent to %s (%s framing, %d connection(s), rate %s).\n\n", r.Endpoint, r.Framing, r.Conns, rateString(r.Rate))
		if err := write(w); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w)
		return err
	}
	if *appendMD {
		f, err := os.OpenFile(*md, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("append to %s: %w", *md, err)
		}
		if err := section(f); err != nil {
			f.Close()
			return fmt.Errorf("append to %s: %w", *md, err)
		}
		return f.Close()
	}
	return writeFileWith(*md, func(w io.Writer) error {
		fmt.Fprintf(w, "# %s\n\n", *title)
		for _, n := range notes {
			fmt.Fprintf(w, "%s\n", n)
		}
		fmt.Fprintf(w, "\n## Machine\n\n%s\n## Results\n\n", Machine())
		fmt.Fprintf(w, "\"msg/s sent\" is the rate the target took messages at (TCP pushes back); "+
			"\"msg/s e2e\" counts accounted messages up to the moment a probe sent after the corpus appeared in the output "+
			"(the output's last growth when it never did). "+
			"Reduction is bytes sent over bytes written; lost is sent minus accounted "+
			"(verbatim lines plus the counts of summary and \"repeated N times\" lines). "+
			"p99 latency is that of probe messages from send to their line in the output.\n\n")
		return section(w)
	})
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, "; ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Machine describes the machine the benchmarks ran on, as a Markdown
// list: figures mean little without it.
func Machine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- CPUs: %d (%s)\n", runtime.NumCPU(), procField("/proc/cpuinfo", "model name"))
	mem := procField("/proc/meminfo", "MemTotal")
	if kb, err := strconv.ParseInt(strings.TrimSuffix(mem, " kB"), 10, 64); err == nil {
		mem = bytesize.Human(kb << 10)
	}
	fmt.Fprintf(&b, "- RAM: %s\n", mem)
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		fmt.Fprintf(&b, "- kernel: Linux %s\n", strings.TrimSpace(string(k)))
	}
	fmt.Fprintf(&b, "- Go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(l)); len(f) >= 3 {
			fmt.Fprintf(&b, "- load average when the table was written: %s %s %s (1, 5, 15 min)\n", f[0], f[1], f[2])
		}
	}
	return b.String()
}

// procField returns the value of the first "key: value" line of a /proc
// file, "unknown" when absent.
func procField(file, key string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
