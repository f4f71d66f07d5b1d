package relay

import (
	"bufio"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// udpDrops reads the kernel's count of datagrams dropped on the UDP
// sockets bound to port, from /proc/net/udp and /proc/net/udp6. When the
// shards fall behind, a UDP input stops reading and the kernel drops what
// overflows the receive buffer; floodgate never sees those datagrams, so
// this is the only place they are counted. ok is false where /proc has no
// such socket (another OS, or the input is closed).
func udpDrops(port int) (drops uint64, ok bool) {
	for _, name := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		d, found := parseUDPDrops(f, port)
		f.Close()
		if found {
			drops += d
			ok = true
		}
	}
	return drops, ok
}

// parseUDPDrops sums the drops column of the sockets in a /proc/net/udp
// table whose local port is port.
func parseUDPDrops(r io.Reader, port int) (drops uint64, found bool) {
	want := strings.ToUpper(strconv.FormatInt(int64(port), 16))
	for len(want) < 4 {
		want = "0" + want
	}
	sc := bufio.NewScanner(r)
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 13 {
			continue
		}
		local := f[1]
		i := strings.LastIndexByte(local, ':')
		if i < 0 || local[i+1:] != want {
			continue
		}
		d, err := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err != nil {
			continue
		}
		drops += d
		found = true
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
