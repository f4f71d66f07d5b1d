package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/internal/bytesize"
	"github.com/floodgate/floodgate/relay/input"
	"github.com/floodgate/floodgate/relay/output"
)

// ReplayOptions say what to replay and where to write.
type ReplayOptions struct {
	// Files are read in order; "-" or none reads Stdin.
	Files []string
	Stdin io.Reader
	// Output, when not "", replaces the configured outputs with one
	// destination in the first configured output's format: "-" writes
	// to Stdout, anything else is a file path.
	Output string
	Stdout io.Writer
	// MaxMessageSize bounds one frame; 0 takes the largest
	// max_message_size of the configured inputs, so a capture replays
	// with the limits its messages were received under.
	MaxMessageSize int
	// Labels, when not nil, gets one line per message read: its number,
	// the fingerprint of its pattern or summary, and v or c (see
	// fateTable.WriteLabels).
	Labels io.Writer
	// Detail, when set, fills Report.Detail, and each top pattern's
	// first and last time and exemplar (which reads the files again).
	Detail bool
	// Top is how many patterns the report lists by messages and by
	// bytes; 0 means ten.
	Top int
	// TopSources is how many sources the detail's timeline shows
	// apart; 0 means five.
	TopSources int
}

// Report sums up a replay.
type Report struct {
	Messages int64 // messages read
	Unparsed int64 // of which fit no syslog format (kept verbatim)
	BytesIn  int64
	Totals
	BytesOut int64
	Elapsed  time.Duration
	// TopByMessages and TopByBytes are the ten patterns that received the
	// most messages and bytes.
	TopByMessages, TopByBytes []PatternTotal
	// Detail is filled when ReplayOptions.Detail is set.
	Detail *Detail
}

// Print writes the report in a few lines, for stderr.
func (r *Report) Print(w io.Writer) {
	var sums int64
	for _, n := range r.Summaries {
		sums += n
	}
	own := ""
	if r.Internal > 0 {
		own = fmt.Sprintf(", %d of floodgate's own", r.Internal) // flood_start, disk_low, ...
	}
	fmt.Fprintf(w, "replay: %d messages (%d unparsed), %s in; %d records out (%d verbatim, %d summaries%s), %s written",
		r.Messages, r.Unparsed, bytesize.Human(r.BytesIn), r.Verbatim+sums+r.Internal, r.Verbatim, sums, own, bytesize.Human(r.BytesOut))
	if r.BytesOut > 0 {
		fmt.Fprintf(w, ", %.1fx smaller", float64(r.BytesIn)/float64(r.BytesOut))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "replay: folded repeat %d, block %d, cycle %d, suppressed %d messages; %.2fs, %.0f msgs/s\n",
		r.Folded["repeat"], r.Folded["block"], r.Folded["cycle"], r.Folded["suppressed"],
		r.Elapsed.Seconds(), float64(r.Messages)/max(r.Elapsed.Seconds(), 1e-9))
	printTop(w, "messages", r.TopByMessages, func(p PatternTotal) string { return strconv.FormatInt(p.Messages, 10) })
	printTop(w, "bytes", r.TopByBytes, func(p PatternTotal) string { return bytesize.Human(p.Bytes) })
}

// printTop lists patterns one a line: the figure, the fingerprint, the
// kind, how many were written, and the template.
func printTop(w io.Writer, by string, top []PatternTotal, figure func(PatternTotal) string) {
	if len(top) == 0 {
		return
	}
	fmt.Fprintf(w, "replay: top patterns by %s:\n", by)
	for _, p := range top {
		tmpl := p.Template
		if len(tmpl) > 120 {
			tmpl = tmpl[:117] + "..."
		}
		fmt.Fprintf(w, "  %10s  %s  %-10s %8d written  %s\n", figure(p), p.FP, p.Kind, p.Written, tmpl)
	}
}

