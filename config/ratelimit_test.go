package config

import (
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
