// Package prometheus_test checks floodgate's alerting rules and Grafana
// dashboard: they parse, they name only metrics floodgate serves, and the
// rules pass their promtool unit tests.
package prometheus_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"
)

// pending are metric names another part of the relay is adding: the
// busiest sources' series.
var pending = []string{"floodgate_source_received_bytes_total"}

// served returns the metric names relay/metrics.go defines.
func served(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../../relay/metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`"(floodgate_[a-z_]+)"`).FindAllSubmatch(src, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) < 10 {
		t.Fatalf("found only %v in relay/metrics.go", names)
	}
	return append(names, pending...)
}

func TestRulesAndDashboardNameServedMetrics(t *testing.T) {
	known := served(t)
	for _, file := range []string{"alerts.yml", "dashboard.json"} {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			used := regexp.MustCompile(`floodgate_[a-z_]+`).FindAllString(string(b), -1)
			if len(used) == 0 {
				t.Fatal("names no metric")
			}
			for _, name := range used {
				if !slices.Contains(known, name) {
					t.Errorf("%s names %s, which floodgate does not serve", file, name)
				}
			}
		})
	}
}

func TestDashboardIsGrafanaJSON(t *testing.T) {
	b, err := os.ReadFile("dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string
		UID    string
		Panels []struct {
			ID      int
			Type    string
			Title   string
			GridPos struct{ X, Y, W, H int }
			Targets []struct {
				RefID string
				Expr  string
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 5 {
		t.Fatalf("dashboard: title %q, uid %q, %d panels", d.Title, d.UID, len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Title == "" || p.Type == "" || p.GridPos.W == 0 || p.GridPos.H == 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %d %q: type %q, grid %+v", p.ID, p.Title, p.Type, p.GridPos)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" {
				t.Errorf("panel %q: query %+v", p.Title, q)
			}
		}
	}
}

// TestRulesWithPromtool runs `promtool check rules` and `promtool test
// rules` (Debian's prometheus package).
func TestRulesWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool missing (Debian package prometheus): alert rule tests skipped")
	}
	tests := []struct {
		name string
		args []string
	}{
		{name: "check", args: []string{"check", "rules", "alerts.yml"}},
		{name: "unit tests", args: []string{"test", "rules", "alerts_test.yml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(promtool, tt.args...).CombinedOutput()
			if err != nil {
				t.Errorf("promtool %v: %v\n%s", tt.args, err, out)
			}
		})
	}
}
