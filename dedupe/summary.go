package dedupe

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/floodgate/floodgate"
)

// emit passes p's pending summary on and resets its count. The summary
// record carries the header of the messages it stands for, their last
// time, and a sentence an operator can read in a plain log file. Where the
// count is a few messages held in full and writing them costs no more than
// the summary would (always, for one message), they are written instead.
func (e *Engine) emit(now time.Time, p *pattern) {
	s := &floodgate.Summary{
		Kind:  p.kind,
		FP:    e.fpOf(p),
		Count: p.count,
		First: p.first,
		Last:  p.last,
	}
	var text string
	switch p.kind {
	case floodgate.Block:
		text = e.blockSummary(p, s)
	case floodgate.Cycle:
		text = e.cycleSummary(p, s)
	default:
		text = fmt.Sprintf("message repeated %s: [%s]", times(p.count), p.exemplar)
		if p.x != nil && p.x.restarts > 0 {
			text += e.restartFacts(p, s)
		}
		if p.vary != nil {
			if v := p.vary.summarize(s); v != "" {
				text += " varied: " + v
			}
			p.vary.reset()
		}
	}
	if p.count <= holdMax && !p.unheld && len(p.held) == int(p.count) &&
		(p.count == 1 || heldCost(p.held) <= len(text)+summaryOverhead+int(p.count-1)*recordCost) {
		for i := range p.held {
			e.out = floodgate.Record{Message: p.held[i], Counted: true}
			e.write(now, p, &e.out)
		}
		e.out = floodgate.Record{}
		e.release(p, false)
		p.count = 0
		return
	}
	e.out = floodgate.Record{
		Message: floodgate.Message{
			Time:     p.last,
			Host:     p.host,
			App:      p.app,
			ProcID:   p.procid,
			Facility: p.facility,
			Severity: p.severity,
			Text:     text,
			Syntax:   floodgate.Internal,
			Size:     len(text),
		},
		Summary: s,
	}
	e.release(p, true)
	p.count = 0
	e.next.Handle(now, &e.out)
	e.out = floodgate.Record{}
}

// summaryOverhead is about what a summary line costs beyond its sentence:
// the header and the [floodgate ...] element.
const summaryOverhead = 110

// recordCost is what one more record costs a reader beyond its bytes,
// priced in bytes: the held lines of a count of two or three are written
// rather than summarised unless they are long (a few KiB of a stack or a
// dump), since a summary for so few saves a line or two and hides what
// they said.
const recordCost = 256

// heldCost is about what writing the held messages costs: their texts and
// a header each.
func heldCost(held []floodgate.Message) int {
	n := 0
	for i := range held {
		n += len(held[i].Text) + 40
	}
	return n
}

func (e *Engine) blockSummary(p *pattern, s *floodgate.Summary) string {
	x := p.x
	blocks := x.blocks
	s.Fields = append(s.Fields, floodgate.Field{Key: "blocks", Value: blocks})
	x.blocks = 0
	if x.bkind != goroutine {
		return fmt.Sprintf("%d more %s with the same frames as the one written at fp=%s (%d lines)",
			blocks, x.bkind.noun(), s.FP, s.Count)
	}
	states := make(map[string]int64, maxStates+1)
	var list []stateCount
	for i := range x.states {
		if st := &x.states[i]; st.n > 0 {
			states[st.state] += st.n
			list = append(list, *st)
			st.n = 0
		}
	}
	if x.other > 0 {
		states["other"] += x.other
		list = append(list, stateCount{"other", x.other})
		x.other = 0
	}
	slices.SortStableFunc(list, func(a, b stateCount) int { return cmp.Compare(b.n, a.n) })
	s.Fields = append(s.Fields,
		floodgate.Field{Key: "goroutine", Value: x.id},
		floodgate.Field{Key: "states", Value: states})
	var sb strings.Builder
	for i, st := range list {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s %d", st.state, st.n)
	}
	noun := "goroutines"
	if blocks == 1 {
		noun = "goroutine"
	}
	return fmt.Sprintf("%d more %s with the same stack as goroutine %s (%s)", blocks, noun, x.id, sb.String())
}

func (e *Engine) cycleSummary(p *pattern, s *floodgate.Summary) string {
	x := p.x
	lines := max(x.cycleLines, 1)
	cycles, rest := s.Count/lines, s.Count%lines
	s.Fields = append(s.Fields,
		floodgate.Field{Key: "period", Value: lines},
		floodgate.Field{Key: "cycles", Value: cycles})
	var text string
	switch {
	case cycles == 0:
		text = fmt.Sprintf("%d lines of the %d-line cycle above repeated", rest, lines)
	case cycles == 1:
		text = fmt.Sprintf("the %d-line cycle above repeated once", lines)
	default:
		text = fmt.Sprintf("the %d-line cycle above repeated %d times", lines, cycles)
	}
	if cycles > 0 && rest > 0 {
		text += fmt.Sprintf(" and %d lines more", rest)
	}
	if x.restarts > 0 {
		text += e.restartFacts(p, s)
	}
	return text
}

// restartFacts adds the unit, restarts and exit status of the restart
// loop p counted to s, resets the restarts, and returns the end of the
// sentence: ": protokube.service restart loop, exit status 125".
func (e *Engine) restartFacts(p *pattern, s *floodgate.Summary) string {
	x := p.x
	restarts := x.restarts
	x.restarts = 0
	if x.unit == "" {
		return ""
	}
	s.Fields = append(s.Fields,
		floodgate.Field{Key: "unit", Value: x.unit},
		floodgate.Field{Key: "restarts", Value: restarts})
	text := ": " + x.unit + " restart loop"
	if ls := e.loops[loopKey{p.host, x.unit}]; ls != nil && ls.ExitStatus != "" {
		s.Fields = append(s.Fields, floodgate.Field{Key: "exit_status", Value: ls.ExitStatus})
		status, _, _ := strings.Cut(ls.ExitStatus, "/")
		text += ", exit status " + status
	}
	return text
}

// sortLoops orders restart loops by host and unit, for stable snapshots.
func sortLoops(l []RestartLoop) {
	slices.SortFunc(l, func(a, b RestartLoop) int {
		return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.Unit, b.Unit))
	})
}

// times says "once" or "N times".
func times(n int64) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}
