package dedupe

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// countVerbatim counts the records written verbatim whose text holds s.
func countVerbatim(recs []floodgate.Record, s string) int {
	n := 0
	for _, r := range recs {
		if r.Summary == nil && strings.Contains(r.Text, s) {
			n++
		}
	}
	return n
}

// A place where most values turn up once (the account names a scanner
// tries) is a parameter by its twelfth value, not its sixteenth; the
// names that recur stay literal.
func TestRareWordsFoldEarly(t *testing.T) {
	line := func(name string, i int) string {
		return fmt.Sprintf("h authd[7]: rejected login for unknown account %s from 192.0.2.%d", name, i%200)
	}
	lines := []string{line("backup", 0), line("backup", 1), line("oper", 2), line("oper", 3)}
	for i := range 300 {
		lines = append(lines, line(word(i*13+5), i))
	}
	recs := runMasked(t, DefaultOptions(), msgs(t, time.Second, lines...), func(s string) string {
		return rareAccount.ReplaceAllString(contractMask(s), "account <*>")
	})
	got := countVerbatim(recs, "rejected login")
	// backup and oper (and their repeats, too few to summarise), then
	// the rare names until the place turns variable, then the merged
	// pattern's first line.
	if got > placeRareDistinct+4 {
		t.Errorf("%d verbatim, want the place learned by its %dth value:\n%s", got, placeRareDistinct, render(recs))
	}
	for _, r := range summaries(recs) {
		for _, kept := range []string{"account backup", "account oper"} {
			if strings.Contains(r.Text, kept) && r.Summary.Count > 2 {
				t.Errorf("a recurring name folded with the rare ones: %s", r.Text)
			}
		}
	}
}

var rareAccount = regexp.MustCompile(`account [a-z]+`)

// An enumeration of fewer than placeRareDistinct values never turns
// variable, even when each of them first shows up once in a row (the
// worst order), and a new value turning up late is written.
func TestEnumerationInARowStaysLiteral(t *testing.T) {
	states := []string{"idle", "starting", "running", "draining", "stopping", "stopped", "failed", "paused", "resuming", "degraded", "unknown"}
	var lines []string
	for i := range 2000 {
		lines = append(lines, fmt.Sprintf("h pool[2]: worker %d is %s", i, states[i%len(states)]))
	}
	lines = append(lines, "h pool[2]: worker 5 is quarantined")
	recs := run(t, DefaultOptions(), msgs(t, time.Second, lines...))
	var written []string
	for _, r := range recs {
		if r.Summary == nil {
			written = append(written, r.Text)
		}
	}
	if len(written) != len(states)+1 || written[len(written)-1] != "worker 5 is quarantined" {
		t.Errorf("written %q, want each of the %d states once and the late one", written, len(states))
	}
}

// A place of DNS names (with a port or not) names a peer, like a path
// names a file: it turns variable at pathMinDistinct names.
func TestDomainNamesFoldLikePaths(t *testing.T) {
	var lines []string
	for i := range 200 {
		lines = append(lines,
			fmt.Sprintf("h resolver[3]: forwarded query for %s.example.net to upstream", word(i*7+1)),
			fmt.Sprintf("h relay[4]: %s.mail.example.org:25 refused the connection", word(i*11+2)))
	}
	recs := runMasked(t, DefaultOptions(), msgs(t, time.Second, lines...), func(s string) string {
		return dnsName.ReplaceAllString(contractMask(s), "<*>")
	})
	for _, s := range []string{"forwarded query", "refused the connection"} {
		if got := countVerbatim(recs, s); got > pathMinDistinct+2 {
			t.Errorf("%q: %d verbatim, want the place of names learned after %d:\n%s", s, got, pathMinDistinct, render(recs))
		}
	}
}

var dnsName = regexp.MustCompile(`[a-z]+\.(example\.net|mail\.example\.org)`)

func TestIsDomainName(t *testing.T) {
	for w, want := range map[string]bool{
		"ns1.example.com":          true,
		"db.example.org:5432":      true,
		"example.com:443":          true,
		"ip-10-0-0-1.ec2.internal": true,
		"cache.eu-west.example.io": true,
		"nova.osapi.wsgi.server":   false, // a module name: "server" is no top-level domain
		"app.settings.yaml":        false,
		"host-1-2.dsl.example.br":  true,
		"example.com":              false, // one dot and no port: a file name as much as a name
		"meta_data.json":           false,
		"org.example.Server":       false,
		"nova.compute.manager":     false,
		"v1.2.3":                   false,
		"a..example.com":           false,
		".example.com":             false,
		"/srv/www.example.com":     false,
		"localhost:8080":           false,
	} {
		b := appendDigitsMasked(nil, w)
		if got := isDomainName(b); got != want {
			t.Errorf("isDomainName(%q) = %v, want %v", w, got, want)
		}
	}
}

// A timestamp written out in the message ("at Fri Jun 17 ...") is masked
// whole, its day and month names too: the lines of two days are one
// pattern.
func TestWrittenOutTimestampsFold(t *testing.T) {
	days := []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	var lines []string
	for i := range 140 {
		lines = append(lines, fmt.Sprintf("h ftpd[%d]: session from 198.51.100.%d ended at %s Mar %2d 0%d:15:%02d 2031",
			100+i, i%50, days[i/20], 3+i/20, i%10, i%60))
	}
	recs := runMasked(t, DefaultOptions(), msgs(t, time.Second, lines...), func(s string) string {
		return calendarNames.ReplaceAllString(contractMask(s), "#")
	})
	if got := countVerbatim(recs, "session from"); got != 1 {
		t.Errorf("%d verbatim, want one: a timestamp is a variable token\n%s", got, render(recs))
	}
}

var calendarNames = regexp.MustCompile(`\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Mar)\b`)
