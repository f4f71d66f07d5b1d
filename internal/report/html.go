package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/floodgate/floodgate/internal/bytesize"
	"github.com/floodgate/floodgate/relay"
)

// HTML writes v as one self-contained page: inline CSS and SVG, no
// script, nothing fetched.
func (v *View) HTML(w io.Writer) error {
	return page.Execute(w, v)
}

// palette colours the timeline's series, busiest first; the rest is grey.
var palette = []string{"#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"}

const otherColour = "#b0b0b0"

func colour(s relay.Series, i int) string {
	if s.Other {
		return otherColour
	}
	return palette[i%len(palette)]
}

func seriesName(s relay.Series) string {
	if s.Other {
		return "all other sources"
	}
	return s.Host + " " + s.App
}

var funcs = template.FuncMap{
	"human": bytesize.Human,
	"stamp": stamp,
	"span": func(a, b time.Time) string {
		return b.Sub(a).Round(time.Second).String()
	},
	"first": firstLine,
	"join":  func(l []string) string { return strings.Join(l, "\n") },
	"inc":   func(i int) int { return i + 1 },
	"pct": func(part, whole int64) string {
		if whole == 0 {
			return "0%"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
	},
	"colour":     colour,
	"reduction":  reduction,
	"until":      func(t time.Time) string { return stampOr(t, "still going") },
	"seriesName": seriesName,
	"chart":      chart,
	"period": func(d time.Duration) string {
		if d == 0 {
			return "-"
		}
		return d.Round(time.Second / 10).String()
	},
}

// Chart geometry, in SVG units.
const (
	chartW, chartH         = 960, 300
	padL, padR, padT, padB = 78, 12, 26, 34
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	chartFont              = `font-family="sans-serif" font-size="12"`
)

// chart draws the timeline's series stacked, as messages/s (bytes false)
// or bytes/s, on a linear or a log scale, over bands that mark the floods.
func chart(tl relay.Timeline, floods []relay.Flood, bytes, logScale bool) template.HTML {
	if len(tl.Series) == 0 || tl.Step <= 0 {
		return ""
	}
	n := len(tl.Series[0].Messages)
	step := tl.Step.Seconds()
	// cum[i][j]: the stack's top after series i at bucket j, per second.
	cum := make([][]float64, len(tl.Series))
	top := 0.0
	for i, s := range tl.Series {
		vals := s.Messages
		if bytes {
			vals = s.Bytes
		}
		cum[i] = make([]float64, n)
		for j := range n {
			below := 0.0
			if i > 0 {
				below = cum[i-1][j]
			}
			cum[i][j] = below + float64(vals[j])/step
			top = max(top, cum[i][j])
		}
	}
	scale := func(v float64) float64 { return v }
	if logScale {
		scale = func(v float64) float64 { return math.Log10(1 + v) }
	}
	base := 10.0
	if bytes {
		base = 1024 // KiB, MiB: the grid in the units the labels use
	}
	top = niceCeil(top, base)
	ymax := scale(top)
	if ymax <= 0 {
		ymax = 1
	}
	y := func(v float64) float64 { return padT + plotH - plotH*scale(v)/ymax }
	// Bucket j spans [x(j), x(j+1)]: a step, as the counts are per bucket.
	x := func(j int) float64 { return padL + plotW*float64(j)/float64(n) }
	unit := "messages/s"
	format := func(v float64) string { return si(v) }
	if bytes {
		unit = "bytes/s"
		format = func(v float64) string { return bytesize.Human(int64(v)) }
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s, %s scale">`,
		chartW, chartH, unit, map[bool]string{false: "linear", true: "log"}[logScale])
	// Grid and y labels.
	for _, t := range ticks(top, base, logScale) {
		yy := y(t)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, padL, chartW-padR, yy, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle" %s>%s</text>`, padL-6, yy, chartFont, template.HTMLEscapeString(format(t)))
	}
	// Floods, behind the areas: from start to end, or to the right edge.
	for _, f := range floods {
		from := float64(f.Start.Sub(tl.Start)) / float64(tl.Step)
		to := float64(n)
		if !f.End.IsZero() {
			to = float64(f.End.Sub(tl.Start)+time.Second) / float64(tl.Step)
		}
		from, to = max(0, min(from, float64(n))), max(0, min(to, float64(n)))
		if to <= from {
			continue
		}
		x0, x1 := padL+plotW*from/float64(n), padL+plotW*to/float64(n)
		fmt.Fprintf(&b, `<rect class="flood" x="%.1f" y="%d" width="%.1f" height="%d" fill="#fff1c2"><title>flood: %s</title></rect>`,
			x0, padT, max(x1-x0, 1), plotH, template.HTMLEscapeString(f.Host+" "+f.App))
	}
	// Areas, bottom of the stack first.
	for i := range tl.Series {
		var pts []string
		for j := range n {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(j), y(cum[i][j]), x(j+1), y(cum[i][j])))
		}
		for j := n - 1; j >= 0; j-- {
			below := 0.0
			if i > 0 {
				below = cum[i-1][j]
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(j+1), y(below), x(j), y(below)))
		}
		fmt.Fprintf(&b, `<polygon class="series" points="%s" fill="%s" fill-opacity="0.85" stroke="%s" stroke-width="0.5"><title>%s</title></polygon>`,
			strings.Join(pts, " "), colour(tl.Series[i], i), colour(tl.Series[i], i), template.HTMLEscapeString(seriesName(tl.Series[i])))
	}
	// Axes and time labels.
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333"/>`, padL, chartW-padR, padT+plotH, padT+plotH)
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333"/>`, padL, padL, padT, padT+plotH)
	end := tl.Start.Add(time.Duration(n) * tl.Step)
	layout := "15:04:05"
	if end.Sub(tl.Start) > 24*time.Hour {
		layout = "Jan 2 15:04"
	}
	for k, j := range []int{0, n / 2, n} {
		if k == 1 && n < 2 {
			continue
		}
		anchor := [...]string{"start", "middle", "end"}[k]
		t := tl.Start.Add(time.Duration(j) * tl.Step)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s" %s>%s</text>`, x(j), chartH-10, anchor, chartFont, t.UTC().Format(layout))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" %s fill="#555">%s, buckets of %s</text>`, padL, padT-10, chartFont, unit, tl.Step)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers and escaped names only
}

// niceCeil rounds v up to 1, 2 or 5 times a power of base (10, or 1024
// for bytes).
func niceCeil(v, base float64) float64 {
	if v <= 0 {
		return 1
	}
	p := 1.0
	for p*base <= v {
		p *= base
	}
	for _, m := range []float64{1, 2, 5, 10, 20, 50, 100, 200, 500} {
		if m >= base {
			break
		}
		if m*p >= v {
			return m * p
		}
	}
	return base * p
}

// ticks are the y grid's values up to top: quarters, or powers of base
// on a log scale.
func ticks(top, base float64, logScale bool) []float64 {
	if logScale {
		t := []float64{0}
		for v := 1.0; v <= top; v *= base {
			t = append(t, v)
		}
		if base > 10 {
			// Powers of 1024 are far apart: add every 32-fold step.
			t = t[:1]
			for v := 1.0; v <= top; v *= 32 {
				t = append(t, v)
			}
		}
		return t
	}
	return []float64{0, top / 4, top / 2, 3 * top / 4, top}
}

// si writes v with a k, M or G suffix.
func si(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

var page = template.Must(template.New("report").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>floodgate report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 16px 24px; color: #222; }
h1 { font-size: 22px; margin: 4px 0 2px; }
h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
.files { color: #666; font-size: 13px; word-break: break-all; }
.headline { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.stat { background: #f4f6f8; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.stat b { display: block; font-size: 20px; }
.stat span { color: #555; font-size: 12px; }
.stat.good b { color: #1a7f37; }
ol.findings { padding-left: 22px; margin: 6px 0; }
ol.findings li { margin: 6px 0; }
ol.findings .title { font-weight: 600; font-family: ui-monospace, monospace; font-size: 14px; }
ol.findings .detail { color: #555; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f4f6f8; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.t { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
pre { background: #f8f8f8; border: 1px solid #eee; padding: 6px; font-size: 11px; max-height: 260px; overflow: auto; white-space: pre-wrap; word-break: break-all; margin: 4px 0 0; }
details summary { cursor: pointer; color: #1f5fa8; font-size: 12px; }
.toggles { font-size: 13px; margin: 4px 0; }
.toggles label { margin-right: 14px; cursor: pointer; }
.chart { display: none; }
#m-msgs:checked ~ #s-lin:checked ~ .charts .msgs.lin,
#m-msgs:checked ~ #s-log:checked ~ .charts .msgs.log,
#m-bytes:checked ~ #s-lin:checked ~ .charts .bytes.lin,
#m-bytes:checked ~ #s-log:checked ~ .charts .bytes.log { display: block; }
.legend { font-size: 12px; display: flex; flex-wrap: wrap; gap: 12px; margin-top: 4px; }
.legend i { display: inline-block; width: 11px; height: 11px; margin-right: 4px; vertical-align: -1px; }
.muted { color: #777; }
p.muted { font-size: 13px; }
</style>
</head>
<body>
<h1>floodgate report</h1>
<div class="files">{{range .Files}}{{.}} {{end}}</div>

<div class="headline" id="headline">
<div class="stat"><b>{{.Messages}}</b><span>messages received{{if .Unparsed}} ({{.Unparsed}} unparsed){{end}}</span></div>
<div class="stat"><b>{{human .BytesIn}}</b><span>received</span></div>
<div class="stat"><b>{{span .First .Last}}</b><span>{{stamp .First}} to {{stamp .Last}}</span></div>
<div class="stat"><b>{{.Records}}</b><span>records floodgate would write ({{.Verbatim}} verbatim, {{.Summaries}} summaries{{if .Internal}}, {{.Internal}} of its own{{end}})</span></div>
<div class="stat good"><b>{{human .BytesOut}}</b><span>written{{with reduction .Reduction}}, {{.}}{{end}}</span></div>
</div>

<h2>Findings</h2>
<ol class="findings" id="findings">
{{range .Findings}}<li{{if .FP}} data-fp="{{.FP}}"{{end}}{{if .Unit}} data-unit="{{.Unit}}"{{end}}><div class="title">{{.Title}}</div><div class="detail">{{.Detail}}</div></li>
{{else}}<li class="muted">nothing stands out</li>
{{end}}</ol>

<h2>Timeline of the busiest sources</h2>
<input type="radio" name="metric" id="m-msgs" checked><label for="m-msgs" class="toggles">messages/s</label>
<input type="radio" name="metric" id="m-bytes"><label for="m-bytes" class="toggles">bytes/s</label>
&nbsp;&nbsp;
<input type="radio" name="scale" id="s-lin" checked><label for="s-lin" class="toggles">linear</label>
<input type="radio" name="scale" id="s-log"><label for="s-log" class="toggles">log scale</label>
<div class="charts" id="timeline">
<div class="chart msgs lin">{{chart .Timeline .Floods false false}}</div>
<div class="chart msgs log">{{chart .Timeline .Floods false true}}</div>
<div class="chart bytes lin">{{chart .Timeline .Floods true false}}</div>
<div class="chart bytes log">{{chart .Timeline .Floods true true}}</div>
<div class="legend">{{range $i, $s := .Timeline.Series}}<span><i style="background:{{colour $s $i}}"></i>{{seriesName $s}}</span>{{end}}{{if .Floods}}<span><i style="background:#fff1c2"></i>a flood (below)</span>{{end}}</div>
</div>

<h2>Floods</h2>
<div id="floods">
{{if .Floods}}<table>
<tr><th>host</th><th>app</th><th>from</th><th>to</th><th>messages</th><th>bytes</th><th>peak</th></tr>
{{range .Floods}}<tr><td>{{.Host}}</td><td>{{.App}}</td><td class="n">{{stamp .Start}}</td><td class="n">{{until .End}}</td><td class="n">{{.Messages}}</td><td class="n">{{human .Bytes}}</td><td class="n">{{human .Peak}}/s</td></tr>
{{end}}</table>
<p class="muted">A flood: a source's rate, averaged over 5 s, over ten times its own baseline and 64 KiB/s for 3 s, until it stays under twice the baseline for 30 s. floodgate writes a flood_start and a flood_end record of its own for each.</p>
{{else}}<p class="muted">none found</p>{{end}}
</div>

{{define "patterns"}}
<table>
<tr><th>#</th><th>messages</th><th>bytes</th><th>written</th><th>kind</th><th>source</th><th>template and exemplar</th><th>first</th><th>last</th></tr>
{{range $i, $p := .}}<tr class="pattern" data-fp="{{$p.FP}}">
<td class="n">{{inc $i}}</td><td class="n">{{$p.Messages}}</td><td class="n">{{human $p.Bytes}}</td><td class="n">{{$p.Written}}</td><td>{{$p.Kind}}<br><span class="muted">{{$p.FP}}</span></td><td>{{$p.Host}}<br>{{$p.App}}</td>
<td class="t">{{first $p.Template}}{{if $p.Exemplar}}<details{{if eq $i 0}} open{{end}}><summary>exemplar ({{len $p.Exemplar}} lines)</summary><pre>{{join $p.Exemplar}}</pre></details>{{end}}</td>
<td class="n">{{stamp $p.First}}</td><td class="n">{{stamp $p.Last}}</td></tr>
{{end}}</table>
{{end}}

<h2>Top patterns by bytes</h2>
<div id="top-bytes">{{template "patterns" .TopByBytes}}</div>

<h2>Top patterns by messages</h2>
<div id="top-messages">{{template "patterns" .TopByMessages}}</div>

<h2>Restart loops</h2>
<div id="loops">
{{if .Loops}}<table>
<tr><th>host</th><th>unit</th><th>restarts</th><th>period</th><th>exit status</th><th>first</th><th>last</th></tr>
{{range .Loops}}<tr><td>{{.Host}}</td><td>{{.Unit}}</td><td class="n">{{.Restarts}}</td><td class="n">{{period .Period}}</td><td>{{.ExitStatus}}{{if .GaveUp}} (gave up){{end}}</td><td class="n">{{stamp .First}}</td><td class="n">{{stamp .Last}}</td></tr>
{{end}}</table>{{else}}<p class="muted">none found</p>{{end}}
</div>

<h2>Sources</h2>
<div id="sources">
<table>
<tr><th>host</th><th>app</th><th>messages</th><th>bytes</th><th>share</th><th>written</th><th>folded</th><th>suppressed</th><th>first</th><th>last</th></tr>
{{$in := .BytesIn}}{{range .Sources}}<tr><td>{{.Host}}</td><td>{{.App}}</td><td class="n">{{.Messages}}</td><td class="n">{{human .Bytes}}</td><td class="n">{{pct .Bytes $in}}</td><td class="n">{{.Written}}</td><td class="n">{{.Folded}}</td><td class="n">{{.Suppressed}}</td><td class="n">{{stamp .First}}</td><td class="n">{{stamp .Last}}</td></tr>
{{end}}</table>
</div>
<p class="muted">Written by floodgate report: the capture run through floodgate's pipeline under the given config, with the messages' own timestamps as the clock.</p>
</body>
</html>
`))
