package bench

import (
	"fmt"
	"io"
	"slices"

	"github.com/floodgate/floodgate/internal/bytesize"
)

// Median is the median of several runs of one target on one corpus: on a
// shared machine one run says little, and runs taken in turn with the
// other targets (A, B, C, A, B, C, ...) share the machine's ups and downs.
type Median struct {
	Name string
	Runs int
	// E2ERate is the median end-to-end rate; MinRate and MaxRate its
	// range over the runs.
	E2ERate, MinRate, MaxRate float64
	SendRate                  float64
	CPUSecs                   float64
	// CPUPerMsg is the median of each run's CPU seconds over messages
	// sent, in microseconds.
	CPUPerMsg float64
	PeakRSS   int64
	// Lost is the largest loss of any run: one lossy run is not hidden by
	// two clean ones.
	Lost         int64
	Sent         int64
	BytesWritten int64
	Lines        int64
}

// Medians groups reports by target name, in the order the names first
// appear, and takes the median of each figure over a name's runs.
func Medians(reports []*Report) []Median {
	var order []string
	by := map[string][]*Report{}
	for _, r := range reports {
		if _, ok := by[r.Name]; !ok {
			order = append(order, r.Name)
		}
		by[r.Name] = append(by[r.Name], r)
	}
	out := make([]Median, 0, len(order))
	for _, name := range order {
		rs := by[name]
		m := Median{Name: name, Runs: len(rs), Lost: rs[0].Lost}
		get := func(f func(*Report) float64) float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			return median(v)
		}
		m.E2ERate = get(func(r *Report) float64 { return r.E2ERate })
		m.SendRate = get(func(r *Report) float64 { return r.SendRate })
		m.CPUSecs = get(func(r *Report) float64 { return r.CPUSecs })
		m.CPUPerMsg = get(func(r *Report) float64 {
			if r.Sent == 0 {
				return 0
			}
			return 1e6 * r.CPUSecs / float64(r.Sent)
		})
		m.PeakRSS = int64(get(func(r *Report) float64 { return float64(r.PeakRSS) }))
		m.Sent = int64(get(func(r *Report) float64 { return float64(r.Sent) }))
		m.BytesWritten = int64(get(func(r *Report) float64 { return float64(r.Output.Bytes) }))
		m.Lines = int64(get(func(r *Report) float64 { return float64(r.Output.Lines) }))
		m.MinRate, m.MaxRate = rs[0].E2ERate, rs[0].E2ERate
		for _, r := range rs {
			m.MinRate = min(m.MinRate, r.E2ERate)
			m.MaxRate = max(m.MaxRate, r.E2ERate)
			if abs(r.Lost) > abs(m.Lost) {
				m.Lost = r.Lost
			}
		}
		out = append(out, m)
	}
	return out
}

// median returns the middle value of v (the mean of the two middle ones
// for an even count), 0 for none. It sorts v.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// WriteMedians prints the medians as a Markdown table. With ref naming one
// of them, two more columns give each target's rate and CPU per message
// over ref's: "2.10x" rate is twice as fast, "0.50x" CPU half the cost.
func WriteMedians(w io.Writer, ms []Median, ref string) error {
	var base *Median
	for i := range ms {
		if ms[i].Name == ref {
			base = &ms[i]
		}
	}
	head := "| target | runs | msg/s e2e (median) | range | CPU s | CPU µs/msg | peak RSS | lines written | bytes written | lost (worst run) |"
	rule := "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	if base != nil {
		head += fmt.Sprintf(" msg/s / %s | CPU/msg / %s |", ref, ref)
		rule += "---:|---:|"
	}
	if _, err := fmt.Fprintf(w, "%s\n%s\n", head, rule); err != nil {
		return err
	}
	for _, m := range ms {
		fmt.Fprintf(w, "| %s | %d | %s | %s to %s | %.2f | %.2f | %s | %d | %s | %d |",
			m.Name, m.Runs, countString(m.E2ERate), countString(m.MinRate), countString(m.MaxRate),
			m.CPUSecs, m.CPUPerMsg, bytesize.Human(m.PeakRSS), m.Lines, bytesize.Human(m.BytesWritten), m.Lost)
		if base != nil {
			fmt.Fprintf(w, " %s | %s |", ratio(m.E2ERate, base.E2ERate), ratio(m.CPUPerMsg, base.CPUPerMsg))
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	return nil
}

func ratio(a, b float64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}
