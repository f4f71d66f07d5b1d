package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/internal/bytesize"
	"github.com/floodgate/floodgate/relay"
)

// View is what every format renders.
type View struct {
	Files []string `json:"files"`
	// Messages and BytesIn are what the capture held; Records and
	// BytesOut what floodgate would have written, Reduction how many
	// times smaller that is (0 when nothing would be written).
	Messages  int64     `json:"messages"`
	Unparsed  int64     `json:"unparsed"`
	BytesIn   int64     `json:"bytes_in"`
	Records   int64     `json:"records"`
	Verbatim  int64     `json:"verbatim"`
	Summaries int64     `json:"summaries"`
	Internal  int64     `json:"internal"` // floodgate's own records (flood_start, ...)
	BytesOut  int64     `json:"bytes_out"`
	Reduction float64   `json:"reduction"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	// Folded and Dropped are messages counted into summaries by kind, and
	// withheld by the budgets by reason.
	Folded  map[string]int64 `json:"folded"`
	Dropped map[string]int64 `json:"dropped"`

	Findings      []Finding           `json:"findings"`
	TopByMessages []Pattern           `json:"top_by_messages"`
	TopByBytes    []Pattern           `json:"top_by_bytes"`
	Loops         []Loop              `json:"restart_loops"`
	Floods        []relay.Flood       `json:"floods"`
	Sources       []relay.SourceTotal `json:"sources"`
	Timeline      relay.Timeline      `json:"timeline"`
}

// Finding is one thing to look at first: a pattern or a restart loop.
type Finding struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	// FP is the pattern's fingerprint, Unit the restart loop's unit.
	FP   string `json:"fp,omitempty"`
	Unit string `json:"unit,omitempty"`
}

// Pattern is one of the top patterns.
type Pattern struct {
	FP       string    `json:"fp"`
	Kind     string    `json:"kind"`
	Host     string    `json:"host"`
	App      string    `json:"app"`
	Template string    `json:"template"`
	Exemplar []string  `json:"exemplar"`
	Messages int64     `json:"messages"`
	Written  int64     `json:"written"`
	Bytes    int64     `json:"bytes"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
}

// Loop is a restart loop.
type Loop struct {
	Host       string        `json:"host"`
	Unit       string        `json:"unit"`
	Restarts   int64         `json:"restarts"`
	Period     time.Duration `json:"period_ns"`
	First      time.Time     `json:"first"`
	Last       time.Time     `json:"last"`
	ExitStatus string        `json:"exit_status,omitempty"`
	GaveUp     bool          `json:"gave_up"`
}

// maxFindings bounds the findings: more is a table, not a headline.
const maxFindings = 5

// Build makes the View of a replay's report. rep must carry Detail
// (relay.ReplayOptions.Detail).
func Build(rep *relay.Report, files []string) *View {
	v := &View{
		Files:    files,
		Messages: rep.Messages,
		Unparsed: rep.Unparsed,
		BytesIn:  rep.BytesIn,
		Verbatim: rep.Verbatim,
		BytesOut: rep.BytesOut,
		Folded:   rep.Folded,
		Dropped:  rep.Dropped,
	}
	for _, n := range rep.Summaries {
		v.Summaries += n
	}
	v.Internal = rep.Internal
	v.Records = v.Verbatim + v.Summaries + v.Internal
	if v.BytesOut > 0 {
		v.Reduction = float64(v.BytesIn) / float64(v.BytesOut)
	}
	for _, p := range rep.TopByMessages {
		v.TopByMessages = append(v.TopByMessages, pattern(p))
	}
	for _, p := range rep.TopByBytes {
		v.TopByBytes = append(v.TopByBytes, pattern(p))
	}
	if d := rep.Detail; d != nil {
		v.First, v.Last = d.First, d.Last
		v.Sources = d.Sources
		v.Timeline = d.Timeline
		v.Floods = d.Floods
		for _, l := range d.Loops {
			v.Loops = append(v.Loops, Loop{Host: l.Host, Unit: l.Unit, Restarts: l.Restarts, Period: l.Period(),
				First: l.First, Last: l.Last, ExitStatus: l.ExitStatus, GaveUp: l.GaveUp})
		}
	}
	v.Findings = findings(v)
	return v
}

func pattern(p relay.PatternTotal) Pattern {
	return Pattern{FP: p.FP, Kind: p.Kind.String(), Host: p.Host, App: p.App, Template: p.Template, Exemplar: p.Exemplar,
		Messages: p.Messages, Written: p.Written, Bytes: p.Bytes, First: p.First, Last: p.Last}
}

