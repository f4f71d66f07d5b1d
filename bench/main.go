package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/floodgate/floodgate/bench/gen"
)

const usage = `usage: floodgate bench <command> [flags]

commands:
  gen    write a synthetic flood as a capture file
  send   replay a capture file (or a generated flood) to a syslog endpoint
  run    send and measure a target: throughput, loss, bytes written,
         reduction, latency, CPU and peak RSS; table, JSON and SVG
  sink   a minimal syslog receiver that writes what it gets to a file
  count  account an output directory: verbatim lines, summary counts, bytes
  table  compare saved JSON reports in one table (and BENCHMARKS.md)

"floodgate bench <command> -h" lists a command's flags.
`

// Main runs the "floodgate bench" subcommand with args (without "bench"
// itself). It returns flag.ErrHelp after printing help, and every other
// failure as an error for the caller to print, so the command line stays
// testable without a process.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return errors.New("bench: missing command")
		}
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "gen":
		return cmdGen(rest, stdout, stderr)
	}
	if run, ok := commands[cmd]; ok {
		return run(ctx, rest, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("bench: unknown command %q", cmd)
}

// commands holds the subcommands beyond gen, filled by their files.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{}

// Kinds names the generators the command line offers.
var Kinds = gen.Kinds()

// genFlags are the flags that choose a generated flood, shared by gen,
// send and run.
type genFlags struct {
	kind  string
	n     int
	seed  int64
	inc   gen.IncidentConfig
	start string
}

func (g *genFlags) register(fs *flag.FlagSet) {
	d := gen.DefaultIncident()
	fs.StringVar(&g.kind, "kind", "incident", "flood to generate: "+strings.Join(Kinds, ", "))
	fs.IntVar(&g.n, "n", d.Messages, "messages to generate")
	fs.Int64Var(&g.seed, "seed", d.Seed, "random seed: the same seed gives the same flood")
	fs.StringVar(&g.start, "start", d.Start.Format(time.RFC3339), "timestamp of the first message (RFC 3339)")
	fs.IntVar(&g.inc.Hosts, "hosts", d.Hosts, "incident: sick nodes flooding at once")
	fs.IntVar(&g.inc.GoroutinesPerDump, "goroutines", d.GoroutinesPerDump, "incident: goroutines per dump")
	fs.IntVar(&g.inc.Stacks, "stacks", d.Stacks, "incident: distinct stacks in a dump")
	fs.DurationVar(&g.inc.DumpEvery, "dump-every", d.DumpEvery, "incident: time between dumps")
	fs.DurationVar(&g.inc.RestartEvery, "restart-every", d.RestartEvery, "incident: period of the restart loop")
	fs.IntVar(&g.inc.BackgroundEvery, "background-every", d.BackgroundEvery, "incident: one background line in N (-1: none)")
}

// generator builds the flood the flags describe.
func (g *genFlags) generator() (gen.Generator, error) {
	if g.n <= 0 {
		return nil, fmt.Errorf("-n %d: want a positive count", g.n)
	}
	switch g.kind {
	case "incident":
		c := g.inc
		c.Seed, c.Messages = g.seed, g.n
		start, err := time.Parse(time.RFC3339, g.start)
		if err != nil {
			return nil, fmt.Errorf("-start %q: %w", g.start, err)
		}
		c.Start = start.UTC()
		return gen.NewIncident(c), nil
	case "unique":
		return gen.NewUnique(g.seed, g.n), nil
	case "java":
		return gen.NewJava(g.seed, g.n), nil
	case "python":
		return gen.NewPython(g.seed, g.n), nil
	case "mix":
		return gen.NewMix(g.seed, g.n), nil
	}
	if gg, err := gen.New(g.kind, g.seed, g.n); err == nil {
		return gg, nil
	}
	return nil, fmt.Errorf("-kind %q: want one of %s", g.kind, strings.Join(Kinds, ", "))
}

// newFlagSet returns a flag set that prints its usage to stderr and
// reports errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("floodgate bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: floodgate bench %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func cmdGen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gen", "[-kind K] [-n N] [-seed S] [-format F] [-o FILE]", stderr)
	var g genFlags
	g.register(fs)
	format := fs.String("format", "traditional", "capture format: traditional, rfc3164, rfc5424, octet")
	out := fs.String("o", "-", "output file (- for stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("gen: unexpected argument %q", fs.Arg(0))
	}
	f, err := gen.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("-format: %w", err)
	}
	src, err := g.generator()
	if err != nil {
		return err
	}
	w := stdout
	if *out != "-" {
		file, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("create capture: %w", err)
		}
		defer file.Close()
		w = file
	}
	begin := time.Now()
	msgs, bytes, err := gen.Write(w, src, f)
	if err != nil {
		return err
	}
	if c, ok := w.(io.Closer); ok && *out != "-" {
		if err := c.Close(); err != nil {
			return fmt.Errorf("close capture: %w", err)
		}
	}
	el := time.Since(begin).Seconds()
	fmt.Fprintf(stderr, "gen: %d messages, %d bytes (%s) in %.2fs: %.0f lines/s\n", msgs, bytes, f, el, float64(msgs)/el)
	return nil
}
