package gen_test

import (
	"fmt"
	"time"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/bench/gen"
)

// The head of the incident's first goroutine dump, as /var/log/syslog
// would hold it: the seed's stack, with its own ids, arguments and
// offsets.
func ExampleNewIncident() {
	c := gen.DefaultIncident()
	c.Messages, c.Stacks = 1000, 1
	g := gen.NewIncident(c)
	var m floodgate.Message
	for n := 0; n < 5 && g.Next(&m); {
		if m.App == "dockerd" {
			fmt.Printf("%s", gen.Append(nil, &m, gen.Traditional))
			n++
		}
	}
	// Output:
	// Sep 11 01:24:02 ip-10-18-39-127 dockerd[12436]: goroutine 2706 [runnable]:
	// Sep 11 01:24:02 ip-10-18-39-127 dockerd[12436]: syscall.Syscall6(0x101, 0xffffffffffffff9c, 0xc4dc210c30, 0x800c2, 0x180, 0x0, 0x0, 0xd77, 0x800c2, 0x0)
	// Sep 11 01:24:02 ip-10-18-39-127 dockerd[12436]: #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0xd
	// Sep 11 01:24:02 ip-10-18-39-127 dockerd[12436]: syscall.openat(0xffffffffffffff9c, 0xc479000630, 0x78, 0x800c2, 0xc400000180, 0x562a7619542f, 0xc442034100, 0x78)
	// Sep 11 01:24:02 ip-10-18-39-127 dockerd[12436]: #011/usr/local/go/src/syscall/zsyscall_linux_amd64.go:40 +0xd5
}

// One message in every format a capture can hold.
func ExampleAppend() {
	m := floodgate.Message{
		Time: time.Date(2018, 9, 9, 10, 2, 37, 0, time.UTC),
		Host: "ip-10-18-39-127", App: "dockerd", ProcID: "12436",
		Facility: 3, Severity: floodgate.Info,
		Text: "#011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5",
	}
	for _, f := range []gen.Format{gen.Traditional, gen.RFC3164, gen.RFC5424, gen.OctetCounted} {
		fmt.Printf("%s\n", gen.Append(nil, &m, f))
	}
	// Output:
	// Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5
	//
	// <30>Sep  9 10:02:37 ip-10-18-39-127 dockerd[12436]: #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5
	//
	// <30>1 2018-09-09T10:02:37.000000Z ip-10-18-39-127 dockerd 12436 - - #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5
	//
	// 123 <30>1 2018-09-09T10:02:37.000000Z ip-10-18-39-127 dockerd 12436 - - #011/usr/local/go/src/syscall/asm_linux_amd64.s:44 +0x5
}

// The two-hour capture: every kind by timestamp, each message telling
// which kind and template it came from.
func ExampleNewCapture() {
	g := gen.NewCapture(1, 20_000)
	count := map[string]int{}
	hosts := map[string]bool{}
	var m floodgate.Message
	var first, last time.Time
	for g.Next(&m) {
		if first.IsZero() {
			first = m.Time
		}
		last = m.Time
		count[g.(gen.Truther).Truth().Kind]++
		hosts[m.Host] = true
	}
	fmt.Printf("%d hosts, %v\n", len(hosts), last.Sub(first).Round(time.Hour))
	for _, k := range []string{"incident", "web", "kubelet", "ufw", "kafka", "celery", "systemd", "sshd", "ids", "java", "background", "python", "nearmiss", "chat"} {
		fmt.Printf("%-10s %4.1f%%\n", k, 100*float64(count[k])/20_000)
	}
	// Output:
	// 18 hosts, 2h0m0s
	// incident   25.0%
	// web        18.0%
	// kubelet    12.0%
	// ufw         6.0%
	// kafka       6.0%
	// celery      6.0%
	// systemd     6.0%
	// sshd        5.0%
	// ids         5.0%
	// java        3.0%
	// background  3.5%
	// python      2.0%
	// nearmiss    2.0%
	// chat        0.5%
}

// A kind by name, each message with the truth about it: the template its
// author wrote, with the places that vary as "<*>".
func ExampleNew() {
	g, err := gen.New("sshd", 1, 4)
	if err != nil {
		panic(err)
	}
	var m floodgate.Message
	for g.Next(&m) {
		fmt.Printf("%s\n  %s\n", m.Text, g.(gen.Truther).Truth().Template)
	}
	// Output:
	// Invalid user hilla from 203.147.47.55 port 1509
	//   sshd: Invalid user <*> from <*> port <*>
	// pam_unix(sshd:auth): check pass; user unknown
	//   sshd: pam_unix(sshd:auth): check pass; user unknown
	// pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.147.47.55
	//   sshd: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=<*>
	// Invalid user user from 48.245.229.12 port 18572
	//   sshd: Invalid user <*> from <*> port <*>
}
