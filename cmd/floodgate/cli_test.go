package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "floodgate.toml", tt.config)
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
