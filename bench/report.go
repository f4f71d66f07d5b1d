package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/floodgate/floodgate/internal/bytesize"
)

// Report is the result of one run, as the JSON the harness writes: what
// was sent, what the target wrote, and what it cost.
type Report struct {
	Name     string    `json:"name"`
	Date     time.Time `json:"date"`
	Corpus   string    `json:"corpus"`
	Endpoint string    `json:"endpoint"`
	Framing  string    `json:"framing"`
	Conns    int       `json:"conns"`
	Rate     float64   `json:"rate"` // target msgs/s, 0: as fast as possible

	Sent      int64   `json:"sent"`       // messages, probes included
	SentBytes int64   `json:"sent_bytes"` // wire bytes, framing excluded
	SendSecs  float64 `json:"send_secs"`
	// SendRate is messages per second while sending; over TCP a slow
	// target pushes back, so it is the rate the target took them in.
	SendRate float64 `json:"send_rate"`
	// E2ESecs runs from the first message sent to the moment the last
	// probe, sent after the corpus, showed up in the output (or, without
	// probes or when it never did, to the output's last growth before the
	// target was stopped); E2ERate is accounted messages over it, the
	// rate the target got them to disk. E2EBy says which end was used.
	E2ESecs float64 `json:"e2e_secs"`
	E2ERate float64 `json:"e2e_rate"`
	E2EBy   string  `json:"e2e_by"`

	Output     Accounting `json:"output"`
	Accounted  int64      `json:"accounted"`
	Lost       int64      `json:"lost"` // sent - accounted; negative means extra lines (the target's own)
	LossPct    float64    `json:"loss_pct"`
	Reduction  float64    `json:"reduction"` // bytes in / bytes written
	Latency    Latency    `json:"latency"`
	CPUSecs    float64    `json:"cpu_secs"`
	PeakRSS    int64      `json:"peak_rss"`
	ProcSource string     `json:"proc_source,omitempty"` // "wait4", "/proc" or ""
	Samples    []Sample   `json:"samples,omitempty"`
}

// finish derives the ratios from the counts.
func (r *Report) finish() {
	r.Accounted = r.Output.Accounted()
	r.Lost = r.Sent - r.Accounted
	if r.Sent > 0 {
		r.LossPct = 100 * float64(r.Lost) / float64(r.Sent)
	}
	if r.SendSecs > 0 {
		r.SendRate = float64(r.Sent) / r.SendSecs
	}
	if r.E2ESecs > 0 {
		r.E2ERate = float64(r.Accounted) / r.E2ESecs
	}
	if r.Output.Bytes > 0 {
		r.Reduction = float64(r.SentBytes) / float64(r.Output.Bytes)
	}
}

// WriteTable prints one report as a two-column table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	row("target", "%s", r.Name)
	row("corpus", "%s", r.Corpus)
	row("endpoint", "%s (%s, %d conns, rate %s)", r.Endpoint, r.Framing, r.Conns, rateString(r.Rate))
	row("sent", "%d msgs, %s in %.2fs: %s msg/s", r.Sent, bytesize.Human(r.SentBytes), r.SendSecs, countString(r.SendRate))
	row("end to end", "%s msg/s over %.2fs (to the %s)", countString(r.E2ERate), r.E2ESecs, r.E2EBy)
	row("written", "%d lines (%d verbatim, %d summaries for %d msgs), %s in %d files",
		r.Output.Lines, r.Output.Verbatim, r.Output.Summaries, r.Output.Summarized, bytesize.Human(r.Output.Bytes), r.Output.Files)
	row("accounted", "%d of %d sent: lost %d (%.3f%%)", r.Accounted, r.Sent, r.Lost, r.LossPct)
	row("reduction", "%.1fx (bytes in / bytes written)", r.Reduction)
	if r.Latency.Sent > 0 {
		row("latency", "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (%d of %d probes seen)",
			r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Latency.Seen, r.Latency.Sent)
	}
	if r.ProcSource != "" {
		row("target cost", "%.2f CPU s, peak RSS %s (%s)", r.CPUSecs, bytesize.Human(r.PeakRSS), r.ProcSource)
	}
	return tw.Flush()
}

