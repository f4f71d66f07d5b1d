package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Size
		wantErr bool
	}{
		{name: "plain", in: "512", want: 512},
		{name: "bytes", in: "512B", want: 512},
		{name: "kib", in: "64KiB", want: 64 << 10},
		{name: "mib", in: "1MiB", want: 1 << 20},
		{name: "gib", in: "2GiB", want: 2 << 30},
		{name: "fraction", in: "1.5MiB", want: 3 << 19},
		{name: "si", in: "10MB", want: 10_000_000},
		{name: "space before unit", in: "4 KiB", want: 4096},
		{name: "empty", in: "", wantErr: true},
		{name: "negative", in: "-1KiB", wantErr: true},
		{name: "unknown unit", in: "3 parsecs", wantErr: true},
		{name: "word", in: "lots", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSize(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	var types []string
	for _, in := range c.Inputs {
		types = append(types, in.Type+" "+in.Address)
	}
	if got := strings.Join(types, ", "); got != "udp 127.0.0.1:5514, tcp 127.0.0.1:5514" {
		t.Errorf("default inputs = %s", got)
	}
	if len(c.Outputs) != 1 || c.Outputs[0].Path != "floodgate-logs/{host}/{app}.log" || c.Outputs[0].Format != "traditional" {
		t.Errorf("default outputs = %+v", c.Outputs)
	}
	if !c.Dedupe.Enabled || !c.RateLimit.Enabled || c.Metrics.Address != "127.0.0.1:9514" {
		t.Errorf("default dedupe %v, ratelimit %v, metrics %q", c.Dedupe.Enabled, c.RateLimit.Enabled, c.Metrics.Address)
	}
}

// The keys the README documents, exactly as the acceptance tests write them.
const contractConfig = `[[input]]
type = "tcp"
address = "127.0.0.1:5514"

[[input]]
type = "unixgram"
address = "/run/floodgate.sock"

[[output]]
type = "file"
path = "out/{host}/{app}.log"
format = "json"

[dedupe]
enabled = true

[ratelimit]
enabled = true
rate = "64KiB"
burst = "1MiB"
protect = "err"
protect_rate = "1MiB"
protect_burst = "16MiB"

[metrics]
address = "127.0.0.1:9514"
`

func TestParseContractKeys(t *testing.T) {
	c, err := Parse(strings.NewReader(contractConfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Inputs) != 2 || c.Inputs[1].Type != "unixgram" || c.Inputs[1].Address != "/run/floodgate.sock" {
		t.Errorf("inputs = %+v", c.Inputs)
	}
	if c.Inputs[0].MaxMessageSize != 64<<10 {
		t.Errorf("input default max_message_size not filled: %d", c.Inputs[0].MaxMessageSize)
	}
	if o := c.Outputs[0]; o.Format != "json" || o.Path != "out/{host}/{app}.log" {
		t.Errorf("output = %+v", o)
	}
	r := c.RateLimit
	if r.Rate != 64<<10 || r.Burst != 1<<20 || r.ProtectRate != 1<<20 || r.ProtectBurst != 16<<20 || r.Protect != "err" {
		t.Errorf("ratelimit = %+v", r)
	}
	if c.Line("ratelimit.burst") != 20 || c.Line("input[1].address") != 7 {
		t.Errorf("lines: ratelimit.burst %d, input[1].address %d", c.Line("ratelimit.burst"), c.Line("input[1].address"))
	}
	// Sections left out keep their defaults.
	if c.Dedupe.Window != Duration(time.Hour) {
		t.Errorf("dedupe.window default lost: %s", c.Dedupe.Window)
	}
}

func TestParseAndValidateErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  string
	}{
		{
			name:     "unknown key has its line",
			in:       "[dedupe]\nenabled = true\n\n[ratelimit]\nrate = \"64KiB\"\nburts = \"1MiB\"\n",
			wantLine: 6, wantMsg: "ratelimit.burts: unknown key",
		},
		{
			name:     "unknown key in array table",
			in:       "[[input]]\ntype = \"udp\"\naddress = \"127.0.0.1:1\"\n[[input]]\ntype = \"tcp\"\nadress = \"x\"\n",
			wantLine: 6, wantMsg: "input.adress: unknown key",
		},
		{
			name:     "unknown section",
			in:       "[dedupe]\nenabled = true\n[alarms]\nx = 1\n",
			wantLine: 3, wantMsg: "alarms: unknown key",
		},
		{
			name:     "exempt severity that is none",
			in:       "[dedupe]\nexempt_severity = \"loud\"\n",
			wantLine: 2, wantMsg: "dedupe.exempt_severity",
		},
		{
			name:     "flush_max under flush",
			in:       "[dedupe]\nflush = \"1m\"\nflush_max = \"10s\"\n",
			wantLine: 3, wantMsg: "dedupe.flush_max",
		},
		{
			name:     "bare integer duration",
			in:       "[dedupe]\nwindow = 30\n",
			wantLine: 2, wantMsg: "has no unit",
		},
		{
			name:     "bad size",
			in:       "[ratelimit]\n\nrate = \"fast\"\n",
			wantLine: 3, wantMsg: "want a number of bytes",
		},
		{
			name:     "bad format value",
			in:       "[[output]]\ntype = \"file\"\npath = \"x.log\"\nformat = \"xml\"\n",
			wantLine: 4, wantMsg: `"xml": want "traditional", "rfc5424" or "json"`,
		},
		{
			name:     "bad input type",
			in:       "[[input]]\ntype = \"sctp\"\naddress = \"1:2\"\n",
			wantLine: 2, wantMsg: `"sctp"`,
		},
		{
			name:     "bad protect severity",
			in:       "[ratelimit]\nprotect = \"loud\"\n",
			wantLine: 2, wantMsg: "is not a severity",
		},
		{
			name:     "unknown placeholder",
			in:       "[[output]]\ntype = \"file\"\npath = \"out/{hostname}.log\"\n",
			wantLine: 3, wantMsg: "unknown placeholder {hostname}",
		},
		{
			name:     "token twice",
			in:       "[metrics]\ntoken = \"a\"\ntoken_file = \"/etc/floodgate/token\"\n",
			wantLine: 3, wantMsg: "metrics.token_file: set token or token_file, not both",
		},
		{
			name:     "too many source series",
			in:       "[metrics]\nsources = 20000\n",
			wantLine: 2, wantMsg: "metrics.sources: 20000 is out of range",
		},
		{
			name:     "syntax error",
			in:       "[dedupe]\nenabled = \n",
			wantLine: 2, wantMsg: "",
		},
		{
			name:     "wrong type",
			in:       "[dedupe]\nenabled = \"yes\"\n",
			wantLine: 2, wantMsg: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				err = c.Validate()
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("got %v, want config.Errors", err)
			}
			if es[0].Line != tt.wantLine {
				t.Errorf("line = %d, want %d (%v)", es[0].Line, tt.wantLine, es[0])
			}
			if !strings.Contains(es[0].Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", es[0].Error(), tt.wantMsg)
			}
		})
	}
}

func TestDurationRejectsBareInteger(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("30")); err == nil {
		t.Fatal("bare integer accepted as a duration")
	}
	if err := d.UnmarshalText([]byte("1m30s")); err != nil || d.D() != 90*time.Second {
		t.Fatalf("1m30s = %v, %v", d, err)
	}
}

func TestSpace(t *testing.T) {
	var s Space
	if err := s.UnmarshalText([]byte("5%")); err != nil || s.Of(1000) != 50 {
		t.Fatalf("5%% of 1000 = %d, %v", s.Of(1000), err)
	}
	if err := s.UnmarshalText([]byte("1GiB")); err != nil || s.Of(1<<40) != 1<<30 {
		t.Fatalf("1GiB = %d, %v", s.Of(1<<40), err)
	}
	if err := s.UnmarshalText([]byte("120%")); err == nil {
		t.Fatal("120% accepted")
	}
}