// Replay runs captured syslog through the pipeline with the messages' own
// timestamps as the clock, flushes everything and reports. Replay uses one
// shard unless the config sets relay.shards, so its output order is
// deterministic.
func Replay(ctx context.Context, cfg *config.Config, o ReplayOptions, log *slog.Logger) (*Report, error) {
	start := time.Now()
	outs := configuredOutputs(cfg)
	if o.Output != "" {
		if o.Output != "-" {
			if err := startAfresh(o.Output, o.Files); err != nil {
				return nil, err
			}
		}
		outs = []output.Options{replayOutput(cfg, o.Output, o.Stdout)}
	}
	shards := cfg.Relay.Shards
	if shards == 0 {
		shards = 1
	}
	tick := cfg.Dedupe.Flush.D() / 4
	if tick <= 0 {
		tick = time.Second
	}
	fates := newFateTable()
	co := coreOptions{
		outputs:  outs,
		shards:   shards,
		tick:     min(tick, time.Second),
		clock:    messageClock,
		observer: fates,
	}
	var rec *received
	if o.Detail {
		rec = newReceived()
		// The alarm log is the live relay's; a report lists the loops.
		co.loops = newLoopTable(slog.New(slog.DiscardHandler))
		co.head = func(next floodgate.Handler) floodgate.Handler { return tally{next, rec} }
		co.onFlood = rec.flood
	}
	c, err := newCore(cfg, co, log)
	if err != nil {
		return nil, err
	}
	p := c.pipe
	limit := o.MaxMessageSize
	if limit <= 0 {
		limit = input.DefaultOptions().MaxMessageSize
		for _, in := range cfg.Inputs {
			limit = max(limit, int(in.MaxMessageSize))
		}
	}
	in := &input.Stats{}
	files := o.Files
	if len(files) == 0 {
		files = []string{"-"}
	}
	var readErr error
	for _, name := range files {
		var r io.Reader = o.Stdin
		var sink input.Sink = p
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				readErr = err // "open FILE: ...", already
				break
			}
			r = f
			defer f.Close()
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				// RFC 3164 and traditional lines have no year: infer it
				// from when the capture was last written, not from today;
				// a line is at most parse.MaxSkew ahead of that.
				sink = receivedAt{p, fi.ModTime()}
			}
		}
		if err := input.ReadStream(ctx, r, "replay "+name, limit, sink, in); err != nil {
			readErr = fmt.Errorf("read %s: %w", name, err)
			break
		}
	}
	p.Close()
	if err := errors.Join(readErr, c.closeOutputs()); err != nil {
		return nil, err
	}
	rep := &Report{Totals: c.builder.totals(), Elapsed: time.Since(start)}
	rep.Messages, rep.Unparsed = p.Stats()
	rep.BytesIn = int64(in.Bytes.Load())
	for _, st := range c.stats {
		rep.BytesOut += st.Bytes.Load()
	}
	top := o.Top
	if top <= 0 {
		top = 10
	}
	if rec != nil {
		topSources := o.TopSources
		if topSources <= 0 {
			topSources = 5
		}
		d := rec.detail(fates, topSources)
		for _, l := range co.loops.snapshot() {
			d.Loops = append(d.Loops, rec.loop(RestartLoop(l)))
		}
		rep.Detail = &d
	}
	rep.TopByMessages = fates.top(top, func(p PatternTotal) int64 { return p.Messages })
	rep.TopByBytes = fates.top(top, func(p PatternTotal) int64 { return p.Bytes })
	if rec != nil {
		if err := addExemplars(ctx, fates, files, limit, rep.TopByMessages, rep.TopByBytes); err != nil {
			return rep, fmt.Errorf("read exemplars: %w", err)
		}
	}
	if o.Labels != nil {
		if err := fates.WriteLabels(o.Labels, rep.Messages); err != nil {
			return rep, fmt.Errorf("write labels: %w", err)
		}
	}
	return rep, nil
}

// addExemplars fills in the exemplars of the patterns listed.
func addExemplars(ctx context.Context, fates *fateTable, files []string, limit int, lists ...[]PatternTotal) error {
	var fps []string
	for _, l := range lists {
		for _, p := range l {
			fps = append(fps, p.FP)
		}
	}
	ex, err := fates.exemplars(ctx, files, limit, fps)
	if err != nil {
		return err
	}
	for _, l := range lists {
		for i := range l {
			l[i].Exemplar = ex[l[i].FP]
		}
	}
	return nil
}

// receivedAt delivers batches as if received at t.
type receivedAt struct {
	next input.Sink
	t    time.Time
}

func (s receivedAt) Deliver(b *input.Batch) {
	b.Received = s.t
	s.next.Deliver(b)
}

// startAfresh empties the one file `replay -o` writes, so that it holds
// this replay and nothing of an earlier one, and refuses a file that is
// one of the captures being read.
func startAfresh(path string, captures []string) error {
	out, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err // "stat PATH: ..."
	}
	for _, c := range captures {
		if in, err := os.Stat(c); err == nil && os.SameFile(in, out) {
			return fmt.Errorf("replay -o %s: that is a capture being read", path)
		}
	}
	if !out.Mode().IsRegular() {
		return nil // /dev/null, a pipe: nothing to empty
	}
	return os.Truncate(path, 0)
}
