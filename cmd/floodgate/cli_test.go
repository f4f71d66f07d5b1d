package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		wantCode int
		wantErr  string // regexp on stderr, FILE stands for the path
	}{
		{name: "valid", config: "[dedupe]\nenabled = true\n", wantCode: 0},
		{name: "unknown key", config: "[dedupe]\nenabled = true\n\n[ratelimit]\nrate = \"64KiB\"\nburts = \"1MiB\"\n",
			wantCode: 2, wantErr: `^FILE:6: ratelimit\.burts: unknown key\n$`},
		{name: "bad value", config: "[[output]]\ntype = \"file\"\npath = \"x\"\nformat = \"yaml\"\n",
			wantCode: 2, wantErr: `^FILE:4: output\[0\]\.format: "yaml"`},
		{name: "two problems, both reported", config: "[ratelimit]\nrate = \"0\"\nprotect = \"loud\"\n",
			wantCode: 2, wantErr: `(?s)^FILE:2: ratelimit\.rate.*\nFILE:3: ratelimit\.protect`},
		{name: "syntax", config: "[dedupe\n", wantCode: 2, wantErr: `^FILE:[12]: `},
		{name: "output directory under a file", config: "\n[[output]]\ntype = \"file\"\npath = \"DIR/a-file/logs/{host}.log\"\n",
			wantCode: 2, wantErr: `^FILE:4: output\[0\]\.path: cannot create output directory DIR/a-file/logs: DIR/a-file is not a directory\n$`},
		{name: "state_dir under a file", config: "[relay]\nstate_dir = \"DIR/a-file/state\"\n",
			wantCode: 2, wantErr: `^FILE:2: relay\.state_dir: cannot create directory DIR/a-file/state: DIR/a-file is not a directory\n$`},
		{name: "state_dir creatable", config: "[relay]\nstate_dir = \"DIR/new/state\"\n", wantCode: 0},
		{name: "output directory creatable", config: "[[output]]\ntype = \"file\"\npath = \"DIR/new/logs/{host}.log\"\n", wantCode: 0},
		{name: "two inputs on one address", config: "[[input]]\ntype = \"tcp\"\naddress = \"127.0.0.1:5514\"\n[[input]]\ntype = \"udp\"\naddress = \"127.0.0.1:5514\"\n[[input]]\ntype = \"tcp\"\naddress = \"0.0.0.0:5514\"\n",
			wantCode: 2, wantErr: `^FILE:9: input\[2\]\.address: "0\.0\.0\.0:5514": input\[0\] has that tcp port already`},
		{name: "metrics on an input's port", config: "[[input]]\ntype = \"tcp\"\naddress = \"127.0.0.1:9514\"\n",
			wantCode: 2, wantErr: `^FILE: metrics\.address: the default "127\.0\.0\.1:9514": input\[0\] listens there over tcp`},
		{name: "socket in a missing directory", config: "[[input]]\ntype = \"unixgram\"\naddress = \"DIR/missing/log.sock\"\n",
			wantCode: 2, wantErr: `^FILE:3: input\[0\]\.address: socket directory DIR/missing does not exist\n$`},
		{name: "socket in a directory that exists", config: "[[input]]\ntype = \"unix\"\naddress = \"DIR/log.sock\"\n", wantCode: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "a-file"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			path := writeFile(t, "floodgate.toml", strings.ReplaceAll(tt.config, "DIR", dir))
			tt.wantErr = strings.ReplaceAll(tt.wantErr, "DIR", regexp.QuoteMeta(dir))
			stdout, stderr, code := runCLI(t, "", "check", "-config", path)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.wantCode, stderr)
			}
			if stdout != "" {
				t.Errorf("check printed on stdout: %q", stdout)
			}
			if tt.wantErr == "" {
				if stderr != "" {
					t.Errorf("valid config: stderr %q, want silence", stderr)
				}
				return
			}
			re := regexp.MustCompile(strings.ReplaceAll(tt.wantErr, "FILE", regexp.QuoteMeta(path)))
			if !re.MatchString(stderr) {
				t.Errorf("stderr %q does not match %s", stderr, re)
			}
		})
	}
}

// A config file that cannot be read is reported in check's FILE: form,
// exit 2, by every command that reads one.
func TestMissingConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "floodgate.toml")
	for _, cmd := range []string{"check", "run", "replay"} {
		t.Run(cmd, func(t *testing.T) {
			_, stderr, code := runCLI(t, "", cmd, "-config", path)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if want := path + ": no such file or directory\n"; stderr != want {
				t.Errorf("stderr %q, want %q", stderr, want)
			}
		})
	}
}

func TestCheckShippedConfigs(t *testing.T) {
	for _, p := range []string{"../../deploy/floodgate.toml"} {
		if _, stderr, code := runCLI(t, "", "check", "-config", p); code != 0 {
			t.Errorf("%s: exit %d: %s", p, code, stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "no command", args: nil},
		{name: "unknown command", args: []string{"serve"}},
		{name: "check without config", args: []string{"check"}},
		{name: "unknown flag", args: []string{"run", "-confg", "x"}},
		{name: "missing config file", args: []string{"check", "-config", "/nonexistent/floodgate.toml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, "", tt.args...)
			if code == 0 || stderr == "" {
				t.Errorf("exit %d with stderr %q: want a non-zero exit and a message", code, stderr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	stdout, _, code := runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(stdout, "floodgate ") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}

// A build from a git tree says which commit it is, not "dev".
func TestBuildVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{name: "module version", bi: debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, want: "v1.2.3"},
		{name: "git tree", bi: debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("a10275b3c4d5e6f708192a3b4c5d6e7f80912345", "false")}, want: "a10275b3c4d5"},
		{name: "git tree with changes", bi: debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("a10275b3c4d5e6f708192a3b4c5d6e7f80912345", "true")}, want: "a10275b3c4d5-dirty"},
		{name: "no vcs", bi: debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, want: "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildVersion(&tt.bi); got != tt.want {
				t.Errorf("buildVersion = %q, want %q", got, tt.want)
			}
		})
	}
}
