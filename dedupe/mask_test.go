package dedupe

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"numbers", "status=125/n/a", "status=#/n/a"},
		{"pointer args", "syscall.Open(0xc457325680, 0x78, 0x800c2)", "syscall.Open(#, #, #)"},
		{"rsyslog tab escape", "#011/usr/local/go/src/os/file_unix.go:97 +0x80", "\t/usr/local/go/src/os/file_unix.go:# +#"},
		{"hash is text", "issue #123 fixed", "issue ## fixed"},
		{"uuid", "pod 3f2a9c1e-7b4d-4e8a-9f00-1a2b3c4d5e6f deleted", "pod # deleted"},
		{"ipv4 with port", "from 10.0.3.7:51234 closed", "from # closed"},
		{"ipv6", "peer [fe80::1ff:fe23:4567:890a]:443 up", "peer [#]# up"},
		{"mac", "eth0 00:1a:2b:3c:4d:5e link up", "eth# # link up"},
		{"duration words kept", "goroutine 7 [chan receive, 12 minutes]:", "goroutine # [chan receive, # minutes]:"},
		{"decimal duration", "took 1.5s", "took #s"},
		{"quoted hex id", "container '4f3a9c0e12' died", "container '#' died"},
		{"quoted name keeps its letters", "job 'job-1234' done", "job 'job-#' done"},
		{"quoted word kept", "Failed with result 'exit-code'.", "Failed with result 'exit-code'."},
		{"hostname digits", "ip-10-18-39-127 up", "ip-#-#-#-# up"},
		{"words with hex letters kept", "added bad cafe", "added bad cafe"},
		{"clock and date", "at 2018-09-11 01:24:50", "at # #"},
		{"written-out timestamp", "session from 192.0.2.4 ended at Tue Mar  4 19:02:11 2031", "session from # ended at # #  # # #"},
		{"java date", "[Thu Nov 27 08:15:00 2031] job done", "[# # # # #] job done"},
		{"month, day and clock", "last run Sep 30 23:59:01 ok", "last run # # # ok"},
		{"day name alone kept", "backups run on Sat and Sun", "backups run on Sat and Sun"},
		{"month name alone kept", "the May report is late by 3 days", "the May report is late by # days"},
		{"weekday before a plain month name", "Mon Jan was a typo", "Mon Jan was a typo"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Template(tt.text); got != tt.want {
				t.Errorf("Template(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestFingerprintNearMiss lists messages that differ only in variable
// tokens (same fingerprint) and messages that differ in words (never the
// same).
func TestFingerprintNearMiss(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"ids differ", "Accepted publickey for core from 10.0.0.1 port 50022 ssh2", "Accepted publickey for core from 10.0.9.8 port 41000 ssh2", true},
		{"password vs publickey", "Failed password for core from 10.0.0.1 port 50022 ssh2", "Accepted publickey for core from 10.0.0.1 port 50022 ssh2", false},
		{"full vs healthy", "/dev/nvme0n1p2 is 91% full", "/dev/nvme0n1p2 is healthy", false},
		{"user differs", "session opened for user root", "session opened for user core", false},
		{"state differs", "goroutine 1 [runnable]:", "goroutine 1 [select]:", false},
		{"wait differs only in minutes", "goroutine 1 [chan receive, 3 minutes]:", "goroutine 9 [chan receive, 12 minutes]:", true},
		{"tab escape vs tab", "#011/usr/x.go:1 +0x1", "\t/usr/x.go:2 +0x2", true},
		{"restart counter", "a.service: Scheduled restart job, restart counter is at 4.", "a.service: Scheduled restart job, restart counter is at 5.", true},
		{"unit differs", "a.service: Scheduled restart job, restart counter is at 4.", "b.service: Scheduled restart job, restart counter is at 4.", false},
		{"quoted words differ", "Failed with result 'exit-code'.", "Failed with result 'timeout'.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fingerprint(tt.a) == Fingerprint(tt.b); got != tt.same {
				t.Errorf("same fingerprint = %v, want %v:\n%q -> %q\n%q -> %q", got, tt.same, tt.a, Template(tt.a), tt.b, Template(tt.b))
			}
		})
	}
}

