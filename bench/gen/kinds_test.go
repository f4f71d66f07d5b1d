package gen

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// distinctMatches counts the distinct first groups of re over the texts
// of ms.
func distinctMatches(ms []truthed, re *regexp.Regexp) int {
	seen := map[string]bool{}
	for _, x := range ms {
		if p := re.FindStringSubmatch(x.m.Text); p != nil {
			seen[p[1]] = true
		}
	}
	return len(seen)
}

func kindMessages(t *testing.T, kind string, n int) []truthed {
	t.Helper()
	g, err := New(kind, 4, n)
	if err != nil {
		t.Fatal(err)
	}
	return collectTruth(t, g.(Truther))
}

// TestKindsVary checks that each kind's parameters take as many values
// as its doc says.
func TestKindsVary(t *testing.T) {
	tests := []struct {
		kind string
		n    int
		re   string
		min  int
	}{
		{"web", 5000, `"(?:GET|POST|PUT|DELETE|HEAD) (\S+) HTTP`, 300},
		{"web", 5000, `^(\d+\.\d+\.\d+\.\d+) - -`, 300},
		{"web", 5000, `" \d+ \d+ "[^"]*" "([^"]+)"$`, 15},
		{"kubelet", 5000, ` pod="([^"]+)"`, 100},
		{"kubelet", 5000, ` pod="([^/]+)/`, 8},
		{"ufw", 5000, ` SRC=(\S+)`, 300},
		{"ufw", 5000, ` MAC=(\S+)`, 50},
		{"ufw", 5000, ` DPT=(\d+)`, 100},
		{"ids", 5000, `(?:request_id|container|id)=([0-9a-f-]{36,64})`, 3500},
		{"nearmiss", 5000, `^(\S+): Link`, 100},
		{"chat", 3000, `<([^>]+)>`, 200},
		{"poison", 10_000, `^([A-Z]\w+) password for`, 2500},
	}
	msgs := map[string][]truthed{}
	for _, tc := range tests {
		t.Run(tc.kind+" "+tc.re, func(t *testing.T) {
			ms, ok := msgs[tc.kind]
			if !ok {
				ms = kindMessages(t, tc.kind, tc.n)
				msgs[tc.kind] = ms
			}
			if got := distinctMatches(ms, regexp.MustCompile(tc.re)); got < tc.min {
				t.Errorf("%d distinct values, want >= %d", got, tc.min)
			}
		})
	}
}

// blocksOf groups the lines of each block instance of ms by its id.
func blocksOf(ms []truthed) (order []uint64, lines map[uint64][]truthed) {
	lines = map[uint64][]truthed{}
	for _, x := range ms {
		if b := x.t.Block; b != 0 {
			if lines[b] == nil {
				order = append(order, b)
			}
			lines[b] = append(lines[b], x)
		}
	}
	return order, lines
}

// TestKindsBlocks checks the shapes of the blocks the doc comments
// promise: the Kafka config dump and traces, the Python chains, the Go
// 1.23 goroutines.
func TestKindsBlocks(t *testing.T) {
	t.Run("kafka", func(t *testing.T) {
		order, lines := blocksOf(kindMessages(t, "kafka", 20_000))
		dumps, causedBy, more := 0, 0, 0
		for _, b := range order[:len(order)-1] { // the last may be cut short
			ls := lines[b]
			switch {
			case strings.HasSuffix(ls[0].m.Text, "ConsumerConfig values: "):
				dumps++
				if len(ls) < 48 {
					t.Fatalf("config dump of %d lines, want >= 48", len(ls))
				}
				for _, x := range ls[1:] {
					if !strings.HasPrefix(x.m.Text, "#011") || !strings.Contains(x.m.Text, " = ") {
						t.Fatalf("dump line %q is no tab-indented key = value", x.m.Text)
					}
				}
			default:
				last := ls[len(ls)-1].m.Text
				if !strings.HasPrefix(last, "#011at ") && !regexp.MustCompile(`^#011\.\.\. \d+ more$`).MatchString(last) {
					t.Fatalf("trace ends in %q", last)
				}
				for _, x := range ls {
					if strings.HasPrefix(x.m.Text, "Caused by: ") {
						causedBy++
					}
				}
				if strings.HasSuffix(last, " more") {
					more++
				}
			}
		}
		if dumps < 5 || causedBy == 0 || more == 0 {
			t.Errorf("%d dumps, %d Caused by, %d traces ending in ... N more", dumps, causedBy, more)
		}
	})
	t.Run("celery", func(t *testing.T) {
		order, lines := blocksOf(kindMessages(t, "celery", 40_000))
		final := regexp.MustCompile(`^[\w.]+(Error|Exception): `)
		var direct, during, both int
		for _, b := range order[:len(order)-1] {
			ls := lines[b]
			if ls[0].m.Text != "Traceback (most recent call last):" {
				t.Fatalf("chain starts with %q", ls[0].m.Text)
			}
			// The final exception, then its indented hint if any.
			end := len(ls) - 1
			if strings.HasPrefix(ls[end].m.Text, "#011") {
				end--
			}
			if !final.MatchString(ls[end].m.Text) {
				t.Fatalf("chain ends in %q", ls[end].m.Text)
			}
			var d, h bool
			for _, x := range ls {
				d = d || x.m.Text == "The above exception was the direct cause of the following exception:"
				h = h || x.m.Text == "During handling of the above exception, another exception occurred:"
			}
			switch {
			case d && h:
				both++
			case d:
				direct++
			case h:
				during++
			}
		}
		if direct == 0 || during == 0 || both == 0 {
			t.Errorf("chains: %d direct cause, %d during handling, %d both; want each", direct, during, both)
		}
	})
	t.Run("systemd", func(t *testing.T) {
		ms := kindMessages(t, "systemd", 20_000)
		header := regexp.MustCompile(`^goroutine \d+ gp=0x[0-9a-f]+ m=(nil|\d+)( mp=0x[0-9a-f]+)? \[[\w. ()]+\]:$`)
		order, lines := blocksOf(ms)
		gor := 0
		for _, b := range order {
			ls := lines[b]
			if ls[0].m.App != "metrics-agent" {
				continue
			}
			gor++
			if !header.MatchString(ls[0].m.Text) {
				t.Fatalf("goroutine header %q", ls[0].m.Text)
			}
		}
		if gor < 100 {
			t.Errorf("%d goroutines, want many", gor)
		}
		for _, want := range []string{"Scheduled restart job, restart counter is at ", "Consumed ", "Failed with result 'exit-code'."} {
			found := false
			for _, x := range ms {
				found = found || strings.Contains(x.m.Text, want)
			}
			if !found {
				t.Errorf("no line with %q", want)
			}
		}
	})
}