// findings orders what to look at first: the biggest flood by bytes
// (cycles aside: a restart loop stands for its cycle), every restart
// loop, then the next biggest patterns.
func findings(v *View) []Finding {
	var out []Finding
	var rest []Pattern
	for _, p := range v.TopByBytes {
		if p.Kind == floodgate.Cycle.String() && len(v.Loops) > 0 {
			continue
		}
		if len(out) == 0 {
			out = append(out, patternFinding(p, v.BytesIn))
		} else {
			rest = append(rest, p)
		}
	}
	for _, l := range v.Loops {
		if len(out) == maxFindings {
			break
		}
		d := fmt.Sprintf("%d restarts", l.Restarts)
		if l.Period > 0 {
			d += fmt.Sprintf(", one every %s", l.Period.Round(time.Second/10))
		}
		d += fmt.Sprintf(", %s to %s", stamp(l.First), stamp(l.Last))
		if l.ExitStatus != "" {
			d += ", exit status " + l.ExitStatus
		}
		if l.GaveUp {
			d += "; systemd gave up"
		}
		out = append(out, Finding{Title: fmt.Sprintf("restart loop: %s on %s", l.Unit, l.Host), Detail: d, Unit: l.Unit})
	}
	for _, p := range rest {
		if len(out) == maxFindings || p.Bytes*100 < v.BytesIn {
			break // under 1% of the capture is no finding
		}
		out = append(out, patternFinding(p, v.BytesIn))
	}
	return out
}

func patternFinding(p Pattern, total int64) Finding {
	what := p.Kind
	if p.Kind == floodgate.Block.String() {
		what = "multi-line block"
	}
	share := 0.0
	if total > 0 {
		share = 100 * float64(p.Bytes) / float64(total)
	}
	return Finding{
		Title:  fmt.Sprintf("%s on %s: %s", p.App, p.Host, firstLine(p.Template)),
		Detail: fmt.Sprintf("%s, %d messages, %s (%.0f%% of the bytes), %s to %s", what, p.Messages, bytesize.Human(p.Bytes), share, stamp(p.First), stamp(p.Last)),
		FP:     p.FP,
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// reduction says how much smaller the output is than the input: "" when
// nothing would be written.
func reduction(r float64) string {
	switch {
	case r == 0:
		return ""
	case r < 1:
		return fmt.Sprintf("%.1f× larger", 1/r)
	}
	return fmt.Sprintf("%.1f× smaller", r)
}

// stampOr is stamp, or or for a zero time.
func stampOr(t time.Time, or string) string {
	if t.IsZero() {
		return or
	}
	return stamp(t)
}

// JSON writes v as one indented JSON object.
func (v *View) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Text writes v as plain text, findings first.
func (v *View) Text(w io.Writer) error {
	ew := &errWriter{w: w}
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	p("floodgate report: %s\n\n", strings.Join(v.Files, " "))
	p("%d messages (%d unparsed), %s, %s to %s (%s)\n", v.Messages, v.Unparsed, bytesize.Human(v.BytesIn), stamp(v.First), stamp(v.Last), v.Last.Sub(v.First))
	p("floodgate would write %d records (%d verbatim, %d summaries, %d of its own), %s", v.Records, v.Verbatim, v.Summaries, v.Internal, bytesize.Human(v.BytesOut))
	if r := reduction(v.Reduction); r != "" {
		p(", %s", r)
	}
	p("\n\nfindings:\n")
	if len(v.Findings) == 0 {
		p("  none\n")
	}
	for i, f := range v.Findings {
		p("%d. %s\n   %s\n", i+1, f.Title, f.Detail)
	}
	for _, top := range []struct {
		by string
		ps []Pattern
	}{{"messages", v.TopByMessages}, {"bytes", v.TopByBytes}} {
		p("\ntop patterns by %s:\n", top.by)
		p("  %10s %10s  %-8s  %-10s %-20s %-20s %s\n", "messages", "bytes", "fp", "kind", "first", "last", "source: template")
		for _, pt := range top.ps {
			p("  %10d %10s  %-8s  %-10s %-20s %-20s %s %s: %s\n", pt.Messages, bytesize.Human(pt.Bytes), pt.FP, pt.Kind,
				stamp(pt.First), stamp(pt.Last), pt.Host, pt.App, firstLine(pt.Template))
		}
	}
	p("\nfloods:\n")
	if len(v.Floods) == 0 {
		p("  none\n")
	}
	for _, f := range v.Floods {
		p("  %s %s: from %s to %s, %d messages, %s, at most %s/s\n", f.Host, f.App, stamp(f.Start), stampOr(f.End, "the end"),
			f.Messages, bytesize.Human(f.Bytes), bytesize.Human(f.Peak))
	}
	p("\nrestart loops:\n")
	if len(v.Loops) == 0 {
		p("  none\n")
	}
	for _, l := range v.Loops {
		p("  %s %s: %d restarts, period %s, exit status %q\n", l.Host, l.Unit, l.Restarts, l.Period.Round(time.Second/10), l.ExitStatus)
	}
	p("\nsources:\n")
	p("  %-30s %-16s %10s %10s %10s %10s %10s\n", "host", "app", "messages", "bytes", "written", "folded", "suppressed")
	for _, s := range v.Sources {
		p("  %-30s %-16s %10d %10s %10d %10d %10d\n", s.Host, s.App, s.Messages, bytesize.Human(s.Bytes), s.Written, s.Folded, s.Suppressed)
	}
	return ew.err
}

// errWriter keeps the first error of a run of writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}
