package gen

import (
	"regexp"
	"strings"
	"testing"

	"github.com/floodgate/floodgate"
)

// contractMask is contract-check's mask of variable tokens: UUIDs, 0x-hex,
// bare hex runs of six or more that hold a digit, numbers.
var contractMask = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}` +
	`|0x[0-9a-fA-F]+|\b[0-9a-fA-F]*\d[0-9a-fA-F]*\b|\d+`)

// truthKinds are the kinds whose generators must tell the truth.
func truthKinds(t *testing.T, seed int64, n int) []struct {
	name string
	g    Truther
} {
	t.Helper()
	var out []struct {
		name string
		g    Truther
	}
	for _, name := range Kinds() {
		g, err := New(name, seed, n)
		if err != nil {
			t.Fatal(err)
		}
		tg, ok := g.(Truther)
		if !ok {
			continue
		}
		out = append(out, struct {
			name string
			g    Truther
		}{name, tg})
	}
	return out
}

type truthed struct {
	m floodgate.Message
	t Truth
}

func collectTruth(t *testing.T, g Truther) []truthed {
	t.Helper()
	var out []truthed
	var m floodgate.Message
	for g.(Generator).Next(&m) {
		out = append(out, truthed{m, g.Truth()})
	}
	return out
}

// templateRegexp matches the texts a Template stands for: its literal
// parts exactly, each "<*>" one or more characters; the first "<*>" is
// the regexp's group.
func templateRegexp(tmpl string) *regexp.Regexp {
	parts := strings.Split(tmpl, "<*>")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re := `^` + parts[0]
	for i, p := range parts[1:] {
		if i == 0 {
			re += `(.+?)` + p
		} else {
			re += `.+?` + p
		}
	}
	return regexp.MustCompile(re + `$`)
}

// TestTruthConsistent checks every Truth against its message: the text
// is its Template with the places filled, free text has no Template, a
// block's lines are contiguous per source and share their BlockTemplate,
// and no two Templates of single lines are one once numbers, hex values
// and UUIDs are masked (else a relay would be right to merge them).
func TestTruthConsistent(t *testing.T) {
	for _, tc := range truthKinds(t, 9, 2000) {
		t.Run(tc.name, func(t *testing.T) {
			ms := collectTruth(t, tc.g)
			res := map[string]*regexp.Regexp{}
			masked := map[string]string{}
			blockTmpl := map[uint64]string{}
			blockLines := map[uint64]int{}
			var lastBlock = map[string]uint64{} // source -> block of its last line
			for i, x := range ms {
				tr := x.t
				if tr.Free {
					if tr.Template != "" {
						t.Fatalf("message %d is free text with template %q", i, tr.Template)
					}
					continue
				}
				if tr.Template == "" {
					t.Fatalf("message %d %q has no template and is no free text", i, x.m.Text)
				}
				re := res[tr.Template]
				if re == nil {
					re = templateRegexp(tr.Template)
					res[tr.Template] = re
					// Frames of a stack may differ in a line number
					// only: the block tells them apart.
					k := x.m.App + "\x00" + contractMask.ReplaceAllString(tr.Template, "#")
					if other, ok := masked[k]; ok && tr.Block == 0 {
						t.Fatalf("templates %q and %q are one once numbers are masked", other, tr.Template)
					}
					masked[k] = tr.Template
				}
				if !re.MatchString(x.m.App + ": " + x.m.Text) {
					t.Fatalf("message %d %q does not fit its template %q", i, x.m.Text, tr.Template)
				}
				src := x.m.Host + "/" + x.m.App + "/" + x.m.ProcID
				if tr.Block == 0 {
					if tr.BlockTemplate != "" {
						t.Fatalf("message %d: block template %q without a block", i, tr.BlockTemplate)
					}
					lastBlock[src] = 0
					continue
				}
				if bt, ok := blockTmpl[tr.Block]; ok {
					if bt != tr.BlockTemplate {
						t.Fatalf("block %d has templates %q and %q", tr.Block, bt, tr.BlockTemplate)
					}
					if lastBlock[src] != tr.Block {
						t.Fatalf("message %d: block %d of %s resumes after another line of its source", i, tr.Block, src)
					}
				} else if tr.BlockTemplate == "" {
					t.Fatalf("message %d: block %d has no template", i, tr.Block)
				}
				blockTmpl[tr.Block] = tr.BlockTemplate
				blockLines[tr.Block]++
				lastBlock[src] = tr.Block
			}
		})
	}
}

// TestTruthKinds checks that each kind produces what its doc says.
func TestTruthKinds(t *testing.T) {
	type stats struct {
		templates map[string]int
		near      map[string]map[string]int
		free      int
		texts     map[string]bool
		places    map[string]map[string]bool // template -> values of its first place
		firstAt   map[string]int
		n         int
	}
	run := func(t *testing.T, kind string, n int) stats {
		t.Helper()
		g, err := New(kind, 3, n)
		if err != nil {
			t.Fatal(err)
		}
		st := stats{templates: map[string]int{}, near: map[string]map[string]int{}, texts: map[string]bool{},
			places: map[string]map[string]bool{}, firstAt: map[string]int{}}
		res := map[string]*regexp.Regexp{}
		for i, x := range collectTruth(t, g.(Truther)) {
			st.n++
			tr := x.t
			if tr.Free {
				st.free++
				st.texts[x.m.Text] = true
				continue
			}
			if _, ok := st.firstAt[tr.Template]; !ok {
				st.firstAt[tr.Template] = i
			}
			st.templates[tr.Template]++
			if tr.NearMiss != "" {
				if st.near[tr.NearMiss] == nil {
					st.near[tr.NearMiss] = map[string]int{}
				}
				st.near[tr.NearMiss][tr.Template]++
			}
			re := res[tr.Template]
			if re == nil {
				re = templateRegexp(tr.Template)
				res[tr.Template] = re
			}
			if m := re.FindStringSubmatch(x.m.App + ": " + x.m.Text); len(m) > 1 {
				if st.places[tr.Template] == nil {
					st.places[tr.Template] = map[string]bool{}
				}
				st.places[tr.Template][m[1]] = true
			}
		}
		return st
	}
	distinct := func(st stats, tmpl string) int { return len(st.places[tmpl]) }

	t.Run("sshd", func(t *testing.T) {
		st := run(t, "sshd", 20_000)
		if u := distinct(st, "sshd: Invalid user <*> from <*> port <*>"); u < 400 {
			t.Errorf("%d distinct invalid users, want >= 400", u)
		}
		ips := map[string]bool{}
		re := regexp.MustCompile(`rhost=(\S+)`)
		g, _ := New("sshd", 3, 20_000)
		var m floodgate.Message
		for g.Next(&m) {
			if strings.HasPrefix(m.Text, "pam_unix(sshd:auth): authentication failure") {
				ips[re.FindStringSubmatch(m.Text)[1]] = true
			}
		}
		if len(ips) < 400 {
			t.Errorf("%d distinct attacking addresses, want >= 400", len(ips))
		}
		for _, want := range []string{
			"sshd: Failed password for invalid user <*> from <*> port <*> ssh2",
			"sshd: Failed password for <*> from <*> port <*> ssh2",
			"sshd: Accepted publickey for <*> from <*> port <*> ssh2: ED25519 SHA256:<*>",
			"sshd: Accepted password for <*> from <*> port <*> ssh2",
			"sshd: Connection closed by invalid user <*> <*> port <*> [preauth]",
			"sshd: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=<*>  user=<*>",
		} {
			if st.templates[want] == 0 {
				t.Errorf("no %q", want)
			}
		}
	})

	t.Run("nearmiss", func(t *testing.T) {
		const n = 15_000
		st := run(t, "nearmiss", n)
		for group, tmpls := range st.near {
			if len(tmpls) < 2 {
				t.Errorf("group %s has %d templates, want a near miss", group, len(tmpls))
			}
			for tmpl, c := range tmpls {
				if c < 20 {
					t.Errorf("%q turns up %d times, want many", tmpl, c)
				}
				if d := distinct(st, tmpl); d < 10 {
					t.Errorf("%q has %d distinct first places, want them varying", tmpl, d)
				}
			}
		}
		for _, g := range []string{"ssh-password", "check", "link", "carrier", "unit-exit", "unit-result", "disk"} {
			if st.near[g] == nil {
				t.Errorf("no group %s", g)
			}
		}
		for _, late := range []string{"healthd: check <*> on <*>: DEGRADED (<*> ms)", "systemd: <*>: Failed with result 'watchdog'."} {
			at, ok := st.firstAt[late]
			if !ok {
				t.Errorf("late variant %q never turns up", late)
				continue
			}
			if at < n/2 {
				t.Errorf("late variant %q first at message %d, want late", late, at)
			}
		}
	})

	t.Run("chat", func(t *testing.T) {
		st := run(t, "chat", 5000)
		if st.free != st.n {
			t.Errorf("%d of %d chat lines free text, want all", st.free, st.n)
		}
		if len(st.texts) < st.n*99/100 {
			t.Errorf("%d distinct texts in %d lines, want nearly all", len(st.texts), st.n)
		}
	})
}
