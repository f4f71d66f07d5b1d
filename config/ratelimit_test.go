package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRateLimitFlush(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr string
	}{
		{name: "default", in: "", want: 30 * time.Second},
		{name: "set", in: "[ratelimit]\nflush = \"1m\"\n", want: time.Minute},
		{name: "zero", in: "[ratelimit]\nflush = \"0s\"\n", wantErr: "ratelimit.flush"},
		{name: "negative global", in: "[ratelimit]\nglobal_rate = \"-1\"\nglobal_burst = \"1MiB\"\n", wantErr: "global"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				err = c.Validate()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := time.Duration(c.RateLimit.Flush); got != tt.want {
				t.Errorf("flush %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRateLimitKey(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "default", in: "", want: []string{"host", "app"}},
		{name: "peer", in: "[ratelimit]\nkey = [\"peer\"]\n", want: []string{"peer"}},
		{name: "peer and app", in: "[ratelimit]\nkey = [\"peer\", \"app\"]\n", want: []string{"peer", "app"}},
		{name: "unknown", in: "[ratelimit]\nkey = [\"ip\"]\n", wantErr: `ratelimit.key: "ip": want "host", "app", "procid", "facility", "input" or "peer"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				err = c.Validate()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.RateLimit.Key; !slices.Equal(got, tt.want) {
				t.Errorf("key %q, want %q", got, tt.want)
			}
		})
	}
}
