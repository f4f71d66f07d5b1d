package input

import (
	"net"
	"net/netip"
	"sync"
	"testing"
)

// peerCollector is a Sink that keeps each frame's source address.
type peerCollector struct {
	*collector
	mu    sync.Mutex
	peers map[string]netip.Addr // frame text to its peer
}

func (c *peerCollector) Deliver(b *Batch) {
	c.mu.Lock()
	for i, f := range b.Frames {
		c.peers[string(f)] = b.PeerOf(i)
	}
	c.mu.Unlock()
	c.collector.Deliver(b)
}

// TestPeer checks that every frame carries its sender's address, without
// the port: several senders from several loopback addresses, over UDP
// (many in one batch) and TCP.
func TestPeer(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			c := &peerCollector{collector: newCollector(), peers: map[string]netip.Addr{}}
			l := listen(t, Options{Type: network, Address: "127.0.0.1:0"}, c, nil)
			want := map[string]netip.Addr{}
			for _, src := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.1"} {
				ip := netip.MustParseAddr(src)
				var local net.Addr = &net.UDPAddr{IP: ip.AsSlice()}
				if network == "tcp" {
					local = &net.TCPAddr{IP: ip.AsSlice()}
				}
				d := net.Dialer{LocalAddr: local, Timeout: wait}
				conn, err := d.Dial(network, l.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { conn.Close() })
				for _, text := range []string{"<13>from " + src + " a", "<13>from " + src + " b"} {
					want[text] = ip
					if network == "tcp" {
						text += "\n"
					}
					write(t, conn, text)
				}
			}
			c.waitN(t, len(want))
			c.mu.Lock()
			defer c.mu.Unlock()
			for text, ip := range want {
				if got := c.peers[text]; got != ip {
					t.Errorf("%q: peer %v, want %v", text, got, ip)
				}
			}
		})
	}
}

// TestPeerUnix checks that a unix socket's frames have no peer.
func TestPeerUnix(t *testing.T) {
	c := &peerCollector{collector: newCollector(), peers: map[string]netip.Addr{}}
	l := listen(t, Options{Type: "unixgram", Address: t.TempDir() + "/log.sock"}, c, nil)
	write(t, dial(t, l), "<13>local")
	c.waitN(t, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.peers["<13>local"]; !ok || p.IsValid() {
		t.Errorf("peer %v (%v), want the zero Addr", p, ok)
	}
}