// TestFingerprintStableAcrossProcesses runs the test binary again and
// compares the fingerprints it prints: xxhash has no per-process seed, and
// nothing in a template may depend on map order or addresses.
func TestFingerprintStableAcrossProcesses(t *testing.T) {
	texts := []string{"goroutine 2648 [runnable]:", "protokube.service: Service hold-off time over, scheduling restart.", "See '/usr/bin/docker run --help'."}
	if os.Getenv("DEDUPE_PRINT_FP") == "1" {
		for _, s := range texts {
			os.Stdout.WriteString(FormatFP(Fingerprint(s)) + "\n")
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFingerprintStableAcrossProcesses$")
	cmd.Env = append(os.Environ(), "DEDUPE_PRINT_FP=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	var want []string
	for _, s := range texts {
		want = append(want, FormatFP(Fingerprint(s)))
	}
	if got := strings.Join(strings.Fields(string(out))[:len(texts)], " "); got != strings.Join(want, " ") {
		t.Errorf("child fingerprints %q, this process %q", got, strings.Join(want, " "))
	}
	// Fixed values: a change of the masker or the hash shows here.
	if got := FormatFP(Fingerprint("goroutine 2648 [runnable]:")); got != FormatFP(Fingerprint("goroutine 1 [runnable]:")) {
		t.Errorf("goroutine ids leak into the fingerprint: %s", got)
	}
}

func TestMaskerAllocs(t *testing.T) {
	buf := make([]byte, 0, 1024)
	text := "syscall.Syscall6(0x101, 0xffffffffffffff9c, 0xc457325700, 0x800c2, 0x180, 0x0, 0x0, 0xc9e, 0x800c2, 0x0)"
	if n := testing.AllocsPerRun(100, func() { buf = appendTemplate(buf[:0], text) }); n != 0 {
		t.Errorf("appendTemplate allocates %v times per line", n)
	}
}

// dateNames are the day and month names a written-out timestamp masks.
var dateNames = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"Jun 17 07:07:00 x", "goroutine 1 [runnable]:", "#011/x.go:1 +0x1", "a 'b1' c", "#0", "0x", "1.", "'1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := Fingerprint(s)
		if b := Fingerprint(s); a != b {
			t.Fatalf("unstable fingerprint for %q", s)
		}
		// Letters outside hex ids survive masking: changing a letter
		// that is not a hex digit changes the template. A written-out
		// timestamp ("Fri Jun 17 07:07:00") is masked whole, its day
		// and month names with it: a text naming one is not checked.
		tmpl := Template(s)
		for _, name := range dateNames {
			if strings.Contains(s, name) {
				return
			}
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c >= 'g' && c <= 'z' && c != 'x' {
				if !strings.ContainsRune(tmpl, rune(c)) {
					t.Fatalf("letter %q of %q masked: %q", c, s, tmpl)
				}
			}
		}
	})
}

// BenchmarkTemplate measures the masker and hash alone on the lines of a
// goroutine frame.
func BenchmarkTemplate(b *testing.B) {
	lines := []string{
		"goroutine 2648 [runnable]:",
		"syscall.Syscall6(0x101, 0xffffffffffffff9c, 0xc457325700, 0x800c2, 0x180, 0x0, 0x0, 0xc9e, 0x800c2, 0x0)",
		"#011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5",
		"github.com/docker/docker/container.(*Container).ToDisk(0xc42d53fe00, 0x0, 0x0)",
		"#011/usr/src/docker/.gopath/src/github.com/docker/docker/container/container.go:155 +0xad",
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = appendTemplate(buf[:0], lines[i%len(lines)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