// WriteComparison prints reports side by side, one row each, as a
// Markdown table that also reads well on a terminal.
func WriteComparison(w io.Writer, reports []*Report) error {
	fmt.Fprintln(w, "| target | msg/s sent | msg/s e2e | CPU s | peak RSS | lines written | bytes written | reduction | lost | p99 latency |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range reports {
		lat := "-"
		if r.Latency.Seen > 0 {
			lat = fmt.Sprintf("%.0f ms", r.Latency.P99)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2f | %s | %d | %s | %.1fx | %d (%.2f%%) | %s |\n",
			r.Name, countString(r.SendRate), countString(r.E2ERate), r.CPUSecs, bytesize.Human(r.PeakRSS),
			r.Output.Lines, bytesize.Human(r.Output.Bytes), r.Reduction, r.Lost, r.LossPct, lat)
	}
	return nil
}

func rateString(r float64) string {
	if r <= 0 {
		return "max"
	}
	return countString(r) + "/s"
}

func countString(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// WriteSVG draws bytes per second in (sent) and written (the target's
// output growth) over the run: the picture of a relay absorbing a flood.
// When what is written is far below what comes in, as it is for a
// deduplicating relay, the axis is logarithmic so that both lines show.
func WriteSVG(w io.Writer, title string, samples []Sample) error {
	const width, height, left, right, top, bottom = 800, 360, 90, 20, 40, 40
	type pt struct{ t, in, out float64 }
	var pts []pt
	for i := 1; i < len(samples); i++ {
		dt := samples[i].T - samples[i-1].T
		if dt <= 0 {
			continue
		}
		pts = append(pts, pt{samples[i].T,
			math.Max(0, float64(samples[i].In-samples[i-1].In)/dt),
			math.Max(0, float64(samples[i].Out-samples[i-1].Out)/dt)})
	}
	tmax, inMax, outMax := 1.0, 1.0, 1.0
	for _, p := range pts {
		tmax = math.Max(tmax, p.t)
		inMax = math.Max(inMax, p.in)
		outMax = math.Max(outMax, p.out)
	}
	ymax := math.Max(inMax, outMax)
	logScale := ymax/math.Min(inMax, outMax) > 10
	var ticks []float64
	var y func(v float64) float64
	plot := float64(height - top - bottom)
	if logScale {
		decades := math.Ceil(math.Log10(ymax))
		y = func(v float64) float64 {
			return height - bottom - math.Log10(math.Max(1, v))/decades*plot
		}
		for d := 0.0; d <= decades; d++ {
			ticks = append(ticks, math.Pow(10, d))
		}
	} else {
		ymax = niceCeil(ymax/(1<<20)) * (1 << 20)
		y = func(v float64) float64 { return height - bottom - v/ymax*plot }
		for i := 0; i <= 4; i++ {
			ticks = append(ticks, ymax*float64(i)/4)
		}
	}
	x := func(t float64) float64 { return left + t/tmax*(width-left-right) }
	line := func(get func(pt) float64) string {
		var b strings.Builder
		for i, p := range pts {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x(p.t), y(get(p)))
		}
		return b.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	if logScale {
		title += " (log scale)"
	}
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14">%s</text>`+"\n", left, xmlEscape(title))
	for _, v := range ticks {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, width-right, y(v), y(v))
		label := bytesize.Human(int64(v))
		if logScale {
			label = siString(v)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s/s</text>`+"\n", left-5, y(v)+4, label)
	}
	for i := 0; i <= 5; i++ {
		t := tmax * float64(i) / 5
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%.1fs</text>`+"\n", x(t), height-bottom+16, t)
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="%s"/>`+"\n", line(func(p pt) float64 { return p.in }))
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#d62728" stroke-width="1.5" points="%s"/>`+"\n", line(func(p pt) float64 { return p.out }))
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#1f77b4">bytes/s in</text>`+"\n", width-right-200, top-8)
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#d62728">bytes/s written</text>`+"\n", width-right-110, top-8)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// siString names a power of ten of bytes: "10 kB", for log-scale ticks.
func siString(v float64) string {
	for _, u := range []struct {
		f float64
		s string
	}{{1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}} {
		if v >= u.f {
			return fmt.Sprintf("%g %s", v/u.f, u.s)
		}
	}
	return fmt.Sprintf("%g B", v)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for axis ticks.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
