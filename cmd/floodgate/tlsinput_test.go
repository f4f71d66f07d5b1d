package main

// End-to-end tests of the tls input: a real rsyslogd forwarding to it with
// omfwd and rsyslog's gtls driver, certificates made by the test, and
// floodgate check refusing certificate files it cannot load.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/testcert"
)

// tlsInputConfig is a tls input with mutual TLS, JSON files and metrics.
func tlsInputConfig(c *testcert.Set) string {
	return fmt.Sprintf(`
[[input]]
type = "tls"
address = "127.0.0.1:0"
cert = %q
key = %q
client_ca = %q

[[output]]
type = "file"
path = "{dir}/out/{host}/{app}.log"
format = "json"

[metrics]
address = "127.0.0.1:0"
`, c.ServerCert, c.ServerKey, c.CA)
}

// TestRsyslogForwardsOverTLS: rsyslogd takes messages on plain imtcp and
// forwards them with the README's omfwd action over TLS (gtls, mode 1),
// checking floodgate's certificate by name and presenting its own, which
// floodgate requires: every message arrives, verbatim or counted.
func TestRsyslogForwardsOverTLS(t *testing.T) {
	rsyslogdPath(t)
	if m, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(m) == 0 {
		t.Skip("rsyslog-gnutls not installed (lmnsd_gtls.so): TLS input not tested against rsyslog")
	}
	certs, err := testcert.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemonWithMetrics(t, tlsInputConfig(certs), 1)
	_, fport, _ := net.SplitHostPort(d.addrs["tls"])

	rdir := t.TempDir()
	portFile := filepath.Join(rdir, "imtcp.port")
	global, action := readmeTLSForwarding(t)
	for _, r := range [][2]string{
		{"/etc/rsyslog/ca.pem", certs.CA},
		{"/etc/rsyslog/client.pem", certs.ClientCert},
		{"/etc/rsyslog/client-key.pem", certs.ClientKey},
	} {
		global = strings.Replace(global, r[0], r[1], 1)
	}
	action = strings.NewReplacer(`target="relay.example.org"`, `target="127.0.0.1"`,
		`port="6514"`, fmt.Sprintf("port=%q", fport),
		`PermittedPeers="relay.example.org"`, `PermittedPeers="localhost"`).Replace(action)
	// Only what the test sends is forwarded: rsyslogd's own messages stay
	// in the default ruleset, which has no action.
	conf := fmt.Sprintf(`global(workDirectory=%q)
%s
module(load="imtcp")
ruleset(name="forward") {
%s}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName=%q ruleset="forward")
`, rdir, global, action, portFile)
	r, rdone, rlog, rport := runRsyslogd(t, rdir, conf, portFile, "0")

	const n = 300
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", rport))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(c)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "<30>Nov 27 10:00:%02d tlshost payments[4242]: charge %d settled in %d ms\n", i%60, i, i%13)
		if i%100 == 0 {
			fmt.Fprintf(w, "<27>Nov 27 10:00:%02d tlshost payments[4242]: unique failure %c\n", i%60, 'a'+byte(i/100))
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	const sent = n + 3
	d.waitMetric("floodgate_messages_parsed_total", func(v float64) bool { return v >= sent })
	if err := r.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rdone:
	case <-time.After(20 * time.Second):
		t.Fatalf("rsyslogd did not stop:\n%s", rlog.String())
	}
	d.stop()
	var verbatim, counted int64
	for _, rec := range d.records() {
		if rec.App != "payments" || rec.Host != "tlshost" {
			t.Errorf("unexpected record: %s", rec.Raw)
			continue
		}
		if rec.Summary != nil {
			counted += rec.Summary.Count
		} else {
			verbatim++
		}
	}
	if verbatim+counted != sent {
		t.Fatalf("sent %d through rsyslog over TLS; floodgate wrote %d verbatim + %d counted\nfloodgate:\n%s\nrsyslogd:\n%s",
			sent, verbatim, counted, d.stderr.String(), rlog.String())
	}
	for _, msg := range []string{"charge 0 settled in 0 ms", "unique failure a", "unique failure c"} {
		if find(d.records(), msg) == nil {
			t.Errorf("%q not written verbatim", msg)
		}
	}
	if strings.Contains(d.stderr.String(), "TLS handshake failed") {
		t.Errorf("a handshake failed:\n%s", d.stderr.String())
	}
}

// floodgate check (and run) refuse a tls input whose certificate or key
// cannot be loaded, at its line; SIGHUP with a broken certificate keeps
// the old one and counts the failure.
func TestTLSInputCertificates(t *testing.T) {
	certs, err := testcert.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	broken := strings.Replace(tlsInputConfig(certs), certs.ServerKey, missing, 1)
	cfg := filepath.Join(dir, "floodgate.toml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(broken, "{dir}", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"check", "run"} {
		out, err := exec.Command(binary, cmd, "-config", cfg).CombinedOutput()
		want := fmt.Sprintf("%s:6: input[0].key: open %s: no such file or directory", cfg, missing)
		if code := exitCodeOf(err); code != 2 || !bytes.Contains(out, []byte(want)) {
			t.Errorf("floodgate %s: exit %d, output:\n%s\nwant exit 2 and %q", cmd, code, out, want)
		}
	}

	// A running relay keeps its certificate when the new one is broken.
	key := filepath.Join(dir, "key.pem")
	b, err := os.ReadFile(certs.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, b, 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemonWithMetrics(t, strings.Replace(tlsInputConfig(certs), certs.ServerKey, key, 1), 1)
	if err := os.WriteFile(key, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitMetric(`floodgate_input_tls_reload_errors_total{input="tls 127.0.0.1:0"}`, func(v float64) bool { return v == 1 })
	c, err := tlsDial(d.addrs["tls"], certs)
	if err != nil {
		t.Fatalf("after a broken reload: %v\n%s", err, d.stderr.String())
	}
	fmt.Fprintf(c, "<14>Nov 27 10:00:00 h app: still served\n")
	c.Close()
	d.stop()
	if find(d.records(), "still served") == nil {
		t.Errorf("message over TLS after a broken reload not written\n%s", d.stderr.String())
	}
}

func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// tlsDial connects to a tls input of floodgate's as a client with the
// set's client certificate.
func tlsDial(addr string, certs *testcert.Set) (*tls.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{
		RootCAs: certs.Pool, ServerName: "localhost", Certificates: []tls.Certificate{certs.Client}, MinVersion: tls.VersionTLS12,
	})
}

// readmeTLSForwarding returns the README's rsyslog snippet for the tls
// input: its global() settings and its action.
func readmeTLSForwarding(t *testing.T) (global, action string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?ms)^```\n(.*?)^```$").FindAllStringSubmatch(string(b), -1) {
		if i := strings.Index(m[1], `action(type="omfwd"`); i > 0 && strings.Contains(m[1], `StreamDriver="gtls"`) {
			return m[1][:i], m[1][i:]
		}
	}
	t.Fatal("README.md has no rsyslog block forwarding with gtls")
	return "", ""
}
