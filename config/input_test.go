package config

import (
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate/relay/input"
)

// The [[input]] keys, as floodgate check sees them.
func TestConfigInput(t *testing.T) {
	tests := []struct {
		name    string
		toml    string
		wantErr string
	}{
		{name: "stdin", toml: "type = \"stdin\""},
		{name: "tcp with limits", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\nmax_message_size = \"1MiB\"\nmax_connections = 10\nmax_connections_per_peer = 2\nidle_timeout = \"30s\"\nframe_timeout = \"5s\"\ndrain_grace = \"100ms\"\nread_buffer = \"16MiB\""},
		{name: "unixgram with mode", toml: "type = \"unixgram\"\naddress = \"/run/floodgate.sock\"\nmode = \"0620\""},
		{name: "unknown type", toml: "type = \"pigeon\"\naddress = \"x\"", wantErr: "input[0].type"},
		{name: "bad mode", toml: "type = \"unix\"\naddress = \"/tmp/s\"\nmode = \"rw-\"", wantErr: "input[0].mode"},
		{name: "tiny max", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\nmax_message_size = 100", wantErr: "input[0].max_message_size"},
		{name: "huge read buffer", toml: "type = \"udp\"\naddress = \"127.0.0.1:5514\"\nread_buffer = \"2GiB\"", wantErr: "input[0].read_buffer"},
		{name: "no peer connections", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\nmax_connections_per_peer = -1", wantErr: "input[0].max_connections_per_peer"},
		{name: "negative grace", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\ndrain_grace = \"-1s\"", wantErr: "drain_grace"},
		{name: "negative frame timeout", toml: "type = \"tcp\"\naddress = \"127.0.0.1:5514\"\nframe_timeout = \"-1s\"", wantErr: "frame_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader("[[input]]\n" + tt.toml + "\n"))
			if err == nil {
				err = c.Validate()
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("config error: %v", err)
				}
				if c.Inputs[0].Name == "" || c.Inputs[0].MaxMessageSize == 0 {
					t.Errorf("input not filled: %+v", c.Inputs[0])
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one about %s", err, tt.wantErr)
			}
		})
	}
}

// The defaults of an input are input.DefaultOptions, defined there once.
func TestInputDefaults(t *testing.T) {
	for _, in := range Default().Inputs {
		want := input.DefaultOptions()
		want.Type, want.Address, want.Name = in.Type, in.Address, input.DefaultName(in.Type, in.Address)
		want.Mode = 0 // no socket file: no mode
		if got := in.Options(); got != want {
			t.Errorf("default %s input: options %+v, want %+v", in.Type, got, want)
		}
	}
	c, err := Parse(strings.NewReader("[[input]]\ntype = \"unix\"\naddress = \"/run/s\"\n[[input]]\ntype = \"stdin\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Inputs[0].Options().Mode, input.DefaultOptions().Mode; got != want {
		t.Errorf("unix socket mode = %v, want %v", got, want)
	}
	if got := c.Inputs[1].Name; got != "stdin" {
		t.Errorf("stdin input name = %q, want \"stdin\"", got)
	}
}

// Every key reaches the input's options.
func TestInputOptions(t *testing.T) {
	c, err := Parse(strings.NewReader("[[input]]\ntype = \"tcp\"\naddress = \"127.0.0.1:1\"\nname = \"n\"\nmax_message_size = \"1MiB\"\nmax_connections = 10\nmax_connections_per_peer = 2\nidle_timeout = \"30s\"\nframe_timeout = \"5s\"\ndrain_grace = \"100ms\"\nread_buffer = \"16MiB\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := input.Options{
		Type: "tcp", Address: "127.0.0.1:1", Name: "n", MaxMessageSize: 1 << 20,
		MaxConnections: 10, MaxConnectionsPerPeer: 2, IdleTimeout: 30 * time.Second,
		FrameTimeout: 5 * time.Second, DrainGrace: 100 * time.Millisecond, ReadBuffer: 16 << 20,
	}
	if got := c.Inputs[0].Options(); got != want {
		t.Errorf("options = %+v, want %+v", got, want)
	}
}
