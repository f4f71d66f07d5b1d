package relay

import (
	"reflect"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/config"
	"github.com/floodgate/floodgate/dedupe"
	"github.com/floodgate/floodgate/ratelimit"
	"github.com/floodgate/floodgate/relay/output"
)

// Each stage owns its defaults; the built-in configuration, converted as
// the relay converts it, must be exactly those.
func TestConfigDefaultIsEachStagesDefault(t *testing.T) {
	cfg := config.Default()
	p := newPipeline(pipelineOptions{Chain: func(int) floodgate.Handler {
		return floodgate.HandlerFunc(func(time.Time, *floodgate.Record) {})
	}})
	defer p.Close()
	tests := []struct {
		name      string
		got, want any
	}{
		{name: "dedupe", got: dedupeOptions(cfg.Dedupe, 1), want: dedupe.DefaultOptions()},
		{name: "ratelimit", got: ratelimitOptions(cfg.RateLimit, 1), want: ratelimit.DefaultOptions()},
		{name: "output", got: withPath(outputOptions(cfg.Outputs[0]), ""), want: output.DefaultOptions()},
		{name: "relay queue", got: cap(p.shards[0].in), want: cfg.Relay.Queue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("config.Default() gives\n%+v\nthe stage's default is\n%+v", tt.got, tt.want)
			}
		})
	}
}

func withPath(o output.Options, path string) output.Options {
	o.Path = path
	return o
}
