package relay

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate/config"
)

// TestPeerBudgetThroughTheRelay sends, over UDP, 40 messages from
// 127.0.0.2 each under a new host name, and 40 from 127.0.0.3 under one:
// keyed on (host, app) the first sender gets a fresh burst per name and
// writes all 40; keyed on peer both get one burst, spread over shards or
// not, and every message is still accounted for.
func TestPeerBudgetThroughTheRelay(t *testing.T) {
	tests := []struct {
		name        string
		key         string
		wantEvilMax int // messages of the name-varying sender written verbatim
		wantEvilMin int
	}{
		{name: "host and app key", key: `["host", "app"]`, wantEvilMin: 40, wantEvilMax: 40},
		{name: "peer key", key: `["peer"]`, wantEvilMin: 1, wantEvilMax: 12},
		{name: "peer and app key", key: `["peer", "app"]`, wantEvilMin: 1, wantEvilMax: 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.log")
			cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(`
[[input]]
type = "udp"
address = "127.0.0.1:0"

[[output]]
type = "file"
path = %q
format = "json"

[dedupe]
enabled = false

[ratelimit]
rate = "1"
burst = "1KiB"
key = %s

[relay]
shards = 4

[metrics]
address = ""
`, out, tt.key)))
			if err == nil {
				err = cfg.Validate()
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			to := s.Addrs()[0].(*net.UDPAddr)
			pad := strings.Repeat("x", 60)
			for _, src := range []struct {
				ip   string
				host func(i int) string
			}{
				{"127.0.0.2", func(i int) string { return fmt.Sprintf("evil-%d", i) }},
				{"127.0.0.3", func(int) string { return "good" }},
			} {
				c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src.ip)}, to)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 40 {
					fmt.Fprintf(c, "<14>Nov 29 10:00:00 %s app[1]: message %d %s", src.host(i), i, pad)
				}
				c.Close()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			verbatim, total := map[string]int64{}, map[string]int64{}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var rec struct {
					Host    string
					Event   string
					Summary *struct{ Count int64 }
				}
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatalf("%q: %v", sc.Text(), err)
				}
				if rec.Event != "" {
					continue
				}
				who := "good"
				if strings.HasPrefix(rec.Host, "evil-") {
					who = "evil"
				}
				if rec.Summary != nil {
					total[who] += rec.Summary.Count
				} else {
					verbatim[who]++
					total[who]++
				}
			}
			if total["evil"] != 40 || total["good"] != 40 {
				t.Fatalf("accounted for %v, want 40 of each sender", total)
			}
			if v := verbatim["evil"]; v < int64(tt.wantEvilMin) || v > int64(tt.wantEvilMax) {
				t.Errorf("%d of the name-varying sender's messages written, want %d to %d", v, tt.wantEvilMin, tt.wantEvilMax)
			}
			if v := verbatim["good"]; v < 1 || v > 12 {
				t.Errorf("%d of the one-name sender's messages written, want one burst's worth", v)
			}
		})
	}
}
