package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestNetworkOutputs(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  string // "" when valid
	}{
		{name: "forward over tcp", in: "[[output]]\ntype = \"forward\"\naddress = \"logs.example:6514\"\n"},
		{name: "forward over tls", in: "[[output]]\ntype = \"forward\"\naddress = \"logs.example:6514\"\nprotocol = \"tls\"\nca = \"/etc/ssl/ca.pem\"\ncert = \"c.pem\"\nkey = \"k.pem\"\nserver_name = \"logs\"\n"},
		{name: "forward with a disk queue", in: "[[output]]\ntype = \"forward\"\naddress = \"127.0.0.1:514\"\nqueue_dir = \"/var/spool/floodgate\"\nqueue_max = \"2GiB\"\nmax_buffer = \"1MiB\"\nreconnect_min = \"50ms\"\nreconnect_max = \"5s\"\n"},
		{name: "kafka", in: "[[output]]\ntype = \"kafka\"\nbrokers = [\"k1:9092\", \"k2:9092\"]\ntopic = \"syslog\"\n"},
		{name: "kafka over tls", in: "[[output]]\ntype = \"kafka\"\nbrokers = [\"k1:9093\"]\ntopic = \"syslog\"\nprotocol = \"tls\"\nca = \"ca.pem\"\n"},
		{name: "kafka with an address", in: "[[output]]\ntype = \"kafka\"\nbrokers = [\"k1:9092\"]\ntopic = \"t\"\naddress = \"a:1\"\n", wantLine: 5, wantMsg: "takes brokers, not an address"},
		{name: "forward without address", in: "[[output]]\ntype = \"forward\"\n", wantLine: 1, wantMsg: "output[0].address: missing"},
		{name: "forward address without port", in: "[[output]]\ntype = \"forward\"\naddress = \"logs\"\n", wantLine: 3, wantMsg: "want host:port"},
		{name: "unknown protocol", in: "[[output]]\ntype = \"forward\"\naddress = \"a:1\"\nprotocol = \"udp\"\n", wantLine: 4, wantMsg: `"udp": want "tcp" or "tls"`},
		{name: "tls key with tcp", in: "[[output]]\ntype = \"forward\"\naddress = \"a:1\"\nca = \"ca.pem\"\n", wantLine: 4, wantMsg: `want protocol = "tls"`},
		{name: "cert without key", in: "[[output]]\ntype = \"forward\"\naddress = \"a:1\"\nprotocol = \"tls\"\ncert = \"c.pem\"\n", wantLine: 5, wantMsg: "cert and key go together"},
		{name: "forward in json", in: "[[output]]\ntype = \"forward\"\naddress = \"a:1\"\nformat = \"json\"\n", wantLine: 4, wantMsg: "sends rfc5424"},
		{name: "kafka without topic", in: "[[output]]\ntype = \"kafka\"\nbrokers = [\"k:9092\"]\n", wantLine: 1, wantMsg: "output[0].topic: missing"},
		{name: "kafka without brokers", in: "[[output]]\ntype = \"kafka\"\ntopic = \"t\"\n", wantLine: 1, wantMsg: "output[0].brokers: missing"},
		{name: "small queue_max", in: "[[output]]\ntype = \"forward\"\naddress = \"a:1\"\nqueue_dir = \"q\"\nqueue_max = \"4KiB\"\n", wantLine: 5, wantMsg: "want at least 1MiB"},
		{name: "shared queue_dir", in: "[[output]]\ntype = \"forward\"\naddress = \"a:1\"\nqueue_dir = \"/q\"\n[[output]]\ntype = \"kafka\"\nbrokers = [\"k:1\"]\ntopic = \"t\"\nqueue_dir = \"/q/\"\n", wantLine: 9, wantMsg: "output[0]'s already"},
		{name: "address on a file output", in: "[[output]]\ntype = \"file\"\npath = \"x.log\"\naddress = \"a:1\"\n", wantLine: 2, wantMsg: "belong to a forward or kafka output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				err = c.Validate()
			}
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("got %v, want config.Errors", err)
			}
			if es[0].Line != tt.wantLine || !strings.Contains(es[0].Error(), tt.wantMsg) {
				t.Errorf("first error = line %d %q, want line %d containing %q", es[0].Line, es[0].Error(), tt.wantLine, tt.wantMsg)
			}
		})
	}
}

