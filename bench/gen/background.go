package gen

import (
	"math/rand/v2"
	"strconv"

	"github.com/floodgate/floodgate"
)

// bgLine is one kind of ordinary syslog traffic that goes on during a
// flood: each has a fixed wording with variable numbers, so a
// deduplicator should fold it as repeats, never as new patterns.
type bgLine struct {
	app string
	pid int // 0: no [pid]
	fac floodgate.Facility
	sev floodgate.Severity
	t   tmpl
}

var bgLines = []bgLine{
	{"kubelet", 2103, 3, floodgate.Info, compile("I0911 01:{d}:{d}.{D}    2103 kubelet_node_status.go:{d}] Setting node annotation to enable volume controller attach/detach")},
	{"kubelet", 2103, 3, floodgate.Err, compile("E0911 01:{d}:{d}.{D}    2103 kubelet.go:{d}] Failed to get container status: rpc error: code = 4 desc = context deadline exceeded")},
	{"CRON", 31337, 9, floodgate.Info, compile("(root) CMD (   cd / && run-parts --report /etc/cron.hourly)")},
	{"sshd", 1022, 10, floodgate.Info, compile("Accepted publickey for admin from {ip} port {D} ssh2: RSA SHA256:{x}{x}")},
	{"kernel", 0, 0, floodgate.Warning, compile("[{D}.{D}] IPv4: martian source {ip} from {ip}, on dev eth0")},
	{"dhclient", 711, 3, floodgate.Info, compile("DHCPREQUEST of {ip} on eth0 to {ip} port 67 (xid=0x{x})")},
	{"ntpd", 842, 3, floodgate.Info, compile("adjusting local clock by 0.{D}s")},
	{"systemd", 1, 3, floodgate.Info, compile("Started Session {d} of user admin.")},
	{"protokube", 2261, 3, floodgate.Warning, compile("W0911 01:{d}:{d}.{D}       1 main.go:{d}] error checking for required update: error querying for docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock")},
}

// background renders bgLines for a fixed set of hosts.
type background struct {
	hosts  []string
	pids   []string // per bgLines entry, the [pid] text
	truths []string // per bgLines entry, its Template
	truth  string   // of the last line
}

func newBackground(hosts []string) *background {
	b := &background{hosts: hosts, pids: make([]string, len(bgLines))}
	for i, l := range bgLines {
		if l.pid > 0 {
			b.pids[i] = strconv.Itoa(l.pid)
		}
		b.truths = append(b.truths, l.app+": "+l.t.truth())
	}
	return b
}

// next fills m's header fields and appends its text to dst.
func (b *background) next(dst []byte, r *rand.Rand, m *floodgate.Message) []byte {
	i := r.IntN(len(bgLines))
	l := &bgLines[i]
	m.Host = b.hosts[r.IntN(len(b.hosts))]
	m.App, m.ProcID = l.app, b.pids[i]
	m.Facility, m.Severity = l.fac, l.sev
	b.truth = b.truths[i]
	return l.t.render(dst, r)
}
