package relay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/relay/input"
	"github.com/floodgate/floodgate/relay/output"
)

// Reload is what SIGHUP does, as in syslog-ng: it writes every output's
// buffers out (what logrotate's postrotate asks for; moved files are
// reopened on the next write), reloads the tls inputs' certificates
// (ReloadCertificates), then re-reads and validates the config file at
// path and applies it. A config that does not load, or cannot be
// applied, leaves the running one as it was: the error says why, with
// FILE:LINE where the file is wrong, is logged and counted in
// floodgate_reloads_total{result="error"}. With path "" (the built-in
// defaults) there is nothing to re-read.
//
// Applying keeps what did not change: an input whose keys are all as they
// were keeps its socket and its connections; an output likewise keeps its
// buffers and files; the dedupe patterns and the budget buckets stay
// where their section did not change. A changed dedupe or ratelimit
// section first has its stages ticked final in every shard, which writes
// their pending summaries out, then new ones start. Removed outputs are
// flushed and closed once no shard writes to them; removed inputs are
// drained as at shutdown, so nothing they read is lost. The metrics and
// relay sections (but drain_timeout) are read at start only: a change
// there is logged as needing a restart and the running values stay.
//
// Reload must not be called concurrently with itself, Shutdown or Close.
func (s *Server) Reload(path string) error {
	if err := s.Flush(); err != nil {
		s.log.Warn("flush outputs", "err", err)
	}
	// Each tls input logs and counts certificates that do not load, and
	// keeps the ones it has; inputs the new config changes load theirs
	// afresh.
	_ = s.ReloadCertificates()
	if path == "" {
		s.log.Info("SIGHUP: buffers written out; no config file to re-read (running on the built-in defaults)")
		return nil
	}
	err := s.reload(path)
	s.metrics.reloaded(err == nil)
	var pe *partialError
	switch {
	case errors.As(err, &pe):
		s.log.Error("reload failed in part: an input could not be bound where the one it replaces was; the rest of the config runs", "config", path, "err", err.Error())
	case err != nil:
		s.log.Error("reload failed: running on the old config", "config", path, "err", err.Error())
	}
	return err
}

// partialError is a reload applied but for inputs that could not be
// bound once those they replace were gone.
type partialError struct{ err error }

func (e *partialError) Error() string { return e.err.Error() }
func (e *partialError) Unwrap() error { return e.err }

func (s *Server) reload(path string) error {
	next, err := config.Load(path)
	if err != nil {
		var es config.Errors
		var pe *fs.PathError
		switch {
		case errors.As(err, &es):
			return errors.New(es.Located(path))
		case errors.As(err, &pe):
			return fmt.Errorf("%s: %v", path, pe.Err)
		}
		return err
	}
	ch := s.cfg.Diff(next)
	if ch.Metrics {
		s.log.Warn("reload: the [metrics] section needs restart to change; its running values stay", "config", path)
		next.Metrics = s.cfg.Metrics
	}
	if ch.Relay {
		keep := s.cfg.Relay
		keep.DrainTimeout = next.Relay.DrainTimeout
		if keep != next.Relay {
			s.log.Warn("reload: relay.shards, relay.queue and relay.flush_interval need restart to change; their running values stay", "config", path)
		}
		next.Relay = keep
	}
	if ch.RateLimit && shardKind(s.cfg) != shardKind(next) {
		return fmt.Errorf("%s:%d: ratelimit.key: a key that picks the shards otherwise (%s, was %s) needs restart",
			path, next.Line("ratelimit.key"), shardKind(next), shardKind(s.cfg))
	}
	err = s.apply(next, ch)
	var pe *partialError
	if err != nil && !errors.As(err, &pe) {
		return err
	}
	// What the old stages emitted at their final tick goes out now.
	if err := s.Flush(); err != nil {
		s.log.Warn("flush outputs", "err", err)
	}
	if err != nil {
		return err
	}
	s.log.Info("reloaded", "config", path, "changed", strings.Join(ch.Names(), ","))
	return nil
}

// shardKind names what picks a message's shard under cfg (shardBy).
func shardKind(cfg *config.Config) string {
	if !cfg.RateLimit.Enabled {
		return "host,app"
	}
	host, app, peer := false, false, false
	for _, k := range cfg.RateLimit.Key {
		host = host || k == "host"
		app = app || k == "app"
		peer = peer || k == "peer"
	}
	switch {
	case peer:
		return "peer"
	case host && app:
		return "host,app"
	case host:
		return "host"
	case app:
		return "app"
	}
	return "none"
}

