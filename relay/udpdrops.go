package relay

import (
	"net"

	"github.com/prometheus/procfs"
)

// udpDrops reads the kernel's count of datagrams dropped on the UDP
// sockets bound to port, from /proc/net/udp and /proc/net/udp6. When the
// shards fall behind, a UDP input stops reading and the kernel drops what
// overflows the receive buffer; floodgate never sees those datagrams, so
// this is the only place they are counted. ok is false where /proc has no
// such socket (another OS, or the input is closed).
func udpDrops(port int) (drops uint64, ok bool) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0, false
	}
	return udpDropsIn(fs, port)
}

// udpDropsIn sums the drops of the sockets in fs's UDP tables whose local
// port is port.
func udpDropsIn(fs procfs.FS, port int) (drops uint64, found bool) {
	for _, read := range []func() (procfs.NetUDP, error){fs.NetUDP, fs.NetUDP6} {
		table, err := read()
		if err != nil {
			continue
		}
		for _, s := range table {
			if s.LocalPort != uint64(port) || s.Drops == nil {
				continue
			}
			drops += *s.Drops
			found = true
		}
	}
	return drops, found
}

// udpPort returns the port of a bound UDP address, or 0.
func udpPort(a net.Addr) int {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.Port
	}
	return 0
}
