package dedupe

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// traditional matches rsyslog's file format: "Sep  9 10:02:37 host app[pid]: text".
var traditional = regexp.MustCompile(`^([A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d) (\S+) ([^\s\[:]+)(?:\[([^\]]*)\])?: ?(.*)$`)

// parseTraditional reads one line of rsyslog's file format, in 2018.
func parseTraditional(t testing.TB, line string) floodgate.Message {
	t.Helper()
	m := traditional.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("not a traditional syslog line: %q", line)
	}
	ts, err := time.Parse("2006 Jan _2 15:04:05", "2018 "+m[1])
	if err != nil {
		t.Fatalf("time of %q: %v", line, err)
	}
	return floodgate.Message{
		Time: ts, Host: m[2], App: m[3], ProcID: m[4], Text: m[5],
		Facility: 3, Severity: floodgate.Info, Syntax: floodgate.SyntaxTraditional, Size: len(line),
	}
}

// readLog reads a file of traditional lines.
func readLog(t testing.TB, path string) []floodgate.Message {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var msgs []floodgate.Message
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		msgs = append(msgs, parseTraditional(t, sc.Text()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// collector is the end of the chain in tests: it keeps copies of records.
type collector struct {
	recs  []floodgate.Record
	ticks int
}

func (c *collector) Handle(_ time.Time, r *floodgate.Record) {
	rec := *r
	if r.Summary != nil {
		s := *r.Summary
		rec.Summary = &s
	}
	c.recs = append(c.recs, rec)
}

func (c *collector) Tick(time.Time, bool) { c.ticks++ }

// replay runs msgs through e the way `floodgate replay` does: the clock is
// the messages' own time, never going backwards, with a tick each time it
// passes a whole second, and a final tick.
func replay(e *Engine, msgs []floodgate.Message) {
	var now, ticked time.Time
	for i := range msgs {
		if msgs[i].Time.After(now) {
			now = msgs[i].Time
		}
		if now.Sub(ticked) >= time.Second {
			e.Tick(now, false)
			ticked = now
		}
		r := floodgate.Record{Message: msgs[i]}
		e.Handle(now, &r)
	}
	e.Tick(now, true)
}

// render writes records one a line, for golden files.
func render(recs []floodgate.Record) string {
	var b strings.Builder
	for _, r := range recs {
		if r.Summary == nil {
			fmt.Fprintf(&b, "%s %s %s[%s]: %s\n", r.Time.Format(time.DateTime), r.Host, r.App, r.ProcID, r.Text)
			continue
		}
		s := r.Summary
		fmt.Fprintf(&b, "%s %s %s[%s]: [floodgate kind=%s fp=%s count=%d first=%s last=%s",
			r.Time.Format(time.DateTime), r.Host, r.App, r.ProcID, s.Kind, s.FP, s.Count,
			s.First.Format(time.DateTime), s.Last.Format(time.DateTime))
		for _, f := range s.Fields {
			if v, ok := f.Value.([]floodgate.Varied); ok {
				var parts []string
				for _, p := range v {
					part := fmt.Sprintf("%d", p.Distinct)
					for _, t := range p.Top {
						part += fmt.Sprintf(" %s:%d", t.Value, t.Count)
					}
					parts = append(parts, part)
				}
				fmt.Fprintf(&b, " %s={%s}", f.Key, strings.Join(parts, "; "))
				continue
			}
			if m, ok := f.Value.(map[string]int64); ok {
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var parts []string
				for _, k := range keys {
					parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
				}
				fmt.Fprintf(&b, " %s={%s}", f.Key, strings.Join(parts, ","))
				continue
			}
			fmt.Fprintf(&b, " %s=%v", f.Key, f.Value)
		}
		fmt.Fprintf(&b, "] %s\n", r.Text)
	}
	return b.String()
}

// errorer is what checkInvariants needs of a *testing.T or a *rapid.T.
type errorer interface {
	Helper()
	Errorf(format string, args ...any)
}

// checkInvariants asserts the contract's accounting and exemplar rules
// over input and output, the way the external contract-check does.
func checkInvariants(t errorer, in []floodgate.Message, out []floodgate.Record) {
	t.Helper()
	checkInvariantsMasked(t, in, out, contractMask)
}

// contractMaskRE is the public contract check's view of variable tokens:
// UUIDs, 0x-hex, bare hex runs of six or more that hold a digit, numbers.
var contractMaskRE = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}` +
	`|0x[0-9a-fA-F]+|\b[0-9a-fA-F]{6,}\b|\d+`)

// contractMask masks text as the contract check does (its lookahead, a
// hex run that holds a digit, spelled as a filter).
func contractMask(s string) string {
	return contractMaskRE.ReplaceAllStringFunc(s, func(tok string) string {
		if strings.Trim(tok, "abcdefABCDEF") == "" {
			return tok
		}
		return "#"
	})
}

// checkInvariantsMasked is checkInvariants with exemplars told apart by
// mask: contract-check's digits-only mask, or the engine's own Template
// for inputs (like fuzzed ones) whose hex ids the two see differently.
func checkInvariantsMasked(t errorer, in []floodgate.Message, out []floodgate.Record, mask func(string) string) {
	t.Helper()
	type src struct{ host, app string }
	type ex struct{ host, app, masked string }
	received := map[src]int64{}
	first := map[ex]string{}
	var order []ex
	for _, m := range in {
		received[src{m.Host, m.App}]++
		k := ex{m.Host, m.App, mask(m.Text)}
		if _, ok := first[k]; !ok {
			first[k] = m.Text
			order = append(order, k)
		}
	}
	got := map[src]int64{}
	written := map[ex]bool{}
	for _, r := range out {
		got[src{r.Host, r.App}] += r.Messages()
		if r.Summary == nil {
			written[ex{r.Host, r.App, r.Text}] = true
		} else if r.Summary.Count <= 0 {
			t.Errorf("summary with count %d: %s", r.Summary.Count, r.Text)
		}
	}
	for s, n := range received {
		if got[s] != n {
			t.Errorf("accounting %s/%s: received %d, written+counted %d", s.host, s.app, n, got[s])
		}
	}
	for s, n := range got {
		if received[s] == 0 {
			t.Errorf("accounting %s/%s: nothing received, written+counted %d", s.host, s.app, n)
		}
	}
	missing := 0
	for _, k := range order {
		if !written[ex{k.host, k.app, first[k]}] {
			if missing < 5 {
				t.Errorf("exemplar not written verbatim: %s/%s %q", k.host, k.app, first[k])
			}
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d exemplars missing", missing, len(order))
	}
}
