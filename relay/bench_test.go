package relay

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate/bench/gen"
	"github.com/floodgate/floodgate/config"
)

// BenchmarkTCPIngestToFile measures the whole relay: one TCP connection,
// octet-counted, framing, parsing, dedupe, budgets and file output, with
// the incident flood. It reports messages per second from the first byte
// sent until every message has been through the stages.
func BenchmarkTCPIngestToFile(b *testing.B) {
	for _, tt := range []struct {
		name   string
		dedupe bool
		g      func(n int) gen.Generator
	}{
		{name: "incident", dedupe: true, g: func(n int) gen.Generator {
			c := gen.DefaultIncident()
			c.Messages = n
			return gen.NewIncident(c)
		}},
		{name: "unique-no-dedupe", dedupe: false, g: func(n int) gen.Generator { return gen.NewUnique(1, n) }},
		// Free text that shares no template (a chat bridge), through
		// dedupe: every line written.
		{name: "chat", dedupe: true, g: func(n int) gen.Generator { g, _ := gen.New("chat", 1, n); return g }},
	} {
		// live: with the live table (a metrics address), as `run` has by
		// default, or without; checkpoint: with a state_dir.
		for _, v := range []struct {
			suffix           string
			live, checkpoint bool
		}{{"", false, false}, {"-live", true, false}, {"-checkpoint", false, true}} {
			name, live := tt.name+v.suffix, v.live
			cfg := ingestConfig(b, tt.dedupe, live)
			if v.checkpoint {
				cfg.Relay.StateDir = b.TempDir()
			}
			b.Run(name, func(b *testing.B) {
				const n = 200_000
				var capture bytes.Buffer
				if _, _, err := gen.Write(&capture, tt.g(n), gen.OctetCounted); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(capture.Len()))
				b.ReportAllocs()
				var total time.Duration
				for b.Loop() {
					total += ingest(b, cfg, capture.Bytes(), n)
				}
				b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "msgs/s")
			})
		}
	}
}

func ingestConfig(b *testing.B, dedupe, live bool) *config.Config {
	b.Helper()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(`
[[input]]
type = "tcp"
address = "127.0.0.1:0"

[[output]]
type = "file"
path = %q

[dedupe]
enabled = %t

[ratelimit]
enabled = %t

[metrics]
address = %q
`, filepath.Join(b.TempDir(), "{host}", "{app}.log"), dedupe, dedupe, map[bool]string{true: "127.0.0.1:0"}[live])))
	if err != nil {
		b.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	return cfg
}

func ingest(b *testing.B, cfg *config.Config, capture []byte, n int64) time.Duration {
	b.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := NewServer(cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := net.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	w := bufio.NewWriterSize(c, 256<<10)
	if _, err := w.Write(capture); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	c.Close()
	for {
		if m, _ := s.pipe.Stats(); m >= n {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Processed means through the stages: Shutdown drains the shards and
	// flushes the files.
	if err := s.Shutdown(b.Context()); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
