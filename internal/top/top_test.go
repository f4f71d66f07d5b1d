package top

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/floodgate/floodgate/relay"
)

func TestSparkline(t *testing.T) {
	tests := []struct {
		name   string
		values []uint64
		width  int
		want   string
	}{
		{name: "empty", values: nil, width: 4, want: ""},
		{name: "silent", values: []uint64{0, 0, 0, 0}, width: 4, want: "    "},
		{name: "rising", values: []uint64{0, 1, 2, 4, 8}, width: 5, want: " ▁▂▄█"},
		{name: "two per column, the larger shown", values: []uint64{8, 0, 0, 4}, width: 2, want: "█▄"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sparkline(tt.values, tt.width); got != tt.want {
				t.Errorf("Sparkline(%v, %d) = %q, want %q", tt.values, tt.width, got, tt.want)
			}
		})
	}
}

// fakeRelay serves canned views, asking for token when it is set.
func fakeRelay(t *testing.T, token string) *httptest.Server {
	t.Helper()
	h := relay.LiveHeader{
		Total:        relay.Counts{Messages: 1_000_000, Bytes: 200 << 20, Folded: 990_000},
		RestartLoops: []relay.LoopView{{Host: "master-1", Unit: "protokube.service", Restarts: 49, ExitStatus: "125/n/a"}},
		Disks:        []relay.DiskView{{Output: "0", Level: "low"}},
	}
	src := relay.SourcesView{LiveHeader: h, Sources: []relay.SourceView{
		{Host: "master-1", App: "dockerd", Counts: relay.Counts{Messages: 990_000, Folded: 989_000, Rate10s: relay.Rate{Bytes: 50 << 20, Messages: 200_000}, Spark: []uint64{1, 2, 3, 50 << 20}}},
		{Host: "master-1", App: "sshd", Counts: relay.Counts{Messages: 10, Written: 10, Rate10s: relay.Rate{Bytes: 100, Messages: 1}}},
	}}
	pat := relay.PatternsView{LiveHeader: h, Patterns: []relay.PatternView{
		{FP: "a0860c4c", Kind: "block", Template: "goroutine # [runnable]: (a block of 12 lines, goroutine dump)", Host: "master-1", App: "dockerd"},
	}}
	mux := http.NewServeMux()
	serve := func(v any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, "a bearer token is required", http.StatusUnauthorized)
				return
			}
			_ = json.NewEncoder(w).Encode(v)
		}
	}
	mux.HandleFunc("/api/v1/sources", serve(src))
	mux.HandleFunc("/api/v1/patterns", serve(pat))
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestOnce(t *testing.T) {
	s := fakeRelay(t, "s3cret")
	var out bytes.Buffer
	if err := Once(context.Background(), Options{Addr: s.URL, Token: "s3cret"}, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"RESTART LOOP  master-1  protokube.service  49 restarts", "disk 0", "low", "a0860c4c", "goroutine # [runnable]"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	dockerd, sshd := strings.Index(text, "dockerd"), strings.Index(text, "sshd")
	if dockerd < 0 || sshd < dockerd {
		t.Errorf("dockerd does not come before sshd:\n%s", text)
	}
	if strings.Contains(text, "\x1b[") {
		t.Errorf("plain output has escape codes:\n%q", text)
	}

	err := Once(context.Background(), Options{Addr: s.URL}, &out)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without the token: %v, want a 401", err)
	}
}

func TestModelKeys(t *testing.T) {
	s := fakeRelay(t, "")
	m := newModel(context.Background(), Options{Addr: s.URL})
	snap, err := m.c.fetch(context.Background(), 10, "bytes")
	if err != nil {
		t.Fatal(err)
	}
	m.Update(snapMsg{s: snap})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 30})
	if v := m.View(); !strings.Contains(v, "dockerd") || !strings.Contains(v, "protokube.service") || strings.Contains(v, "a0860c4c") {
		t.Errorf("sources view:\n%s", v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyTab})
	if v := m.View(); !strings.Contains(v, "a0860c4c") {
		t.Errorf("tab does not show the patterns:\n%s", v)
	}
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("s")})
	if Sorts[m.sort] != "messages" || cmd == nil {
		t.Errorf("s: sort %q, fetch %v; want messages and a fetch", Sorts[m.sort], cmd != nil)
	}
	_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	if cmd == nil {
		t.Fatal("q: no command")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Errorf("q does not quit")
	}
}