func TestForwardOptionsDefaults(t *testing.T) {
	c, err := Parse(strings.NewReader("[[output]]\ntype = \"forward\"\naddress = \"a:1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Outputs[0].ForwardOptions()
	if o.Protocol != "tcp" || o.MaxBuffer != 8<<20 || o.QueueMax != 1<<30 || o.ReconnectMax != 10*time.Second || c.Outputs[0].Format != "rfc5424" {
		t.Errorf("defaults = %+v, format %q", o, c.Outputs[0].Format)
	}
}

// The README's example of the network outputs stays a valid config.
func TestReadmeNetworkOutputs(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "#### Forwarding to a central receiver")
	if !ok {
		t.Fatal("README has no section on forwarding")
	}
	_, rest, _ = strings.Cut(rest, "```toml\n")
	example, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README's forwarding section has no TOML example")
	}
	c, err := Parse(strings.NewReader(example))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		t.Fatalf("README example: %v\n%s", err, example)
	}
	if len(c.Outputs) != 2 || c.Outputs[0].Type != "forward" || c.Outputs[1].Type != "kafka" {
		t.Errorf("README example outputs = %+v", c.Outputs)
	}
}

func TestEscapeControl(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantRaw  bool
		wantLine int
		wantMsg  string // "" when valid
	}{
		{name: "unset escapes", in: "[[output]]\ntype = \"file\"\npath = \"x.log\"\n"},
		{name: "true escapes", in: "[[output]]\ntype = \"file\"\npath = \"x.log\"\nescape_control = true\n"},
		{name: "false writes raw", in: "[[output]]\ntype = \"stdout\"\nescape_control = false\n", wantRaw: true},
		{name: "not a bool", in: "[[output]]\ntype = \"file\"\npath = \"x.log\"\nescape_control = \"no\"\n", wantLine: 4, wantMsg: "escape_control"},
		{name: "forward escapes always", in: "[[output]]\ntype = \"forward\"\naddress = \"a:1\"\nescape_control = false\n", wantLine: 4, wantMsg: "output[0].escape_control: false: a forward output always escapes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				err = c.Validate()
			}
			if tt.wantMsg != "" {
				var es Errors
				if !errors.As(err, &es) || es[0].Line != tt.wantLine || !strings.Contains(es[0].Error(), tt.wantMsg) {
					t.Fatalf("got %v, want line %d: %q", err, tt.wantLine, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want valid", err)
			}
			if got := c.Outputs[0].RawControl(); got != tt.wantRaw {
				t.Errorf("RawControl() = %v, want %v", got, tt.wantRaw)
			}
		})
	}
}

func TestFileOutputBounds(t *testing.T) {
	c, err := Parse(strings.NewReader("[[output]]\ntype = \"file\"\npath = \"x/{host}.log\"\nmax_files_total = 500\nfile_idle = \"10m\"\n"))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Outputs[0]; o.MaxFilesTotal != 500 || o.FileIdle.D() != 10*time.Minute {
		t.Errorf("max_files_total %d, file_idle %s", o.MaxFilesTotal, o.FileIdle.D())
	}
	c, err = Parse(strings.NewReader("[[output]]\ntype = \"file\"\npath = \"x/{host}.log\"\nmax_files_total = -1\n"))
	if err == nil {
		err = c.Validate()
	}
	var es Errors
	if !errors.As(err, &es) || len(es) == 0 || es[0].Line != 4 || !strings.Contains(es[0].Error(), "max_files_total") {
		t.Errorf("max_files_total = -1: got %v, want an error on line 4", err)
	}
}
