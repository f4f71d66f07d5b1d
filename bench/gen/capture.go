package gen

import (
	"time"

	"github.com/floodgate/floodgate"
)

// CaptureSpan is how long NewCapture's capture lasts.
const CaptureSpan = 2 * time.Hour

// captureMix is NewCapture's share of messages per kind, in per mille,
// and the hosts each kind runs on there.
var captureMix = []struct {
	kind     string
	perMille int
	hosts    []string
}{
	{"incident", 250, nil},
	{"web", 180, []string{"web-01", "web-02", "lb-01", "lb-02"}},
	{"kubelet", 120, []string{"node-01", "node-02", "node-03"}},
	{"ufw", 60, []string{"bastion-01", "gw-01", "web-01"}},
	{"kafka", 60, []string{"worker-01", "worker-02", "worker-03"}},
	{"celery", 60, []string{"worker-02", "worker-03"}},
	{"systemd", 60, []string{"app-01", "app-02", "app-03"}},
	{"sshd", 50, []string{"bastion-01", "gw-01"}},
	{"ids", 50, []string{"node-02", "node-03", "app-01"}},
	{"java", 30, nil},
	{"background", 35, []string{"ip-10-18-40-12", "ip-10-18-41-200", "web-01", "lb-01", "app-01", "worker-03"}},
	{"python", 20, nil},
	{"nearmiss", 20, []string{"bastion-01", "node-01", "app-02", "worker-01"}},
	{"chat", 5, []string{"app-03"}},
}

// NewCapture returns n messages of a two-hour mixed capture of 18 hosts,
// every kind of this package but unique interleaved by timestamp, each
// spread over the two hours (at n of about 1.5 million their rates are
// about those of life; a smaller n thins every kind alike). Its mix, in
// shares of messages:
//
//	incident    25%  dockerd goroutine dumps and the protokube restart loop (3 hosts)
//	web         18%  nginx and haproxy access and error lines (4 hosts)
//	kubelet     12%  CrashLoopBackOff, 40 pods a node (3 nodes)
//	ufw          6%  UFW BLOCK/AUDIT/ALLOW kernel lines (3 hosts)
//	kafka        6%  consumers crash-looping with 52-line config dumps (3 hosts)
//	celery       6%  chained Python tracebacks (2 hosts)
//	systemd      6%  restart loops, Go 1.23 goroutine dumps (3 hosts)
//	sshd         5%  brute force from thousands of addresses (2 hosts)
//	ids          5%  a new container id, UUID or request id a line (3 hosts)
//	java         3%  Java exception traces (3 hosts)
//	background 3.5%  cron, timers, sessions, postfix (6 hosts)
//	python       2%  Python tracebacks (3 hosts)
//	nearmiss     2%  one-word near misses with late variants (4 hosts)
//	chat       0.5%  free-text chat lines (1 host), all to be written
//
// Hosts: ip-10-18-39-127, ip-10-18-40-12, ip-10-18-41-200, node-01..03,
// web-01, web-02, lb-01, lb-02, bastion-01, gw-01, worker-01..03 and
// app-01..03. Its Truth is that of its parts.
func NewCapture(seed int64, n int) Generator {
	var gens []Generator
	left := n
	for i, k := range captureMix {
		kn := n * k.perMille / 1000
		if i == len(captureMix)-1 {
			kn = left // rounding goes to the last
		}
		left -= kn
		if kn <= 0 {
			continue
		}
		s := seed*1000 + int64(i)
		switch k.kind {
		case "incident":
			gens = append(gens, captureIncident(s, kn))
		case "java":
			gens = append(gens, spreadTraces(newTraces(s, kn, "java", 4100, 16, floodgate.Err, javaTraces)))
		case "python":
			t := newTraces(s, kn, "python3", 5200, 16, floodgate.Err, pythonTraces)
			t.kind = "python"
			gens = append(gens, spreadTraces(t))
		default:
			c := kindConfig{seed: s, n: kn, start: captureStart, span: CaptureSpan, hosts: k.hosts}
			gens = append(gens, build(k.kind, c, floodKinds[k.kind]))
		}
	}
	return Merge(gens...)
}

// floodKinds are the kinds built on flood, by name.
var floodKinds = map[string]func(kindConfig) *flood{
	"sshd": newSSHD, "nearmiss": newNearMiss, "chat": newChat, "web": newWeb, "kubelet": newKubelet,
	"ufw": newUFW, "kafka": newKafka, "celery": newCelery, "ids": newIDs, "systemd": newSystemd,
	"background": newBackgroundFlood,
}

// captureIncident spreads the incident over the capture: about a tenth
// of its messages the restart loop, the rest some twenty dumps.
func captureIncident(seed int64, n int) Generator {
	c := DefaultIncident()
	c.Seed, c.Messages, c.Start = seed, n, captureStart
	const linesPerGoroutine = 18 // the stacks' weighted mean
	c.RestartEvery = max(time.Second, CaptureSpan*9*10/time.Duration(n+1))
	c.GoroutinesPerDump = min(3000, max(50, n*9/10/(linesPerGoroutine*20)))
	dumps := max(1, n*9/10/(c.GoroutinesPerDump*linesPerGoroutine))
	c.DumpEvery = CaptureSpan / time.Duration(dumps)
	return NewIncident(c)
}

// spreadTraces sets t's gap between blocks so that its messages span the
// capture.
func spreadTraces(t *traces) *traces {
	lines := 0
	for _, b := range t.blocks {
		lines += len(b)
	}
	blocks := max(1, t.limit*len(t.blocks)/lines)
	t.blockGap = CaptureSpan / time.Duration(blocks)
	return t
}