// match pairs each of next with an equal one of cur not paired yet:
// m[j] is the index in cur of next[j]'s, or -1.
func match[T any](cur, next []T, eq func(T, T) bool) []int {
	m := make([]int, len(next))
	used := make([]bool, len(cur))
	for j, y := range next {
		m[j] = -1
		for i, x := range cur {
			if !used[i] && eq(x, y) {
				used[i], m[j] = true, i
				break
			}
		}
	}
	return m
}

// unused returns the indexes in [0, n) that m does not name.
func unused(n int, m []int) []int {
	used := make([]bool, n)
	for _, i := range m {
		if i >= 0 {
			used[i] = true
		}
	}
	var u []int
	for i, ok := range used {
		if !ok {
			u = append(u, i)
		}
	}
	return u
}

// apply makes next the running config. What can fail (opening outputs,
// binding inputs on new addresses) comes first and is undone on an error;
// then every shard swaps its chain at a safe point, and what is gone is
// closed.
func (s *Server) apply(next *config.Config, ch config.Changes) error {
	cur := s.cfg
	log := s.log

	// Outputs: keep the equal ones, open the new ones.
	outMatch := match(cur.Outputs, next.Outputs, config.Output.Equal)
	outs := make([]output.Output, len(next.Outputs))
	stats := make([]*output.Stats, len(next.Outputs))
	var opened []output.Output
	undoOutputs := func() {
		for _, o := range opened {
			_ = o.Close() // never written to: nothing to lose
		}
	}
	s.core.mu.Lock()
	curOuts, curStats := s.outs, s.stats
	s.core.mu.Unlock()
	for j, i := range outMatch {
		if i >= 0 {
			outs[j], stats[j] = curOuts[i], curStats[i]
			continue
		}
		st := &output.Stats{}
		o, err := openOutput(next, j, outputOptions(next.Outputs[j]), log.With("component", "output", "output", j), st)
		if err != nil {
			undoOutputs()
			return fmt.Errorf("open output[%d]: %w", j, err)
		}
		outs[j], stats[j] = o, st
		opened = append(opened, o)
	}
	removedOuts := unused(len(curOuts), outMatch)

	// Inputs: keep the equal ones; bind the new ones now, but those that
	// take the address of one going away, which must go first.
	inMatch := match(cur.Inputs, next.Inputs, config.Input.Equal)
	removedIns := unused(len(cur.Inputs), inMatch)
	s.pipe.setLocal(mergeLocal(localHosts(cur.Inputs), localHosts(next.Inputs)))
	ls := make([]*input.Listener, len(next.Inputs))
	inStats := make([]*input.Stats, len(next.Inputs))
	var bound []*input.Listener
	var later []int
	for j, i := range inMatch {
		if i >= 0 {
			ls[j], inStats[j] = s.listeners[i], s.inputStats(cur.Inputs[i].Name)
			continue
		}
		inStats[j] = s.inputStats(next.Inputs[j].Name)
		if s.takesAddress(next.Inputs[j], cur.Inputs, removedIns) {
			later = append(later, j)
			continue
		}
		l, err := s.listen(next.Inputs[j], inStats[j])
		if err != nil {
			for _, l := range bound {
				_ = l.Close() // what it read is still delivered; its error adds nothing
			}
			undoOutputs()
			return fmt.Errorf("input[%d] (%s): %w", j, next.Inputs[j].Name, err)
		}
		ls[j] = l
		bound = append(bound, l)
	}

	// The point of no return: every shard swaps its chain.
	s.swapChains(next, ch, outs)
	s.core.mu.Lock()
	s.outs, s.stats = outs, stats
	s.core.mu.Unlock()
	s.metrics.setOutputs(outs, stats)
	for _, i := range removedOuts {
		if err := curOuts[i].Close(); err != nil {
			log.Error("close removed output", "output", i, "err", err)
		}
		log.Info("closed removed output", "output", i, "records", curStats[i].Records.Load(), "lost", curStats[i].Lost.Load())
	}

	// Drain the inputs that went away, then bind those that waited for
	// their address.
	old := s.listeners
	s.setListeners(ls, next, inStats)
	s.drain(old, removedIns, cur, next.Relay.DrainTimeout.D())
	var errs []error
	for _, j := range later {
		l, err := s.listen(next.Inputs[j], inStats[j])
		if err != nil {
			// The old input at that address is gone: the error is the
			// reload's, and the rest of next runs.
			errs = append(errs, fmt.Errorf("input[%d] (%s): %w", j, next.Inputs[j].Name, err))
			continue
		}
		ls[j] = l
	}
	if len(later) > 0 {
		// Leave out what could not be bound, so that listeners[i] serves
		// cfg.Inputs[i].
		var ins []config.Input
		var kept []*input.Listener
		var kst []*input.Stats
		for j, l := range ls {
			if l != nil {
				ins, kept, kst = append(ins, next.Inputs[j]), append(kept, l), append(kst, inStats[j])
			}
		}
		next.Inputs = ins
		s.setListeners(kept, next, kst)
	}
	s.pipe.setLocal(localHosts(next.Inputs))
	s.cfg = next
	if len(errs) > 0 {
		return &partialError{errors.Join(errs...)}
	}
	return nil
}

