package top

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/floodgate/floodgate/relay"
)

// Options say where the relay is and what to show.
type Options struct {
	// Addr is the relay's metrics address (host:port), or a URL.
	Addr string
	// Token is the bearer token the API asks for, if any.
	Token string
	// Rows is how many rows to show (the view fits them to the screen).
	Rows int
	// Client makes the requests; nil means one with a short timeout.
	Client *http.Client
}

// Sorts are the orders a view can take, in the order s cycles them.
var Sorts = []string{"bytes", "messages", "total", "folded", "suppressed"}

// Snapshot is one reading of both views.
type Snapshot struct {
	Sources  relay.SourcesView
	Patterns relay.PatternsView
}

// client reads the relay's API.
type client struct {
	base  string
	token string
	http  *http.Client
}

func newClient(o Options) *client {
	base := o.Addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	c := o.Client
	if c == nil {
		c = &http.Client{Timeout: 3 * time.Second}
	}
	return &client{base: strings.TrimRight(base, "/"), token: o.Token, http: c}
}

func (c *client) get(ctx context.Context, path string, rows int, sort string, v any) error {
	q := url.Values{"n": {fmt.Sprint(rows)}, "sort": {sort}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", path, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("read the relay's live view: %w", err) // err names the URL
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("get %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// fetch reads both views.
func (c *client) fetch(ctx context.Context, rows int, sort string) (Snapshot, error) {
	var s Snapshot
	if err := c.get(ctx, "/api/v1/sources", rows, sort, &s.Sources); err != nil {
		return s, err
	}
	err := c.get(ctx, "/api/v1/patterns", rows, sort, &s.Patterns)
	return s, err
}

// Once prints the relay's views once, as plain tables, to w.
func Once(ctx context.Context, o Options, w io.Writer) error {
	rows := o.Rows
	if rows <= 0 {
		rows = 20
	}
	s, err := newClient(o).fetch(ctx, rows, "bytes")
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	writeAlarms(tw, &s.Sources.LiveHeader)
	fmt.Fprintf(tw, "received\t%s msgs\t%s\t%s/s now\t%.0f%% folded\t%s suppressed\n",
		count(s.Sources.Total.Messages), size(float64(s.Sources.Total.Bytes)), size(s.Sources.Total.Rate10s.Bytes),
		percent(s.Sources.Total.Folded, s.Sources.Total.Messages), count(s.Sources.Total.Suppressed))
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "HOST\tAPP\tBYTES/S\tMSGS/S\tFOLDED\tSUPPRESSED\tMESSAGES\tLAST MINUTE")
	for _, r := range s.Sources.Sources {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f%%\t%s\t%s\t%s\n", r.Host, r.App, size(r.Rate10s.Bytes), rate(r.Rate10s.Messages),
			percent(r.Folded, r.Messages), count(r.Suppressed), count(r.Messages), Sparkline(r.Spark, 20))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "FP\tKIND\tBYTES/S\tMSGS/S\tFOLDED\tSUPPRESSED\tSOURCE\tTEMPLATE")
	for _, r := range s.Patterns.Patterns {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f%%\t%s\t%s\t%s\n", r.FP, r.Kind, size(r.Rate10s.Bytes), rate(r.Rate10s.Messages),
			percent(r.Folded, r.Messages), count(r.Suppressed), r.Host+"/"+r.App, cut(r.Template, 80))
	}
	return tw.Flush()
}

func writeAlarms(w io.Writer, h *relay.LiveHeader) {
	for _, l := range h.RestartLoops {
		fmt.Fprintf(w, "RESTART LOOP\t%s\t%s\t%d restarts\t%s\n", l.Host, l.Unit, l.Restarts, l.ExitStatus)
	}
	for _, d := range h.Disks {
		fmt.Fprintf(w, "disk %s\t%s\n", d.Output, d.Level)
	}
}

// Sparkline draws values as width block characters, each the largest of
// the values it stands for, scaled to the largest of all.
func Sparkline(values []uint64, width int) string {
	const bars = " ▁▂▃▄▅▆▇█"
	runes := []rune(bars)
	if width <= 0 || len(values) == 0 {
		return ""
	}
	cols := make([]uint64, width)
	for i, v := range values {
		j := i * width / len(values)
		cols[j] = max(cols[j], v)
	}
	var top uint64
	for _, v := range cols {
		top = max(top, v)
	}
	var b strings.Builder
	for _, v := range cols {
		i := 0
		if top > 0 && v > 0 {
			i = 1 + int(v*uint64(len(runes)-2)/top)
		}
		b.WriteRune(runes[i])
	}
	return b.String()
}

func percent(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// size renders bytes in binary units ("1.5MiB").
func size(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f%s", b, units[i])
	}
	return fmt.Sprintf("%.1f%s", b, units[i])
}

// count renders a count with a k or M suffix.
func count(n int64) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 10_000:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func rate(r float64) string {
	if r >= 10 || r == 0 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

// cut shortens s to n runes, with an ellipsis.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:n])
	}
	return string(r[:n-1]) + "…"
}
