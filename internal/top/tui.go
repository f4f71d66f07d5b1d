package top

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Run shows the live view in the terminal in and out until q, ctrl+c
// or ctx is done, and restores the terminal.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	m := newModel(ctx, o)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen())
	final, err := p.Run()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("terminal: %w", err)
	}
	if fm, ok := final.(*model); ok && fm.fatal != nil {
		return fm.fatal
	}
	return nil
}

// view names what the screen lists.
type view int

const (
	viewSources view = iota
	viewPatterns
)

type model struct {
	ctx    context.Context
	c      *client
	rows   int
	view   view
	sort   int // index in Sorts
	snap   Snapshot
	have   bool
	err    error // the last fetch's, shown until one works
	fatal  error // ends the program (a refused token)
	width  int
	height int
}

type tickMsg time.Time

type snapMsg struct {
	s   Snapshot
	err error
}

func newModel(ctx context.Context, o Options) *model {
	rows := o.Rows
	if rows <= 0 {
		rows = 200
	}
	return &model{ctx: ctx, c: newClient(o), rows: rows, width: 120, height: 40}
}

func (m *model) fetch() tea.Cmd {
	sort := Sorts[m.sort]
	return func() tea.Msg {
		s, err := m.c.fetch(m.ctx, m.rows, sort)
		return snapMsg{s, err}
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func (m *model) Init() tea.Cmd { return tea.Batch(m.fetch(), tick()) }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch msg.String() {
		case "q", "ctrl+c", "esc":
			return m, tea.Quit
		case "tab", "shift+tab", "p":
			m.view = 1 - m.view
		case "s":
			m.sort = (m.sort + 1) % len(Sorts)
			return m, m.fetch()
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tickMsg:
		return m, tea.Batch(m.fetch(), tick())
	case snapMsg:
		m.err = msg.err
		if msg.err == nil {
			m.snap, m.have = msg.s, true
		} else if strings.Contains(msg.err.Error(), "401") {
			m.fatal = msg.err
			return m, tea.Quit
		}
	}
	return m, nil
}

var (
	styleTitle  = lipgloss.NewStyle().Bold(true).Reverse(true)
	styleHead   = lipgloss.NewStyle().Bold(true).Underline(true)
	styleAlarm  = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("9"))
	styleOK     = lipgloss.NewStyle().Foreground(lipgloss.Color("10"))
	styleDim    = lipgloss.NewStyle().Faint(true)
	styleSpark  = lipgloss.NewStyle().Foreground(lipgloss.Color("12"))
	styleActive = lipgloss.NewStyle().Bold(true).Reverse(true)
)

func (m *model) View() string {
	var b strings.Builder
	h := &m.snap.Sources.LiveHeader
	t := h.Total
	title := fmt.Sprintf(" floodgate top  %s  %s msgs  %s/s  %s msgs/s  %.0f%% folded  %s suppressed ",
		m.c.base, count(t.Messages), size(t.Rate10s.Bytes), rate(t.Rate10s.Messages), percent(t.Folded, t.Messages), count(t.Suppressed))
	b.WriteString(styleTitle.Render(pad(title, m.width)))
	b.WriteByte('\n')
	lines := 1
	if m.err != nil {
		b.WriteString(styleAlarm.Render(cut("error: "+m.err.Error(), m.width)))
		b.WriteByte('\n')
		lines++
	}
	for _, l := range h.RestartLoops {
		s := fmt.Sprintf("RESTART LOOP %s %s: %d restarts", l.Host, l.Unit, l.Restarts)
		if l.ExitStatus != "" {
			s += ", exit status " + l.ExitStatus
		}
		b.WriteString(styleAlarm.Render(cut(s, m.width)))
		b.WriteByte('\n')
		lines++
	}
	if len(h.Disks) > 0 {
		var parts []string
		for _, d := range h.Disks {
			st := styleOK
			if d.Level != "ok" {
				st = styleAlarm
			}
			parts = append(parts, "disk "+d.Output+" "+st.Render(d.Level))
		}
		b.WriteString(strings.Join(parts, "   "))
		b.WriteByte('\n')
		lines++
	}
	tabs := []string{" sources ", " patterns "}
	tabs[m.view] = styleActive.Render(tabs[m.view])
	b.WriteString(tabs[0] + tabs[1] + styleDim.Render("   sort: "+Sorts[m.sort]+"   tab: switch  s: sort  q: quit"))
	b.WriteString("\n")
	lines++
	if !m.have {
		b.WriteString("waiting for " + m.c.base + " …\n")
		return b.String()
	}
	room := max(1, m.height-lines-2)
	if m.view == viewSources {
		m.sources(&b, room)
	} else {
		m.patterns(&b, room)
	}
	return b.String()
}

const sparkWidth = 20

func (m *model) sources(b *strings.Builder, room int) {
	w := max(12, min(32, (m.width-70-sparkWidth)/2))
	fmt.Fprintf(b, "%s\n", styleHead.Render(fmt.Sprintf("%-*s %-*s %10s %9s %7s %10s %9s  %-*s", w, "HOST", w, "APP", "BYTES/S", "MSGS/S", "FOLDED", "SUPPRESSED", "MESSAGES", sparkWidth, "LAST MINUTE")))
	rows := m.snap.Sources.Sources
	for i := range rows[:min(len(rows), room)] {
		r := &rows[i]
		fmt.Fprintf(b, "%-*s %-*s %10s %9s %6.0f%% %10s %9s  %s\n", w, cut(r.Host, w), w, cut(r.App, w), size(r.Rate10s.Bytes), rate(r.Rate10s.Messages),
			percent(r.Folded, r.Messages), count(r.Suppressed), count(r.Messages), styleSpark.Render(Sparkline(r.Spark, sparkWidth)))
	}
}

func (m *model) patterns(b *strings.Builder, room int) {
	w := max(16, m.width-86-sparkWidth)
	fmt.Fprintf(b, "%s\n", styleHead.Render(fmt.Sprintf("%-8s %-6s %10s %9s %7s %10s %-26s %-*s  %-*s", "FP", "KIND", "BYTES/S", "MSGS/S", "FOLDED", "SUPPRESSED", "SOURCE", w, "TEMPLATE", sparkWidth, "LAST MINUTE")))
	rows := m.snap.Patterns.Patterns
	for i := range rows[:min(len(rows), room)] {
		r := &rows[i]
		fmt.Fprintf(b, "%-8s %-6s %10s %9s %6.0f%% %10s %-26s %-*s  %s\n", r.FP, r.Kind, size(r.Rate10s.Bytes), rate(r.Rate10s.Messages),
			percent(r.Folded, r.Messages), count(r.Suppressed), cut(r.Host+"/"+r.App, 26), w, cut(oneLine(r.Template), w), styleSpark.Render(Sparkline(r.Spark, sparkWidth)))
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// pad fills s with spaces to width runes.
func pad(s string, width int) string {
	if n := lipgloss.Width(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return cut(s, width)
}
