package gen

import (
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
)

// NewNearMiss returns n messages of the near-miss set: lines of one
// group differ only in one meaningful word and must stay different
// patterns, each variant many times over with parameters varying around
// it (user names, addresses, check names, interfaces, units, disks):
//
//   - ssh-password: sshd "Failed password for <*> ..." / "Accepted password for <*> ..."
//   - check: "check <*> on <*>: OK (<*> ms)" / FAILED, and DEGRADED late
//   - link: systemd-networkd "<*>: Link UP" / "Link DOWN", "Gained carrier" / "Lost carrier"
//   - unit-result: systemd "<*>: Failed with result 'exit-code'." / 'signal' /
//     'oom-kill' / 'core-dump', and 'watchdog' late, each after its
//     "Main process exited, code=exited|killed|dumped, status=..." line
//   - disk: "disk <*> is healthy" / "disk <*> is <*>% full"
//
// The late variants (DEGRADED, 'watchdog') first turn up only after 60%
// of the flood, after thousands of occurrences of their groups' other
// values: a learner must still write their first occurrence. Four hosts
// each run every group, an event every few seconds.
func NewNearMiss(seed int64, n int) Generator {
	return build("nearmiss", kindConfig{seed: seed, n: n, hosts: hostNames("node", 4)}, newNearMiss)
}

var (
	nmCheckOK       = ln("healthd", "check {$0} on {$1}: OK ({d} ms)")
	nmCheckFailed   = lsev("healthd", floodgate.Err, "check {$0} on {$1}: FAILED ({d} ms)")
	nmCheckDegraded = lsev("healthd", floodgate.Warning, "check {$0} on {$1}: DEGRADED ({d} ms)")
	nmLinkUp        = ln("systemd-networkd", "{$0}: Link UP")
	nmLinkDown      = lsev("systemd-networkd", floodgate.Warning, "{$0}: Link DOWN")
	nmGained        = ln("systemd-networkd", "{$0}: Gained carrier")
	nmLost          = lsev("systemd-networkd", floodgate.Warning, "{$0}: Lost carrier")
	nmExited        = lsev("systemd", floodgate.Notice, "{$0}: Main process exited, code=exited, status=1/FAILURE")
	nmKilled        = lsev("systemd", floodgate.Notice, "{$0}: Main process exited, code=killed, status=15/TERM")
	nmOOMKilled     = lsev("systemd", floodgate.Notice, "{$0}: Main process exited, code=killed, status=9/KILL")
	nmDumped        = lsev("systemd", floodgate.Notice, "{$0}: Main process exited, code=dumped, status=11/SEGV")
	nmAborted       = lsev("systemd", floodgate.Notice, "{$0}: Main process exited, code=dumped, status=6/ABRT")
	nmOOMLine       = lsev("systemd", floodgate.Warning, "{$0}: A process of this unit has been killed by the OOM killer.")
	nmWatchdog      = lsev("systemd", floodgate.Err, "{$0}: Watchdog timeout (limit 3min)!")
	nmKilling       = lsev("systemd", floodgate.Notice, "{$0}: Killing process {D} ({$1}) with signal SIGABRT.")
	nmResultExit    = lsev("systemd", floodgate.Warning, "{$0}: Failed with result 'exit-code'.")
	nmResultSignal  = lsev("systemd", floodgate.Warning, "{$0}: Failed with result 'signal'.")
	nmResultOOM     = lsev("systemd", floodgate.Warning, "{$0}: Failed with result 'oom-kill'.")
	nmResultCore    = lsev("systemd", floodgate.Warning, "{$0}: Failed with result 'core-dump'.")
	nmResultWatch   = lsev("systemd", floodgate.Warning, "{$0}: Failed with result 'watchdog'.")
	nmDiskHealthy   = ln("diskcheck", "disk {$0} is healthy")
	nmDiskFull      = lsev("diskcheck", floodgate.Warning, "disk {$0} is {$1}% full")
)

func init() {
	for _, g := range []struct {
		name  string
		lines []*line
	}{
		{"check", []*line{nmCheckOK, nmCheckFailed, nmCheckDegraded}},
		{"link", []*line{nmLinkUp, nmLinkDown}},
		{"carrier", []*line{nmGained, nmLost}},
		{"unit-exit", []*line{nmExited, nmKilled, nmOOMKilled, nmDumped, nmAborted}},
		{"unit-result", []*line{nmResultExit, nmResultSignal, nmResultOOM, nmResultCore, nmResultWatch}},
		{"disk", []*line{nmDiskHealthy, nmDiskFull}},
	} {
		for _, l := range g.lines {
			l.near = g.name
		}
	}
}

// serviceNames are the names of many services: parameter words.
func serviceNames() []string {
	pre := []string{"orders", "billing", "auth", "search", "cart", "checkout", "payments", "users", "catalog", "inventory",
		"shipping", "notify", "email", "sms", "reports", "ledger", "pricing", "promo", "reviews", "media",
		"thumbs", "upload", "export", "import", "sync", "gateway", "session", "profile", "feed", "ads"}
	suf := []string{"api", "worker", "consumer", "cron", "web", "grpc", "db", "cache", "queue", "proxy"}
	var out []string
	for i, p := range pre {
		for j, s := range suf {
			if (i+j)%3 != 2 {
				out = append(out, p+"-"+s)
			}
		}
	}
	return out
}

