package gen

import (
	"strconv"
	"time"

	"github.com/floodgate/floodgate"
)

// NewUFW returns n kernel lines of UFW on three internet-facing hosts:
// "[UFW BLOCK] IN=eth0 OUT= MAC=... SRC=... DST=... LEN=40 TOS=0x00
// PREC=0x00 TTL=243 ID=54321 PROTO=TCP SPT=51234 DPT=23 WINDOW=1024
// RES=0x00 SYN URGP=0", with UDP, ICMP and IPv6 forms, [UFW AUDIT] and
// [UFW ALLOW] too. Internet noise arrives through the gateway's MAC from
// thousands of addresses to Zipf-chosen ports, port scans sweep hundreds
// of ports from one address in seconds, and LAN broadcasts come from
// many devices' MACs, and big scans fill the connection table
// ("nf_conntrack: table full, dropping packet", "net_ratelimit: 37
// callbacks suppressed"). Addresses, MACs, ports and counters are variable;
// the action, the protocol and the TCP flags are meaningful.
func NewUFW(seed int64, n int) Generator {
	return build("ufw", kindConfig{seed: seed, n: n, hosts: []string{"bastion-01", "gw-01", "web-01"}}, newUFW)
}

var ufwActions = []string{"BLOCK", "AUDIT", "ALLOW"}

type ufwLines struct {
	syn, rst, fin, psh, udp, icmp *line
}

var ufwByAction = func() (out [3]ufwLines) {
	for i, a := range ufwActions {
		head := "[{$f}] [UFW " + a + "] IN=eth0 OUT= MAC={$0} SRC={$1} DST={$2} LEN={$3} TOS=0x00 PREC=0x00 TTL={$4} ID={$5} "
		tcp := func(flags string) *line {
			return lsev("kernel", floodgate.Warning, head+"PROTO=TCP SPT={$6} DPT={$7} WINDOW={$8} RES=0x00 "+flags+" URGP=0")
		}
		out[i] = ufwLines{
			syn:  tcp("SYN"),
			rst:  tcp("ACK RST"),
			fin:  tcp("ACK FIN"),
			psh:  tcp("ACK PSH"),
			udp:  lsev("kernel", floodgate.Warning, head+"PROTO=UDP SPT={$6} DPT={$7} LEN={$8}"),
			icmp: lsev("kernel", floodgate.Warning, head+"PROTO=ICMP TYPE=8 CODE=0 ID={$6} SEQ={$7}"),
		}
	}
	return out
}()

// The kernel's own words when a scan fills the connection table, and its
// rate limiter's.
var (
	ufwConntrack  = lsev("kernel", floodgate.Warning, "[{$f}] nf_conntrack: nf_conntrack: table full, dropping packet")
	ufwSuppressed = lsev("kernel", floodgate.Warning, "[{$f}] net_ratelimit: {d} callbacks suppressed")
)

var ufwBlock6 = lsev("kernel", floodgate.Warning, "[{$f}] [UFW BLOCK] IN=eth0 OUT= MAC={$0} SRC={$1} DST=ff02:0000:0000:0000:0000:0000:0000:0001 LEN={$3} TC=0 HOPLIMIT=255 FLOWLBL=0 PROTO=ICMPv6 TYPE=134 CODE=0")

func init() {
	b := ufwByAction[0]
	b.syn.near, b.rst.near, b.fin.near, b.psh.near = "ufw-tcp-flags", "ufw-tcp-flags", "ufw-tcp-flags", "ufw-tcp-flags"
	for _, l := range ufwByAction {
		l.udp.near = "ufw-action"
	}
}

// ufwPorts are the ports internet noise knocks on, the most knocked first.
var ufwPorts = []int{23, 445, 22, 3389, 80, 8080, 1433, 443, 5900, 3306, 2323, 81, 8443, 5555, 6379, 9200, 37215, 52869,
	8081, 8888, 21, 25, 110, 143, 161, 1900, 5060, 11211, 27017, 5432, 9000, 7547, 123, 53, 137, 139, 1723, 4444, 60001}

type ufw struct {
	ips, ports *pool
	macs       *pool
	gwMAC      string
	dst        string
	boot       time.Time
	scanLeft   int
	scanIP     string
	scanPort   int
	ipID       uint16
}

func newUFW(c kindConfig) *flood {
	g := newFlood(c.seed, c.n)
	ips := publicIPs(g.r, 6000)
	ports := make([]string, len(ufwPorts))
	for i, p := range ufwPorts {
		ports[i] = strconv.Itoa(p)
	}
	for hi, h := range c.hosts {
		mac := func() string { return string(appendMAC(nil, g.r.Uint64())) }
		var lan []string
		for range 200 {
			lan = append(lan, mac())
		}
		host, gw := mac(), mac()
		b := &ufw{
			ips:   newPool(1.05, shuffled(g.r, ips)),
			ports: newPool(1.3, ports),
			macs:  newPool(1.2, lan),
			dst:   string(appendIPv4(nil, 198, 51, 100, 10+hi)),
			boot:  c.start.Add(-time.Duration(3+g.r.IntN(300)) * time.Hour),
			// What the kernel prints: the destination MAC, the source's
			// and the EtherType.
			gwMAC: host + ":" + gw + ":08:00",
		}
		s := &source{host: h, app: "kernel", fac: 0, sev: floodgate.Warning, b: b}
		g.addSource(s, c.start, time.Second)
	}
	return g
}