// TestPoisonPhases checks that Failed and Accepted come before, during
// and after the poisoning.
func TestPoisonPhases(t *testing.T) {
	const n = 20_000
	seen := map[string][3]int{}
	for i, x := range kindMessages(t, "poison", n) {
		phase := 1 // tenths 0-2, 3-6, 7-9
		switch tenth := i * 10 / n; {
		case tenth < 3:
			phase = 0
		case tenth >= 7:
			phase = 2
		}
		c := seen[x.t.Template]
		c[phase]++
		seen[x.t.Template] = c
	}
	for _, tmpl := range []string{
		"sshd: Failed password for <*> from <*> port <*> ssh2",
		"sshd: Accepted password for <*> from <*> port <*> ssh2",
	} {
		if c := seen[tmpl]; c[0] < 100 || c[1] < 20 || c[2] < 100 {
			t.Errorf("%q per phase %v, want it before, during and after", tmpl, c)
		}
	}
	if c := seen["sshd: <*> password for <*> from <*> port <*> ssh2"]; c[0] != 0 || c[1] < n/4 || c[2] != 0 {
		t.Errorf("poison lines per phase %v, want them only in the middle", c)
	}
}

// TestKubeletPeriod checks that each pod's sync error recurs about every
// ten seconds.
func TestKubeletPeriod(t *testing.T) {
	last := map[string]time.Time{}
	var sum time.Duration
	n := 0
	for _, x := range kindMessages(t, "kubelet", 15_000) {
		i := strings.LastIndex(x.m.Text, `" pod="`)
		if !strings.Contains(x.m.Text, `"Error syncing pod, skipping"`) || i < 0 {
			continue
		}
		k := x.m.Host + x.m.Text[i:]
		if l, ok := last[k]; ok {
			sum += x.m.Time.Sub(l)
			n++
		}
		last[k] = x.m.Time
	}
	if len(last) < 100 {
		t.Fatalf("%d pods, want 40 a node on 3 nodes", len(last))
	}
	if mean := sum / time.Duration(n); mean < 9*time.Second || mean > 20*time.Second {
		t.Errorf("a pod's sync errors %v apart on average, want about 10s", mean)
	}
}

// TestKindsDeterministic checks every kind gives the same messages for
// the same seed and others for another.
func TestKindsDeterministic(t *testing.T) {
	for _, k := range Kinds() {
		t.Run(k, func(t *testing.T) {
			render := func(seed int64) []byte {
				g, err := New(k, seed, 1000)
				if err != nil {
					t.Fatal(err)
				}
				var b []byte
				var m floodgate.Message
				for g.Next(&m) {
					b = Append(b, &m, RFC5424)
				}
				return b
			}
			x, y, z := render(7), render(7), render(8)
			if string(x) != string(y) {
				t.Errorf("same seed gave different floods")
			}
			if string(x) == string(z) {
				t.Errorf("seeds 7 and 8 gave the same flood")
			}
		})
	}
}

// TestCaptureMix checks the capture against its doc: each kind's share,
// 18 hosts, two hours.
func TestCaptureMix(t *testing.T) {
	const n = 30_000
	ms := kindMessages(t, "capture", n)
	if len(ms) != n {
		t.Fatalf("%d messages, want %d", len(ms), n)
	}
	count := map[string]int{}
	hosts := map[string]bool{}
	for _, x := range ms {
		count[x.t.Kind]++
		hosts[x.m.Host] = true
	}
	for _, k := range captureMix {
		got := float64(count[k.kind]) / n
		want := float64(k.perMille) / 1000
		if got < want-0.01 || got > want+0.01 {
			t.Errorf("%s: %.1f%% of messages, doc says %.1f%%", k.kind, 100*got, 100*want)
		}
	}
	if len(count) != len(captureMix) {
		t.Errorf("kinds %v, want the %d of the mix", count, len(captureMix))
	}
	if len(hosts) != 18 {
		t.Errorf("%d hosts, want 18", len(hosts))
	}
	if span := ms[len(ms)-1].m.Time.Sub(ms[0].m.Time); span < 100*time.Minute || span > 150*time.Minute {
		t.Errorf("capture spans %v, want about two hours", span)
	}
}
