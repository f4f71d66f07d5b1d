package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/internal/logging"
	"github.com/floodgate/floodgate/relay"
	"github.com/floodgate/floodgate/relay/output"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `usage: floodgate <command> [flags]

commands:
  run     [-config FILE]                 run the relay until SIGINT or SIGTERM
  replay  [-config FILE] [-o FILE] [-labels FILE] [FILE...]
                                         run captured syslog through the pipeline
  report  [-config FILE] [-o FILE] [-format html|json|text] FILE...
                                         what a capture holds: findings, timeline, top patterns, sources
  check   -config FILE                   validate a config
  top     [-addr HOST:PORT] [-token T]   a running relay's sources and patterns, live
  bench   ...                            the flood benchmark harness, floodgate-bench ("floodgate bench -h")
  version                                print the version
`

// usageError is a bad command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errInvalidConfig: check found problems and printed them; exit 2.
var errInvalidConfig = errors.New("invalid config")

// errAborted: a second signal cut shutdown short.
var errAborted = errors.New("aborted by a second signal")

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errInvalidConfig):
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "floodgate: %s\n\n%s", ue.msg, usage)
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	var es *exitStatus
	if errors.As(err, &es) {
		return es.code // the command said why itself
	}
	fmt.Fprintf(stderr, "floodgate: %v\n", err)
	return 1
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"no command"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		return cmdRun(ctx, rest, stderr)
	case "replay":
		return cmdReplay(ctx, rest, stdin, stdout, stderr)
	case "report":
		return cmdReport(ctx, rest, stdin, stdout, stderr)
	case "check":
		return cmdCheck(rest, stderr)
	case "bench":
		return cmdBench(ctx, rest, stdin, stdout, stderr)
	case "top":
		return cmdTop(ctx, rest, stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "floodgate %s (%s %s/%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return &usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// versionString is the version set at link time, else the module's
// version (go install ...@v1.2.3), else the commit the binary was built
// from ("a10275b3c4d5", "-dirty" when the tree had changes), else "dev".
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return buildVersion(bi)
}