// vethNames returns n container interface names, veth and seven hex
// digits, as docker and CNI plugins name them, and the fixed NICs.
func vethNames(g *flood, n int) []string {
	out := []string{"eth0", "eth1", "ens3", "enp3s0", "bond0", "wlan0"}
	for range n {
		out = append(out, "veth"+string(appendHexFixed(nil, uint64(g.r.Uint32()), 7)))
	}
	return out
}

// diskNames returns partitions of many kinds of disk.
func diskNames() []string {
	var out []string
	for _, d := range "abcdefghij" {
		for p := 1; p <= 4; p++ {
			out = append(out, "/dev/sd"+string(d)+strconv.Itoa(p))
		}
	}
	for c := range 4 {
		for p := 1; p <= 3; p++ {
			out = append(out, "/dev/nvme"+strconv.Itoa(c)+"n1p"+strconv.Itoa(p))
		}
	}
	for _, v := range []string{"root", "home", "var", "data", "docker", "logs", "backup", "tmp"} {
		out = append(out, "/dev/mapper/vg0-"+v)
	}
	return out
}

type nearMiss struct {
	group  int
	names  *pool
	hosts  *pool
	ips    *pool
	lateAt int
}

func newNearMiss(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	svcs := serviceNames()
	units := make([]string, len(svcs))
	for i, s := range svcs {
		units[i] = s + ".service"
	}
	names := [][]string{
		append(append([]string(nil), sshUsers...), personNames()...),
		svcs,
		vethNames(g, 400),
		vethNames(g, 400),
		units,
		diskNames(),
	}
	ips := publicIPs(g.r, 2000)
	for _, h := range c.hosts {
		for gi, ns := range names {
			b := &nearMiss{
				group:  gi,
				names:  newPool(1.2, shuffled(g.r, ns)),
				hosts:  newPool(1.3, hostNames("db", 40)),
				ips:    newPool(1.1, ips),
				lateAt: c.n * 3 / 5,
			}
			s := &source{host: h, pid: "", fac: 3, sev: floodgate.Info, b: b}
			switch gi {
			case 0:
				s.app, s.pid, s.fac = "sshd", "", 10
			case 1:
				s.app, s.pid = "healthd", "1822"
			case 2, 3:
				s.app, s.pid = "systemd-networkd", "512"
			case 4:
				s.app, s.pid = "systemd", "1"
			default:
				s.app, s.pid = "diskcheck", ""
			}
			g.addSource(s, c.start, 5*time.Second)
		}
	}
	return g
}

func (b *nearMiss) event(g *flood, s *source) {
	r := s.r
	late := g.n >= b.lateAt
	s.set(0, b.names.pick(r))
	s.next = between(r, time.Second, 8*time.Second)
	switch b.group {
	case 0:
		s.pid = g.a.string(strconv.AppendInt(g.buf[:0], int64(3000+r.IntN(60000)), 10))
		s.set(1, b.ips.pick(r))
		s.slots[2] = strconv.AppendInt(s.slots[2][:0], int64(1024+r.IntN(64511)), 10)
		if r.IntN(3) == 0 {
			s.add(sshAccepted, 0)
		} else {
			s.add(sshFailed, 0)
		}
	case 1:
		s.set(1, b.hosts.pick(r))
		switch x := r.IntN(10); {
		case late && x == 0:
			s.add(nmCheckDegraded, 0)
		case x < 7:
			s.add(nmCheckOK, 0)
		default:
			s.add(nmCheckFailed, 0)
		}
	case 2:
		s.add(nmLinkDown, 0)
		s.add(nmLinkUp, between(r, 50*time.Millisecond, 3*time.Second))
	case 3:
		s.add(nmLost, 0)
		s.add(nmGained, between(r, 50*time.Millisecond, 3*time.Second))
	case 4:
		u := s.slots[0]
		s.slots[1] = append(s.slots[1][:0], u[:len(u)-len(".service")]...)
		switch x := r.IntN(10); {
		case late && x == 0:
			s.add(nmWatchdog, 0)
			s.add(nmKilling, time.Millisecond)
			s.add(nmAborted, between(r, 10*time.Millisecond, 300*time.Millisecond))
			s.add(nmResultWatch, time.Millisecond/2)
		case x < 5:
			s.add(nmExited, 0)
			s.add(nmResultExit, time.Millisecond/2)
		case x < 7:
			s.add(nmKilled, 0)
			s.add(nmResultSignal, time.Millisecond/2)
		case x < 9:
			s.add(nmOOMLine, 0)
			s.add(nmOOMKilled, time.Millisecond)
			s.add(nmResultOOM, time.Millisecond/2)
		default:
			s.add(nmDumped, 0)
			s.add(nmResultCore, time.Millisecond/2)
		}
	default:
		if r.IntN(2) == 0 {
			s.add(nmDiskHealthy, 0)
		} else {
			s.setInt(1, 80+r.IntN(20))
			s.add(nmDiskFull, 0)
		}
		s.next = between(r, 5*time.Second, 30*time.Second)
	}
}