// mergeLocal returns the entries of a and b, for the inputs of the old
// and the new config while both deliver.
func mergeLocal(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// inputStats returns the counters of the input named name, the running
// one's when there is one, so that its series carry on across a reload.
func (s *Server) inputStats(name string) *input.Stats {
	for i, ic := range s.cfg.Inputs {
		if ic.Name == name && i < len(s.inStats) {
			return s.inStats[i]
		}
	}
	return &input.Stats{}
}

// takesAddress reports whether in binds what one of the removed inputs
// of cur holds.
func (s *Server) takesAddress(in config.Input, cur []config.Input, removed []int) bool {
	for _, i := range removed {
		o := cur[i]
		if o.Type == "stdin" && in.Type == "stdin" {
			return true
		}
		if o.Address == in.Address && streamOrDatagram(o.Type) == streamOrDatagram(in.Type) {
			return true
		}
		if (o.Type == "unix" || o.Type == "unixgram") && (in.Type == "unix" || in.Type == "unixgram") && o.Address == in.Address {
			return true
		}
	}
	return false
}

func streamOrDatagram(typ string) string {
	switch typ {
	case "udp", "unixgram":
		return "datagram"
	}
	return "stream"
}

// setListeners makes ls the inputs served (listeners[i] serving
// next.Inputs[i]) and wakes Done to follow them.
func (s *Server) setListeners(ls []*input.Listener, next *config.Config, st []*input.Stats) {
	var ins []namedInput
	var live []*input.Listener
	var lst []*input.Stats
	for i, l := range ls {
		if l != nil { // nil: bound once the input at its address is gone
			ins = append(ins, namedInput{name: next.Inputs[i].Name, stats: st[i], udpPort: udpPort(l.Addr())})
			live, lst = append(live, l), append(lst, st[i])
		}
	}
	s.mu.Lock()
	s.listeners = live
	s.inStats = lst
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.metrics.setInputs(ins)
}

// drain shuts the removed inputs down as at shutdown: they stop
// accepting, and what their clients send until they close, go quiet or
// the drain timeout passes is read and delivered.
func (s *Server) drain(old []*input.Listener, removed []int, cur *config.Config, timeout time.Duration) {
	if len(removed) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, i := range removed {
		if err := old[i].Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			s.log.Warn("stop removed input", "input", cur.Inputs[i].Name, "err", err)
		}
		s.log.Info("stopped listening", "input", cur.Inputs[i].Name)
	}
}

// swapChains makes every shard run next's chain over outs: where dedupe
// or ratelimit changed, the old stage is ticked final first (its pending
// summaries go to the outputs it wrote to), then a new one starts; the
// others keep their state.
func (s *Server) swapChains(next *config.Config, ch config.Changes, outs []output.Output) {
	b := s.builder
	hadDisk := b.disk != nil
	hasDisk := b.setGuards(outs)
	budgets := ch.RateLimit || hadDisk != hasDisk
	var disk func() floodgate.DiskLevel
	if hasDisk {
		disk = b.diskLevel
	}
	global := b.global
	if budgets {
		global = newGlobal(next.RateLimit)
	}
	s.pipe.control(func(i int) {
		sc := b.chains[i]
		now := time.Now()
		if ch.Dedupe {
			sc.toDedupe.tickFinal(now, sc.toBudgets)
			sc.toDedupe.next = b.dedupePart(next.Dedupe, sc)
		}
		if budgets {
			sc.toBudgets.next.Tick(now, true) // the sink's Tick publishes the counts
			sc.toBudgets.next = b.budgetPart(next.RateLimit, disk, global, sc)
		}
		sc.sink.outs = outs
	})
	b.cfg, b.outs, b.disk, b.global = next, outs, disk, global
}
