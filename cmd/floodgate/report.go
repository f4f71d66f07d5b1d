package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/floodgate/floodgate/internal/logging"
	"github.com/floodgate/floodgate/internal/report"
	"github.com/floodgate/floodgate/relay"
)

// cmdReport runs captures through the replay pipeline with the outputs
// discarded and writes what it found as HTML, JSON or text.
func cmdReport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	path := fs.String("config", "", "the config `file` (built-in defaults without it)")
	out := fs.String("o", "", "write the report to this `file` (\"-\" for stdout; default report.html for html, stdout otherwise)")
	format := fs.String("format", "html", "html, json or text")
	top := fs.Int("top", 10, "patterns listed by messages and by bytes")
	quiet := fs.Bool("q", false, "do not print the replay's summary to stderr")
	stop, err := parseProfiled(fs, args)
	if err != nil {
		return err
	}
	defer stop()
	if !slices.Contains([]string{"html", "json", "text"}, *format) {
		return &usageError{fmt.Sprintf("report: unknown -format %q (html, json or text)", *format)}
	}
	if fs.NArg() == 0 {
		return &usageError{"report needs a capture FILE (\"-\" for stdin)"}
	}
	log, _ := logging.New(stderr, "warn")
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	files := fs.Args()
	if slices.Contains(files, "-") {
		// The exemplars are read in a second pass: keep stdin in a file.
		tmp, err := spool(stdin)
		if err != nil {
			return err
		}
		defer os.Remove(tmp)
		files = slices.Clone(files)
		for i, f := range files {
			if f == "-" {
				files[i] = tmp
			}
		}
	}
	rep, err := relay.Replay(ctx, cfg, relay.ReplayOptions{
		Files:  files,
		Output: "-",
		Stdout: io.Discard,
		Detail: true,
		Top:    *top,
	}, log)
	if err != nil {
		return err
	}
	if !*quiet {
		rep.Print(stderr)
	}
	v := report.Build(rep, fs.Args())
	dest := *out
	if dest == "" {
		dest = "-"
		if *format == "html" {
			dest = "report.html"
		}
	}
	w := stdout
	var f *os.File
	if dest != "-" {
		if f, err = os.Create(dest); err != nil {
			return err // "open FILE: ..."
		}
		defer f.Close() // closed below; this one only on an error
		w = f
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	switch *format {
	case "html":
		err = v.HTML(bw)
	case "json":
		err = v.JSON(bw)
	default:
		err = v.Text(bw)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && f != nil {
		err = f.Close()
	}
	if err != nil {
		return fmt.Errorf("write report %s: %w", dest, err)
	}
	if f != nil && !*quiet {
		fmt.Fprintf(stderr, "report: wrote %s\n", dest)
	}
	return nil
}

// spool copies r into a temporary file and returns its name.
func spool(r io.Reader) (string, error) {
	f, err := os.CreateTemp("", "floodgate-report-*.log")
	if err != nil {
		return "", fmt.Errorf("spool stdin: %w", err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("spool stdin: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("spool stdin: %w", err)
	}
	return f.Name(), nil
}
