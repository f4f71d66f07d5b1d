package input

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// rsyslog forwarding to floodgate over TCP, the way a node's rsyslog
// hands its flood on: both framings rsyslog's omfwd offers.
func TestRsyslogForward(t *testing.T) {
	path, err := exec.LookPath("rsyslogd")
	if err != nil {
		t.Skip("rsyslogd not installed")
	}
	tests := []struct {
		name    string
		framing string
	}{
		{name: "octet counted", framing: "octet-counted"},
		{name: "traditional lf", framing: "traditional"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector()
			var st Stats
			l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0"}, c, &st)

			dir := t.TempDir()
			in := filepath.Join(dir, "in.sock")
			conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket=%q)
action(type="omfwd" target="127.0.0.1" port=%q protocol="tcp" TCP_Framing=%q
       template="RSYSLOG_SyslogProtocol23Format")
`, dir, in, port(l.Addr()), tt.framing)
			confPath := filepath.Join(dir, "rsyslog.conf")
			if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			cmd := exec.Command(path, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				cmd.Wait()
			})
			waitUntil(t, "rsyslogd's input socket", func() bool {
				_, err := os.Stat(in)
				return err == nil
			})

			var lines strings.Builder
			for i := range 50 {
				fmt.Fprintf(&lines, "forwarded message %d\n", i)
			}
			logger(t, lines.String(), "-u", in, "--socket-errors=on", "-t", "fgtest")
			got := c.waitN(t, 50)
			for i, f := range got {
				// RFC 5424 from rsyslog: <PRI>1 TIMESTAMP HOST fgtest ...
				if !strings.HasPrefix(f, "<13>1 ") || !strings.Contains(f, " fgtest ") ||
					!strings.HasSuffix(f, fmt.Sprintf("forwarded message %d", i)) {
					t.Fatalf("frame %d = %q; rsyslogd said:\n%s", i, f, out.String())
				}
			}
			if s := st.Snapshot(); s.BadFrames != 0 || s.Truncated != 0 || s.OversizeSkipped != 0 {
				t.Errorf("framing problems: %+v", s)
			}
		})
	}
}
