package relay

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/floodgate/floodgate/config"
)

// A plausible octet-counted frame over max_message_size is skipped, and
// counted: a suppressed summary of reason oversize under its source when
// its header can be read from its first bytes, else under host and app
// "-"; the frames after it are delivered, and every frame received is
// accounted for exactly.
func TestOversizeFrameIsCountedUnderItsSource(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "capture.log")
	var in strings.Builder
	frame := func(msg string) { fmt.Fprintf(&in, "%d %s", len(msg), msg) }
	const valid = 1000
	for i := range valid / 2 {
		frame(fmt.Sprintf("<14>1 2026-12-08T01:00:00Z web1 api - - - request %d served", i))
	}
	big := "<11>1 2026-12-08T01:00:01Z bighost bigapp 77 - - " + strings.Repeat("x", 10<<20)
	frame(big) // 10 MiB, a plausible frame with a 1 MiB maximum
	for i := range valid / 2 {
		frame(fmt.Sprintf("<14>1 2026-12-08T01:00:02Z web1 api - - - request %d served", valid/2+i))
	}
	frame("<" + strings.Repeat("?", 2<<20)) // no header to read
	frame("<14>1 2026-12-08T01:00:03Z web1 api - - - the last one")
	if err := os.WriteFile(capture, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	cfg := config.Default()
	cfg.Outputs = []config.Output{{Type: "file", Path: out, Format: "json"}}
	rep, err := Replay(context.Background(), cfg, ReplayOptions{
		Files: []string{capture}, Output: out, MaxMessageSize: 1 << 20, Labels: io.Discard,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	const received = valid + 3
	if rep.Messages != received {
		t.Errorf("replay read %d messages, want %d", rep.Messages, received)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var accounted int64
	oversize := map[string]int64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	last := false
	for sc.Scan() {
		var r struct {
			Host, App, Msg string
			Summary        *struct {
				Kind   string
				Count  int64
				Reason string
				Bytes  int64
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if len(sc.Bytes()) > 64<<10 {
			t.Errorf("a record of %d bytes: the oversize frame was written", len(sc.Bytes()))
		}
		switch {
		case r.App == "floodgate":
		case r.Summary == nil:
			accounted++
			last = last || r.Msg == "the last one"
		default:
			accounted += r.Summary.Count
			if r.Summary.Reason == "oversize" {
				if r.Summary.Kind != "suppressed" {
					t.Errorf("oversize summary of kind %q", r.Summary.Kind)
				}
				oversize[r.Host+"/"+r.App] += r.Summary.Count
				if r.Host == "bighost" && r.Summary.Bytes != int64(len(big)) {
					t.Errorf("oversize summary says %d bytes, want %d", r.Summary.Bytes, len(big))
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if accounted != received {
		t.Errorf("%d messages accounted for, want %d", accounted, received)
	}
	if oversize["bighost/bigapp"] != 1 || oversize["-/-"] != 1 || len(oversize) != 2 {
		t.Errorf("oversize summaries %v, want one for bighost/bigapp and one for -/-", oversize)
	}
	if !last {
		t.Error("the frame after the oversize ones was not written")
	}
}
