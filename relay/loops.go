package relay

import (
	"log/slog"
	"sort"
	"sync"

	"github.com/floodgate/floodgate/dedupe"
)

// loopTable keeps the restart loops the dedupe engines recognised, for
// the metrics and the alarm log. Shards update it concurrently.
type loopTable struct {
	log   *slog.Logger
	mu    sync.Mutex
	loops map[[2]string]dedupe.RestartLoop
}

// maxLoops bounds the table: a host that restarts thousands of distinct
// units is already alarm enough.
const maxLoops = 1000

func newLoopTable(log *slog.Logger) *loopTable {
	return &loopTable{log: log, loops: map[[2]string]dedupe.RestartLoop{}}
}

// update is dedupe's OnRestartLoop callback.
func (t *loopTable) update(l dedupe.RestartLoop) {
	k := [2]string{l.Host, l.Unit}
	t.mu.Lock()
	_, known := t.loops[k]
	if known || len(t.loops) < maxLoops {
		t.loops[k] = l
	}
	t.mu.Unlock()
	if !known {
		// Once per loop: this is the alarm the incident lacked.
		t.log.Warn("restart loop", "host", l.Host, "unit", l.Unit, "restarts", l.Restarts, "exit_status", l.ExitStatus)
	}
}

func (t *loopTable) snapshot() []dedupe.RestartLoop {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]dedupe.RestartLoop, 0, len(t.loops))
	for _, l := range t.loops {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Unit < out[j].Unit
	})
	return out
}