// appendMAC writes six bytes of v as a MAC address, locally
// administered bits as real vendors leave them clear.
func appendMAC(dst []byte, v uint64) []byte {
	for i := range 6 {
		if i > 0 {
			dst = append(dst, ':')
		}
		x := byte(v >> (8 * uint(i)))
		if i == 0 {
			x &^= 3
		}
		dst = append(dst, hexDigits[x>>4], hexDigits[x&15])
	}
	return dst
}

func (u *ufw) event(g *flood, s *source) {
	r := s.r
	up := s.at.Sub(u.boot)
	s.slots[15] = appendUptime(s.slots[15][:0], up)
	u.ipID += uint16(1 + r.IntN(3000))
	s.setInt(5, int(u.ipID))
	s.setInt(4, 40+r.IntN(210))
	s.set(2, u.dst)
	s.set(0, u.gwMAC)
	s.next = exp(r, 700*time.Millisecond)
	act := &ufwByAction[0]
	if x := r.IntN(20); x == 0 {
		act = &ufwByAction[2]
	} else if x < 3 {
		act = &ufwByAction[1]
	}
	if u.scanLeft > 0 {
		// A port scan: one address, consecutive ports, milliseconds apart.
		u.scanLeft--
		u.scanPort++
		s.set(1, u.scanIP)
		s.setInt(3, 40)
		s.setInt(6, 40000+r.IntN(20000))
		s.setInt(7, u.scanPort)
		s.setInt(8, 1024)
		s.add(ufwByAction[0].syn, 0)
		if r.IntN(50) == 0 {
			s.add(ufwSuppressed, time.Millisecond)
			for range 1 + r.IntN(10) {
				s.add(ufwConntrack, 20*time.Microsecond)
			}
		}
		s.next = between(r, time.Millisecond, 40*time.Millisecond)
		return
	}
	switch x := r.IntN(100); {
	case x == 0:
		u.scanLeft = 100 + r.IntN(900)
		u.scanIP = u.ips.pick(r)
		u.scanPort = r.IntN(2000)
		s.set(1, u.scanIP)
		s.setInt(3, 44)
		s.setInt(6, 40000+r.IntN(20000))
		s.setInt(7, u.scanPort)
		s.setInt(8, 1024)
		s.add(ufwByAction[0].syn, 0)
	case x < 8: // LAN broadcasts and multicast from many devices
		s.slots[0] = append(append(append(s.slots[0][:0], "ff:ff:ff:ff:ff:ff:"...), u.macs.pick(r)...), ":08:00"...)
		s.slots[1] = appendIPv4(s.slots[1][:0], 192, 168, 1, 2+r.IntN(250))
		if r.IntN(4) == 0 {
			s.slots[0] = append(append(append(s.slots[0][:0], "33:33:00:00:00:01:"...), u.macs.pick(r)...), ":86:dd"...)
			v := r.Uint64()
			s.slots[1] = append(s.slots[1][:0], "fe80:0000:0000:0000"...)
			for i := range 4 {
				s.slots[1] = append(s.slots[1], ':')
				s.slots[1] = appendHexFixed(s.slots[1], v>>(16*uint(i)), 4)
			}
			s.setInt(3, 56+8*r.IntN(4))
			s.add(ufwBlock6, 0)
			return
		}
		s.set(2, "192.168.1.255")
		s.setInt(3, 78+r.IntN(200))
		p := []int{137, 138, 1900, 5353, 67}[r.IntN(5)]
		s.setInt(6, p)
		s.setInt(7, p)
		s.setInt(8, 58+r.IntN(180))
		s.add(act.udp, 0)
	default: // internet noise through the gateway
		s.set(1, u.ips.pick(r))
		s.setInt(6, 1024+r.IntN(64000))
		s.set(7, u.ports.pick(r))
		switch y := r.IntN(20); {
		case y < 3:
			s.setInt(3, 28+r.IntN(400))
			s.setInt(8, 8+r.IntN(400))
			s.add(act.udp, 0)
		case y < 4:
			s.setInt(3, 84)
			s.setInt(6, r.IntN(65536))
			s.setInt(7, r.IntN(20))
			s.add(act.icmp, 0)
		case y < 6:
			s.setInt(3, 40)
			s.setInt(8, 0)
			s.add(act.rst, 0)
		case y < 7:
			s.setInt(3, 52)
			s.setInt(8, 200+r.IntN(3000))
			s.add(act.fin, 0)
		case y < 8:
			s.setInt(3, 52+r.IntN(1400))
			s.setInt(8, 200+r.IntN(3000))
			s.add(act.psh, 0)
		default:
			s.setInt(3, 40+4*r.IntN(6))
			s.setInt(8, []int{1024, 29200, 65535, 14600, 5840}[r.IntN(5)])
			s.add(act.syn, 0)
		}
	}
}

// appendUptime writes the kernel's "%5lu.%06lu" seconds since boot.
func appendUptime(dst []byte, d time.Duration) []byte {
	sec := int64(d / time.Second)
	us := int64(d%time.Second) / 1000
	for p := int64(10000); p > 1 && sec < p; p /= 10 {
		dst = append(dst, ' ')
	}
	dst = strconv.AppendInt(dst, sec, 10)
	dst = append(dst, '.')
	for div := int64(100000); div > 0; div /= 10 {
		dst = append(dst, byte('0'+us/div%10))
	}
	return dst
}
