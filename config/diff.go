package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Changes says which parts of a config a reload finds changed against the
// config running (Diff).
type Changes struct {
	Dedupe, RateLimit, Metrics, Relay bool
	// Inputs and Outputs: one was added, removed or changed (an input or
	// output is changed when any of its keys is, its place in the list
	// aside).
	Inputs, Outputs bool
}

// Diff compares next with c part by part.
func (c *Config) Diff(next *Config) Changes {
	return Changes{
		Dedupe:    !reflect.DeepEqual(c.Dedupe, next.Dedupe),
		RateLimit: !reflect.DeepEqual(c.RateLimit, next.RateLimit),
		Metrics:   c.Metrics != next.Metrics,
		Relay:     c.Relay != next.Relay,
		Inputs:    !sameSet(c.Inputs, next.Inputs, Input.Equal),
		Outputs:   !sameSet(c.Outputs, next.Outputs, Output.Equal),
	}
}

// Names lists the changed parts by their section names ("dedupe",
// "ratelimit", "input", ...), for a log line.
func (ch Changes) Names() []string {
	var s []string
	for _, p := range []struct {
		name    string
		changed bool
	}{{"input", ch.Inputs}, {"output", ch.Outputs}, {"dedupe", ch.Dedupe}, {"ratelimit", ch.RateLimit}, {"metrics", ch.Metrics}, {"relay", ch.Relay}} {
		if p.changed {
			s = append(s, p.name)
		}
	}
	return s
}

// Equal reports whether in and o configure the same input.
func (in Input) Equal(o Input) bool { return reflect.DeepEqual(in, o) }

// Equal reports whether o and p configure the same output.
func (o Output) Equal(p Output) bool { return reflect.DeepEqual(o, p) }

// sameSet reports whether a and b hold equal elements, in any order.
func sameSet[T any](a, b []T, eq func(T, T) bool) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, x := range a {
		for j, y := range b {
			if !used[j] && eq(x, y) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// Located renders problems as FILE:LINE: what is wrong, one after another
// ("; " between them), as `floodgate check` prints them one a line.
func (es Errors) Located(path string) string {
	s := make([]string, len(es))
	for i, e := range es {
		if e.Line > 0 {
			s[i] = fmt.Sprintf("%s:%d: %s", path, e.Line, e.Error())
		} else {
			s[i] = fmt.Sprintf("%s: %s", path, e.Error())
		}
	}
	return strings.Join(s, "; ")
}