func buildVersion(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	rev = rev[:min(len(rev), 12)]
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("floodgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// loadConfig reads path, or returns the defaults when path is "". Problems
// are printed as FILE:LINE: what is wrong.
func loadConfig(path string, stderr io.Writer) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	c, err := config.Load(path)
	if err == nil {
		return c, nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// A file that cannot be read is a config that is wrong, in the
		// same FILE: form.
		fmt.Fprintf(stderr, "%s: %v\n", path, pe.Err)
		return nil, errInvalidConfig
	}
	var es config.Errors
	if !errors.As(err, &es) {
		return nil, err
	}
	printErrors(stderr, path, es)
	return nil, errInvalidConfig
}

// printErrors prints config problems as FILE:LINE: what is wrong.
func printErrors(stderr io.Writer, path string, es config.Errors) {
	for _, e := range es {
		if e.Line > 0 {
			fmt.Fprintf(stderr, "%s:%d: %s\n", path, e.Line, e.Error())
		} else {
			fmt.Fprintf(stderr, "%s: %s\n", path, e.Error())
		}
	}
}

func cmdCheck(args []string, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	path := fs.String("config", "", "the config `file` to validate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return &usageError{"check needs -config FILE"}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("check takes no arguments, got %q", fs.Args())}
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	// What only the machine can say, binding nothing: can each unix
	// socket be created in its directory, and each file output's directory
	// be created and written?
	bad := false
	var es config.Errors
	if err := cfg.CheckSockets(); errors.As(err, &es) {
		printErrors(stderr, *path, es)
		bad = true
	}
	if err := cfg.CheckCertificates(); errors.As(err, &es) {
		printErrors(stderr, *path, es)
		bad = true
	}
	for i, oc := range cfg.Outputs {
		if oc.Type != "file" {
			continue
		}
		if err := output.CheckPath(oc.Path); err != nil {
			key := fmt.Sprintf("output[%d].path", i)
			fmt.Fprintf(stderr, "%s:%d: %s: %v\n", *path, cfg.Line(key), key, err)
			bad = true
		}
	}
	// The directories floodgate keeps state in: the checkpoint, and each
	// network output's disk queue.
	dirs := []struct{ key, dir string }{{"relay.state_dir", cfg.Relay.StateDir}}
	for i, oc := range cfg.Outputs {
		dirs = append(dirs, struct{ key, dir string }{fmt.Sprintf("output[%d].queue_dir", i), oc.QueueDir})
	}
	for _, d := range dirs {
		if d.dir == "" {
			continue
		}
		if err := output.CheckDir(d.dir, "directory"); err != nil {
			fmt.Fprintf(stderr, "%s:%d: %s: %v\n", *path, cfg.Line(d.key), d.key, err)
			bad = true
		}
	}
	if bad {
		return errInvalidConfig
	}
	return nil
}

func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	path := fs.String("config", "", "the config `file` (built-in defaults without it)")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	stop, err := parseProfiled(fs, args)
	if err != nil {
		return err
	}
	defer stop()
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("run takes no arguments, got %q", fs.Args())}
	}
	log, err := logging.New(stderr, *level)
	if err != nil {
		return &usageError{err.Error()}
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	var es config.Errors
	if err := cfg.CheckCertificates(); errors.As(err, &es) {
		printErrors(stderr, *path, es) // FILE:LINE, as check says it
		return errInvalidConfig
	}
	// Listen for signals before binding, so that none is missed.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	signal.Ignore(syscall.SIGHUP) // until the loop below handles it

	srv, err := relay.NewServer(cfg, log)
	if err != nil {
		return err
	}
	srv.SetVersion(versionString())
	if err := srv.Start(); err != nil {
		return err
	}
	log.Info("floodgate running", "version", versionString())
	// SIGHUP reloads the config, as syslog-ng's does, after writing out
	// what is buffered: logrotate's postrotate sends it too, and files
	// moved away are reopened on the next write. Reload logs and counts
	// its own errors, and the old config runs on.
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	defer signal.Stop(hups)
	// Every input is bound, and a reload (SIGHUP) systemd sends from now
	// on is taken.
	sdNotify(log, notifyReady)
	ended := srv.Done() // stdin alone, at its end
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case <-ended:
			log.Info("shutting down: every input has ended")
			break wait
		case s := <-sigs:
			log.Info("shutting down", "signal", s.String(), "drain_timeout", cfg.Relay.DrainTimeout.String())
			break wait
		case <-hups:
			sdNotify(log, notifyReloading())
			log.Info("SIGHUP: writing buffers out and reloading", "config", *path)
			if srv.Reload(*path) == nil {
				cfg = srv.Config()
			}
			sdNotify(log, notifyReady)
		}
	}
	sdNotify(log, notifyStopping)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Relay.DrainTimeout.D())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(sctx) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		log.Info("stopped")
		return nil
	case s := <-sigs:
		log.Warn("aborting", "signal", s.String())
		_ = srv.Close() // aborting: the abort is what we report
		return errAborted
	}
}

func cmdReplay(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	path := fs.String("config", "", "the config `file` (built-in defaults without it)")
	out := fs.String("o", "", "write to this `file` instead of the configured outputs (\"-\" for stdout)")
	quiet := fs.Bool("q", false, "do not print the report")
	labels := fs.String("labels", "", "write one line per message to this `file`: its number, the fingerprint of its pattern or summary, v (written) or c (counted)")
	stop, err := parseProfiled(fs, args)
	if err != nil {
		return err
	}
	defer stop()
	log, _ := logging.New(stderr, "warn")
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	ro := relay.ReplayOptions{
		Files:  fs.Args(),
		Stdin:  stdin,
		Output: *out,
		Stdout: stdout,
	}
	var lf *os.File
	if *labels != "" {
		if lf, err = os.Create(*labels); err != nil {
			return err // "open FILE: ..."
		}
		defer lf.Close() // closed below; this one only on an error
		ro.Labels = lf
	}
	rep, err := relay.Replay(ctx, cfg, ro, log)
	if err != nil {
		return err
	}
	if lf != nil {
		if err := lf.Close(); err != nil {
			return fmt.Errorf("write labels: %w", err)
		}
	}
	if !*quiet {
		rep.Print(stderr)
	}
	return nil
}

// parseProfiled adds -cpuprofile to fs, parses args, and starts the
// profile when asked; the caller defers stop.
func parseProfiled(fs *flag.FlagSet, args []string) (stop func(), err error) {
	path := fs.String("cpuprofile", "", "write a CPU profile to `file` (for speed work)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *path == "" {
		return func() {}, nil
	}
	f, err := os.Create(*path)
	if err != nil {
		return nil, fmt.Errorf("create cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
