package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	base := `
[[input]]
type = "tcp"
address = "127.0.0.1:5514"

[[input]]
type = "udp"
address = "127.0.0.1:5514"

[[output]]
type = "file"
path = "logs/{host}.log"
`
	parse := func(s string) *Config {
		t.Helper()
		c, err := Parse(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name, next string
		want       []string
	}{
		{"same", base, nil},
		{"inputs reordered", base, nil}, // the same inputs: none restarts
		{"budget", base + "[ratelimit]\nrate = \"1MiB\"\n", []string{"ratelimit"}},
		{"dedupe and metrics", base + "[dedupe]\nwindow = \"2h\"\n[metrics]\naddress = \"\"\n", []string{"dedupe", "metrics"}},
		{"an input's option", strings.Replace(base, `type = "udp"`, "type = \"udp\"\nread_buffer = \"1MiB\"", 1), []string{"input"}},
		{"an output added", base + "[[output]]\ntype = \"stdout\"\n", []string{"output"}},
		{"drain timeout", base + "[relay]\ndrain_timeout = \"1s\"\n", []string{"relay"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := parse(tt.next)
			if tt.name == "inputs reordered" {
				next = parse(base)
				next.Inputs[0], next.Inputs[1] = next.Inputs[1], next.Inputs[0]
			}
			if got := parse(base).Diff(next).Names(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrorsLocated(t *testing.T) {
	_, err := Parse(strings.NewReader("[ratelimit]\nrate = \"1MiB\"\nnope = 1\n"))
	es, ok := err.(Errors)
	if !ok {
		t.Fatalf("Parse = %v, want Errors", err)
	}
	if got, want := es.Located("f.toml"), "f.toml:3: ratelimit.nope: unknown key"; got != want {
		t.Errorf("Located = %q, want %q", got, want)
	}
}
