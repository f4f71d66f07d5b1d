package relay

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/relay/output"
	"github.com/floodgate/floodgate/relay/output/forward"
)

// core is what Server and Replay both run: the outputs, each shard's chain
// of stages over them, and the pipeline that feeds the shards.
type core struct {
	// mu guards outs and stats, which a reload replaces.
	mu      sync.Mutex
	outs    []output.Output
	stats   []*output.Stats
	builder *chainBuilder
	pipe    *pipeline
}

// coreOptions say how Server and Replay differ.
type coreOptions struct {
	// outputs to open, in order.
	outputs []output.Options
	shards  int
	tick    time.Duration
	clock   clockKind
	// local, loops and onOutput serve the live relay only; they may be
	// nil.
	local    map[string]string
	loops    *loopTable
	onOutput func(name string, o output.Output, st *output.Stats)
	// observer, when set, numbers the messages and is told each one's
	// fate (replay).
	observer floodgate.Observer
	// head, when set, is the first stage of every chain (replay's tally).
	head floodgate.Stage
	// onFlood, when set, is told of every flood as it starts and ends.
	onFlood func(Flood)
	// live, when set, is fed by every shard (the live relay's views).
	live *liveTable
	// checkpoint, when set, keeps the shards' pending counts on disk
	// (the live relay with a state_dir).
	checkpoint *checkpointer
}

// newCore opens the outputs and starts the pipeline over them. On an error
// it closes what it opened.
func newCore(cfg *config.Config, o coreOptions, log *slog.Logger) (*core, error) {
	c := &core{}
	for i, oo := range o.outputs {
		st := &output.Stats{}
		out, err := openOutput(cfg, i, oo, log.With("component", "output", "output", i), st)
		if err != nil {
			_ = c.closeOutputs() // the open error is the one to report
			return nil, fmt.Errorf("open output %d: %w", i, err)
		}
		c.outs = append(c.outs, out)
		c.stats = append(c.stats, st)
		if o.onOutput != nil {
			o.onOutput(fmt.Sprint(i), out, st)
		}
	}
	c.builder = newChainBuilder(cfg, o.shards, c.outs, o.loops)
	c.builder.observer = o.observer
	c.builder.head = o.head
	c.builder.onFlood = o.onFlood
	c.builder.live = o.live
	c.builder.checkpoint = o.checkpoint
	c.pipe = newPipeline(pipelineOptions{
		number:    o.observer != nil || o.live != nil, // the live table tells a fate told again by its number
		shardBy:   shardBy(cfg),
		LocalHost: o.local,
		Shards:    o.shards,
		Queue:     cfg.Relay.Queue,
		Tick:      o.tick,
		clock:     o.clock,
		Chain:     c.builder.chain,
		hooks:     c.builder.hooks,
		prepare:   cfg.Dedupe.Enabled,
	})
	return c, nil
}

// openOutput opens output i: a network output (forward, kafka) from its
// config section, any other with package output.
func openOutput(cfg *config.Config, i int, oo output.Options, log *slog.Logger, st *output.Stats) (output.Output, error) {
	if forward.Handles(oo.Type) && i < len(cfg.Outputs) {
		return forward.New(cfg.Outputs[i].ForwardOptions(), log, st)
	}
	return output.New(oo, log, st)
}

// flush writes every output's buffers out now.
func (c *core) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, o := range c.outs {
		errs = append(errs, o.Flush())
	}
	return errors.Join(errs...)
}

// closeOutputs closes every output and returns their errors joined.
func (c *core) closeOutputs() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, o := range c.outs {
		errs = append(errs, o.Close())
	}
	return errors.Join(errs...)
}

// outputOptions converts an [[output]] section into the output's Options.
func outputOptions(oc config.Output) output.Options {
	space := func(s config.Space) output.Space {
		return output.Space{Bytes: int64(s.Bytes), Percent: s.Percent}
	}
	return output.Options{
		Type:          oc.Type,
		Path:          oc.Path,
		Format:        oc.Format,
		RawControl:    oc.RawControl(),
		MaxSize:       int64(oc.MaxSize),
		MaxFiles:      oc.MaxFiles,
		Compress:      oc.Compress,
		MaxTotal:      int64(oc.MaxTotal),
		MinFree:       space(oc.MinFree),
		HardMinFree:   space(oc.HardMinFree),
		MaxOpenFiles:  oc.MaxOpenFiles,
		MaxBuffer:     int(oc.MaxBuffer),
		MaxFilesTotal: oc.MaxFilesTotal,
		FileIdle:      oc.FileIdle.D(),
	}
}

// configuredOutputs returns the Options of every configured output.
func configuredOutputs(cfg *config.Config) []output.Options {
	var os []output.Options
	for _, oc := range cfg.Outputs {
		os = append(os, outputOptions(oc))
	}
	return os
}

// replayOutput returns the one destination of `replay -o`: path "-" is
// stdout, anything else a file, in the first configured output's format.
// One destination means one whole file: what a replay wrote is never
// rotated away or pruned under max_total.
func replayOutput(cfg *config.Config, path string, stdout io.Writer) output.Options {
	o := output.DefaultOptions()
	if len(cfg.Outputs) > 0 {
		o = outputOptions(cfg.Outputs[0])
	}
	if path == "-" {
		return output.Options{Type: "stdout", Format: o.Format, RawControl: o.RawControl, MaxBuffer: o.MaxBuffer, Writer: stdout}
	}
	o.Type, o.Path = "file", path
	o.MaxSize, o.MaxTotal = 0, 0
	return o
}
