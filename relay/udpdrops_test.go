package relay

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/procfs"
)

func TestUDPDropsIn(t *testing.T) {
	table := `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  101: 0100007F:159A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 183511 2 00000000a1b2c3d4 1742
  102: 0100007F:159B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 183512 2 00000000a1b2c3d4 9
  103: 00000000:159A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 183513 2 00000000a1b2c3d4 8
`
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "net", "udp"), []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, err := procfs.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		port      int
		wantDrops uint64
		wantFound bool
	}{
		{name: "two sockets on one port", port: 5530, wantDrops: 1750, wantFound: true},
		{name: "another port", port: 5531, wantDrops: 9, wantFound: true},
		{name: "no such socket", port: 53, wantDrops: 0, wantFound: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := udpDropsIn(fs, tt.port)
			if d != tt.wantDrops || ok != tt.wantFound {
				t.Errorf("udpDropsIn(%d) = %d, %v; want %d, %v", tt.port, d, ok, tt.wantDrops, tt.wantFound)
			}
		})
	}
}

// The kernel's table has our own socket in it, with a drops column.
func TestUDPDropsFindsABoundSocket(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, ok := udpDrops(udpPort(c.LocalAddr()))
	if !ok {
		t.Fatalf("socket on %s not found in /proc/net/udp", c.LocalAddr())
	}
	if d != 0 {
		t.Errorf("a fresh socket has %d drops", d)
	}
}
