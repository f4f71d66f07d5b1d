package input

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// wait bounds every wait for an event in these tests; none of them
// should come near it.
const wait = 10 * time.Second

// collector is a Sink that keeps copies of the frames it receives.
type collector struct {
	mu     sync.Mutex
	frames []string
	inputs map[string]int
	notify chan struct{}
	// block, when set, is called before a batch is kept and may block.
	block func(b *Batch)
}

func newCollector() *collector {
	return &collector{inputs: map[string]int{}, notify: make(chan struct{}, 1)}
}

func (c *collector) Deliver(b *Batch) {
	if c.block != nil {
		c.block(b)
	}
	if b.Received.IsZero() {
		panic("batch without a receive time")
	}
	c.mu.Lock()
	for _, f := range b.Frames {
		c.frames = append(c.frames, string(f))
	}
	c.inputs[b.Input] += len(b.Frames)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *collector) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.frames...)
}

// waitFor waits until the collector holds frames that satisfy ok.
func (c *collector) waitFor(t *testing.T, what string, ok func(frames []string) bool) []string {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		frames := c.all()
		if ok(frames) {
			return frames
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; have %d frames: %.2000q", what, len(frames), frames)
		}
	}
}

// waitN waits for at least n frames.
func (c *collector) waitN(t *testing.T, n int) []string {
	t.Helper()
	return c.waitFor(t, fmt.Sprintf("%d frames", n), func(f []string) bool { return len(f) >= n })
}

// waitUntil polls cond (for events that have no channel, such as a
// counter) until it holds or the wait runs out.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// listen starts an input and closes it when the test ends.
func listen(t *testing.T, cfg Options, sink Sink, stats *Stats) *Listener {
	t.Helper()
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = DefaultOptions().MaxMessageSize
	}
	l, err := Listen(cfg, sink, stats, nil)
	if err != nil {
		t.Fatalf("Listen(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func dial(t *testing.T, l *Listener) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(l.Addr().Network(), l.Addr().String(), wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// logger runs util-linux logger with the lines of stdin as messages.
func logger(t *testing.T, stdin string, args ...string) {
	t.Helper()
	path, err := exec.LookPath("logger")
	if err != nil {
		t.Skip("logger not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestListenLogger(t *testing.T) {
	lines := "first message\nsecond message, with\ttab\nthird\n"
	dir := t.TempDir()
	tests := []struct {
		name string
		typ  string
		addr string
		args func(addr net.Addr) []string
	}{
		{name: "udp", typ: "udp", addr: "127.0.0.1:0", args: func(a net.Addr) []string {
			return []string{"--server", "127.0.0.1", "--port", port(a), "--udp"}
		}},
		{name: "tcp lf", typ: "tcp", addr: "127.0.0.1:0", args: func(a net.Addr) []string {
			return []string{"--server", "127.0.0.1", "--port", port(a), "--tcp"}
		}},
		{name: "tcp octet", typ: "tcp", addr: "127.0.0.1:0", args: func(a net.Addr) []string {
			return []string{"--server", "127.0.0.1", "--port", port(a), "--tcp", "--octet-count"}
		}},
		{name: "tcp rfc3164", typ: "tcp", addr: "127.0.0.1:0", args: func(a net.Addr) []string {
			return []string{"--server", "127.0.0.1", "--port", port(a), "--tcp", "--rfc3164"}
		}},
		{name: "unixgram", typ: "unixgram", addr: filepath.Join(dir, "dgram.sock"), args: func(a net.Addr) []string {
			return []string{"-u", a.String(), "--udp", "--socket-errors=on"}
		}},
		{name: "unix stream", typ: "unix", addr: filepath.Join(dir, "stream.sock"), args: func(a net.Addr) []string {
			return []string{"-u", a.String(), "--tcp", "--socket-errors=on"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector()
			var st Stats
			l := listen(t, Options{Type: tt.typ, Address: tt.addr, Name: tt.name}, c, &st)
			logger(t, lines, append(tt.args(l.Addr()), "-t", "fgtest", "-p", "daemon.err")...)
			got := c.waitN(t, 3)
			want := strings.Split(strings.TrimSuffix(lines, "\n"), "\n")
			if len(got) != len(want) {
				t.Fatalf("got %d frames, want %d: %q", len(got), len(want), got)
			}
			for i, f := range got {
				// daemon.err is <27>; the text comes last, as sent.
				if !strings.HasPrefix(f, "<27>") || !strings.Contains(f, "fgtest") || !strings.HasSuffix(f, want[i]) {
					t.Errorf("frame %d = %q, want <27>...fgtest...%q", i, f, want[i])
				}
			}
			if s := st.Snapshot(); s.Messages != 3 || s.BadFrames != 0 || s.Truncated != 0 {
				t.Errorf("stats = %+v, want 3 messages and no framing problems", s)
			}
			if c.inputs[tt.name] != 3 {
				t.Errorf("batches named %v, want %q", c.inputs, tt.name)
			}
		})
	}
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// Hostile or broken clients: what arrives, and what is counted.
func TestStreamHostile(t *testing.T) {
	const max = 480
	long := strings.Repeat("L", 1000)
	longPRI := "<" + long[1:]
	tests := []struct {
		name string
		in   string
		want []string
		// truncated, skipped, bad
		counts [3]uint64
	}{
		{name: "garbage bytes", in: "\x00\x01\x02\xff\xfe\r\n\x1b[31mred\n<13>ok\n",
			want: []string{"\x01\x02\xff\xfe", "\x1b[31mred", "<13>ok"}},
		{name: "invalid utf8", in: "<13>\xc3\x28\xa0\xa1 \xf0\x28\x8c\x28\n", want: []string{"<13>\xc3\x28\xa0\xa1 \xf0\x28\x8c\x28"}},
		{name: "oversize lf then good", in: long + "\n<13>good\n",
			want: []string{long[:max], "<13>good"}, counts: [3]uint64{1, 0, 0}},
		{name: "oversize octet then good", in: "1000 " + longPRI + "8 <13>good",
			want: []string{longPRI[:max], "<13>good"}, counts: [3]uint64{0, 1, 0}},
		{name: "oversize octet then lf good", in: "1000 " + longPRI + "<13>good\n",
			want: []string{longPRI[:max], "<13>good"}, counts: [3]uint64{0, 1, 0}},
		{name: "bad octet count", in: "12 x<13>kept\n8 <13>good",
			want: []string{"12 x<13>kept", "<13>good"}, counts: [3]uint64{0, 0, 1}},
		{name: "digits starting a line", in: "12x <13>kept\n8 <13>good",
			want: []string{"12x <13>kept", "<13>good"}, counts: [3]uint64{0, 0, 0}},
		{name: "absurd octet count", in: "99999999999 <13>kept\n8 <13>good",
			want: []string{"99999999999 <13>kept", "<13>good"}, counts: [3]uint64{0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector()
			var st Stats
			l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0", MaxMessageSize: max}, c, &st)
			conn := dial(t, l)
			write(t, conn, tt.in)
			conn.Close()
			got := c.waitN(t, len(tt.want))
			if !equalStrings(got, tt.want) {
				t.Errorf("frames = %q, want %q", got, tt.want)
			}
			s := st.Snapshot()
			if got := [3]uint64{s.Truncated, s.OversizeSkipped, s.BadFrames}; got != tt.counts {
				t.Errorf("truncated, skipped, bad = %v, want %v", got, tt.counts)
			}
		})
	}
}

// A client stalled in the middle of a frame holds up nobody else, and
// what it sent arrives when it goes away.
func TestStalledClient(t *testing.T) {
	c := newCollector()
	var st Stats
	l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0"}, c, &st)
	stalled := dial(t, l)
	write(t, stalled, "<13>whole\n200 <13>half a fra")
	c.waitN(t, 1)

	other := dial(t, l)
	var msgs strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&msgs, "<13>other %d\n", i)
	}
	write(t, other, msgs.String())
	got := c.waitN(t, 1001)
	if got[1] != "<13>other 0" || got[1000] != "<13>other 999" {
		t.Errorf("frames 1 and 1000 = %q, %q", got[1], got[1000])
	}

	stalled.Close()
	got = c.waitN(t, 1002)
	if got[1001] != "<13>half a fra" {
		t.Errorf("last frame = %q, want the stalled client's partial frame", got[1001])
	}
	if s := st.Snapshot(); s.BadFrames != 1 {
		t.Errorf("bad frames = %d, want 1 (the cut frame)", s.BadFrames)
	}
}

// A slow Sink holds back only the connection it was called for.
func TestSlowSinkBlocksOnlyItsConnection(t *testing.T) {
	c := newCollector()
	release := make(chan struct{})
	c.block = func(b *Batch) {
		if strings.HasPrefix(string(b.Frames[0]), "slow") {
			<-release
		}
	}
	l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0"}, c, nil)
	slow := dial(t, l)
	write(t, slow, "slow 1\n")
	fast := dial(t, l)
	write(t, fast, "fast 1\nfast 2\n")
	c.waitN(t, 2)
	close(release)
	got := c.waitN(t, 3)
	if got[2] != "slow 1" {
		t.Errorf("frames = %q, want the slow one last", got)
	}
}

// With every slot held by clients that deliver, a new client is not
// refused: it waits in the accept queue, with what it sent, until a slot
// frees.
func TestMaxConnections(t *testing.T) {
	c := newCollector()
	var st Stats
	l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0", MaxConnections: 2}, c, &st)
	a, b := dial(t, l), dial(t, l)
	write(t, a, "a\n")
	write(t, b, "b\n")
	c.waitN(t, 2)

	extra := dial(t, l)
	write(t, extra, "extra\n")
	// The third client is waiting, not refused: a fourth frame from a
	// delivering client arrives, the third's does not.
	write(t, b, "b2\n")
	c.waitN(t, 3)
	if got := c.all(); len(got) != 3 || got[2] != "b2" {
		t.Fatalf("frames = %q, want the third client's to wait", got)
	}
	if s := st.Snapshot(); s.ConnectionsRejected != 0 || s.ConnectionsAccepted != 2 || s.ConnectionsOpen != 2 {
		t.Errorf("rejected, accepted, open = %d, %d, %d; want 0, 2, 2", s.ConnectionsRejected, s.ConnectionsAccepted, s.ConnectionsOpen)
	}

	// A slot freed is a slot taken.
	a.Close()
	c.waitFor(t, "the waiting client's frame", func(f []string) bool { return len(f) == 4 && f[3] == "extra" })
	if s := st.Snapshot(); s.ConnectionsRejected != 0 || s.ConnectionsAccepted != 3 {
		t.Errorf("rejected, accepted = %d, %d; want 0, 3", s.ConnectionsRejected, s.ConnectionsAccepted)
	}
}

// A client that goes quiet between frames is closed after IdleTimeout; one
// stalled in the middle of a frame after FrameTimeout, however slowly it
// dribbles bytes in. What they sent arrives.
func TestClientTimeouts(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		addr string
		// sent is written at once; then dribble, a byte every 20ms
		// until the connection closes.
		sent, dribble string
		want          []string
		idle, frame   uint64
	}{
		{name: "tcp idle", typ: "tcp", addr: "127.0.0.1:0", sent: "<13>before going quiet\n",
			want: []string{"<13>before going quiet"}, idle: 1},
		{name: "unix idle", typ: "unix", addr: filepath.Join(t.TempDir(), "s"), sent: "<13>before going quiet\n",
			want: []string{"<13>before going quiet"}, idle: 1},
		{name: "tcp stalled frame", typ: "tcp", addr: "127.0.0.1:0", sent: "<13>whole\n<13>and a half",
			want: []string{"<13>whole", "<13>and a half"}, frame: 1},
		{name: "tcp dribbled frame", typ: "tcp", addr: "127.0.0.1:0", sent: "<13>whole\n<13>drib", dribble: strings.Repeat("x", 1000),
			frame: 1},
		{name: "unix dribbled frame", typ: "unix", addr: filepath.Join(t.TempDir(), "d"), sent: "<13>drib", dribble: strings.Repeat("x", 1000),
			frame: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector()
			var st Stats
			// The idle timeout is longer than the frame timeout and
			// far longer than the dribble's pace: only the frame
			// timeout can end a dribble.
			l := listen(t, Options{Type: tt.typ, Address: tt.addr, IdleTimeout: 400 * time.Millisecond, FrameTimeout: 300 * time.Millisecond}, c, &st)
			conn := dial(t, l)
			write(t, conn, tt.sent)
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				conn.SetReadDeadline(time.Now().Add(wait))
				conn.Read(make([]byte, 1))
			}()
			dribbled := 0
			if tt.dribble != "" {
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
			loop:
				for ; dribbled < len(tt.dribble); dribbled++ {
					select {
					case <-closed:
						break loop
					case <-tick.C:
						conn.SetWriteDeadline(time.Now().Add(wait))
						if _, err := conn.Write([]byte{tt.dribble[dribbled]}); err != nil {
							break loop
						}
					}
				}
			}
			<-closed
			if dribbled == len(tt.dribble) && tt.dribble != "" {
				t.Fatal("dribbling client never closed")
			}
			waitUntil(t, "the timeout to be counted", func() bool {
				return st.IdleTimeouts.Load()+st.FrameTimeouts.Load() > 0 && st.ConnectionsOpen.Load() == 0
			})
			if got := [2]uint64{st.IdleTimeouts.Load(), st.FrameTimeouts.Load()}; got != [2]uint64{tt.idle, tt.frame} {
				t.Errorf("idle, frame timeouts = %v, want %v", got, [2]uint64{tt.idle, tt.frame})
			}
			if tt.want != nil {
				if got := c.waitN(t, len(tt.want)); !equalStrings(got, tt.want) {
					t.Errorf("frames = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

// Shutdown lets a connected client finish: what it sent before and after
// Shutdown began arrives, new clients are refused, and Shutdown returns
// once the client has gone.
func TestShutdownDrainsClient(t *testing.T) {
	c := newCollector()
	l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0"}, c, nil)
	conn := dial(t, l)
	write(t, conn, "<13>before\n")
	c.waitN(t, 1)

	done := make(chan error, 1)
	go func() { done <- l.Shutdown(context.Background()) }()
	waitUntil(t, "new connections to be refused", func() bool {
		d, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			d.Close()
		}
		return err != nil
	})
	write(t, conn, "<13>during\n11 <13>partial")
	conn.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown did not return after the client closed")
	}
	if got, want := c.all(), []string{"<13>before", "<13>during", "<13>partial"}; !equalStrings(got, want) {
		t.Errorf("frames = %q, want %q", got, want)
	}
}

// At the drain deadline Shutdown closes clients that stay connected, and
// still delivers everything it read, a frame cut short included.
func TestShutdownDeadline(t *testing.T) {
	c := newCollector()
	var st Stats
	l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0"}, c, &st)
	conn := dial(t, l)
	var msgs strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&msgs, "<13>message %d\n", i)
	}
	msgs.WriteString("<13>no newline yet")
	write(t, conn, msgs.String())
	c.waitN(t, 5000) // read; the last frame waits for its LF

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := l.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want %v", err, context.DeadlineExceeded)
	}
	got := c.all()
	if len(got) != 5001 || got[4999] != "<13>message 4999" || got[5000] != "<13>no newline yet" {
		t.Errorf("got %d frames, want 5001 ending with the partial one", len(got))
	}
	if s := st.Snapshot(); s.ConnectionsOpen != 0 {
		t.Errorf("%d connections open after Shutdown", s.ConnectionsOpen)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	if _, err := conn.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Error("client still connected after Shutdown")
	}
}

// Datagrams the socket holds when Shutdown begins are still read.
func TestShutdownDrainsDatagrams(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		addr string
		n    int // what the socket queues without blocking the sender
	}{
		{name: "udp", typ: "udp", addr: "127.0.0.1:0", n: 100},
		// Linux queues 10 datagrams on a unix socket by default
		// (net.unix.max_dgram_qlen).
		{name: "unixgram", typ: "unixgram", addr: filepath.Join(t.TempDir(), "g"), n: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector()
			release := make(chan struct{})
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			// Hold the reader in Deliver so the rest queue in the socket.
			c.block = func(b *Batch) {
				if string(b.Frames[0]) == "hold" {
					<-release
				}
			}
			l := listen(t, Options{Type: tt.typ, Address: tt.addr}, c, nil)
			t.Cleanup(unblock) // runs before the listener's Close
			conn := dial(t, l)
			write(t, conn, "hold")
			n := tt.n
			for i := range n {
				write(t, conn, "<13>datagram "+strconv.Itoa(i)+"\n")
			}
			done := make(chan error, 1)
			go func() { done <- l.Shutdown(context.Background()) }()
			waitUntil(t, "Shutdown to begin", l.draining.Load)
			unblock()
			if err := <-done; err != nil {
				t.Fatalf("Shutdown = %v", err)
			}
			got := c.all()
			if len(got) != n+1 || got[n] != "<13>datagram "+strconv.Itoa(n-1) {
				t.Errorf("got %d datagrams (last %q), want %d", len(got), got[len(got)-1], n+1)
			}
		})
	}
}

func TestUDPTruncatesOversizeDatagram(t *testing.T) {
	c := newCollector()
	var st Stats
	l := listen(t, Options{Type: "udp", Address: "127.0.0.1:0", MaxMessageSize: 480}, c, &st)
	conn := dial(t, l)
	big := strings.Repeat("x", 2000)
	write(t, conn, big)
	write(t, conn, "<13>small\r\n")
	got := c.waitN(t, 2)
	if len(got[0]) != 480 || got[1] != "<13>small" {
		t.Errorf("frames of %v bytes, second %q; want 480 and <13>small", lengths(got), got[1])
	}
	if s := st.Snapshot(); s.Truncated != 1 {
		t.Errorf("truncated = %d, want 1", s.Truncated)
	}
}

// A socket file left by a crash is replaced and gets the configured mode;
// a live socket or any other file is left alone.
func TestUnixSocketFile(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		prepare func(t *testing.T, path string) // leaves something at path
		wantErr bool
	}{
		{name: "stream stale", typ: "unix", prepare: staleSocket("unix")},
		{name: "dgram stale", typ: "unixgram", prepare: staleSocket("unixgram")},
		{name: "stream fresh", typ: "unix", prepare: func(*testing.T, string) {}},
		{name: "stream live", typ: "unix", prepare: liveSocket, wantErr: true},
		{name: "regular file", typ: "unix", prepare: regularFile, wantErr: true},
		{name: "dgram regular file", typ: "unixgram", prepare: regularFile, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.sock")
			tt.prepare(t, path)
			c := newCollector()
			l, err := Listen(Options{Type: tt.typ, Address: path, Mode: 0o620}, c, nil, nil)
			if tt.wantErr {
				if err == nil {
					l.Close()
					t.Fatal("Listen succeeded, want an error")
				}
				if _, err := os.Lstat(path); err != nil {
					t.Errorf("the existing file was removed: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			defer l.Close()
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o620 {
				t.Errorf("socket file mode = %v, want a socket with 0620", fi.Mode())
			}
			logger(t, "over the unix socket\n", "-u", path, "--socket-errors=on", "-t", "fgtest")
			got := c.waitN(t, 1)
			if !strings.HasSuffix(got[0], "over the unix socket") {
				t.Errorf("frame = %q", got[0])
			}
			l.Close()
			if tt.typ == "unixgram" {
				if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("socket file left after Close: %v", err)
				}
			}
		})
	}
}

func staleSocket(network string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		switch network {
		case "unix":
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			ln.SetUnlinkOnClose(false)
			ln.Close()
		case "unixgram":
			pc, err := net.ListenPacket("unixgram", path)
			if err != nil {
				t.Fatal(err)
			}
			pc.Close()
		}
		if _, err := os.Lstat(path); err != nil {
			t.Fatalf("no stale socket file: %v", err)
		}
	}
}

func liveSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
}

func regularFile(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busyUDP.Close()
	tests := []struct {
		name string
		cfg  Options
	}{
		{name: "tcp in use", cfg: Options{Type: "tcp", Address: busy.Addr().String()}},
		{name: "udp in use", cfg: Options{Type: "udp", Address: busyUDP.LocalAddr().String()}},
		{name: "bad address", cfg: Options{Type: "tcp", Address: "nonsense"}},
		{name: "no directory", cfg: Options{Type: "unix", Address: "/nonexistent/dir/s.sock"}},
		{name: "unknown type", cfg: Options{Type: "carrier-pigeon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Listen(tt.cfg, newCollector(), nil, nil)
			if err == nil {
				l.Close()
				t.Fatalf("Listen(%+v) succeeded, want an error", tt.cfg)
			}
		})
	}
}

// Close aborts at once, with clients connected and quiet.
func TestCloseAborts(t *testing.T) {
	c := newCollector()
	var st Stats
	l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0"}, c, &st)
	conn := dial(t, l)
	write(t, conn, "<13>x\n")
	c.waitN(t, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s := st.Snapshot(); s.ConnectionsOpen != 0 || s.ReadErrors != 0 {
		t.Errorf("open, read errors = %d, %d after Close; want 0, 0", s.ConnectionsOpen, s.ReadErrors)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after Close = %v", err)
	}
}

// A stdin input reads until its stream ends; Shutdown past its deadline
// interrupts a read that waits.
func TestStdinStream(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	c := newCollector()
	l := newListener(Options{Type: "stdin", Name: "stdin"}, c, nil, nil)
	l.serveReader(pr)
	io.WriteString(pw, "<13>from a sidecar\n14 <13>octet too\n<13>waiting")
	c.waitN(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want %v", err, context.DeadlineExceeded)
	}
	want := []string{"<13>from a sidecar", "<13>octet too", "<13>waiting"}
	if got := c.all(); !equalStrings(got, want) {
		t.Errorf("frames = %q, want %q", got, want)
	}
	if c.inputs["stdin"] != 3 {
		t.Errorf("inputs = %v", c.inputs)
	}
}

func TestReadStream(t *testing.T) {
	in, err := os.ReadFile("testdata/framer/capture-mixed/input.log")
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	var st Stats
	if err := ReadStream(context.Background(), bytes.NewReader(in), "replay", 0, c, &st); err != nil {
		t.Fatal(err)
	}
	got := c.all()
	if len(got) != 6 || got[2] != "<13>1 2018-09-09T10:02:37Z web1 app 42 - - two\nlines" {
		t.Errorf("frames = %q", got)
	}
	if s := st.Snapshot(); s.Messages != 6 || s.Bytes != uint64(len(strings.Join(got, ""))) {
		t.Errorf("messages, bytes = %d, %d", s.Messages, s.Bytes)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ReadStream(ctx, bytes.NewReader(in), "replay", 0, newCollector(), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadStream with a canceled context = %v", err)
	}
	boom := errors.New("disk on fire")
	if err := ReadStream(context.Background(), io.MultiReader(bytes.NewReader(in), errReader{boom}), "replay", 0, newCollector(), nil); !errors.Is(err, boom) {
		t.Errorf("ReadStream over a failing reader = %v, want %v", err, boom)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// The stdin input, in a child process whose stdin is a pipe that stays
// open: Shutdown at its deadline must interrupt the waiting read.
func TestListenStdin(t *testing.T) {
	if os.Getenv("FLOODGATE_STDIN_CHILD") == "1" {
		stdinChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestListenStdin$")
	cmd.Env = append(os.Environ(), "FLOODGATE_STDIN_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "<13>one\n5 <13>2<13>three")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out.String())
		}
	case <-time.After(wait):
		cmd.Process.Kill()
		<-done
		t.Fatalf("child did not exit with stdin open:\n%s", out.String())
	}
	want := "frame \"<13>one\"\nframe \"<13>2\"\nframe \"<13>three\"\nshutdown context deadline exceeded\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("child output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func stdinChild() {
	got := make(chan struct{}, 1)
	var n atomic.Int64
	sink := SinkFunc(func(b *Batch) {
		for _, f := range b.Frames {
			fmt.Printf("frame %q\n", f)
		}
		if n.Add(int64(len(b.Frames))) >= 2 {
			select {
			case got <- struct{}{}:
			default:
			}
		}
	})
	l, err := Listen(Options{Type: "stdin"}, sink, nil, nil)
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	select {
	case <-got:
	case <-time.After(wait):
		fmt.Println("no frames")
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	fmt.Println("shutdown", l.Shutdown(ctx))
	os.Exit(0)
}

// TestShutdownTakesTheBacklog: a client whose connection the kernel
// completed, and whose message was sent, just before Shutdown, but which
// the accept loop had not taken yet, is a connected client: its message
// must be delivered, not dropped with the listening socket. Dialling and
// shutting down at once puts the connection in the backlog in most of
// these rounds.
func TestShutdownTakesTheBacklog(t *testing.T) {
	for round := 0; round < 30; round++ {
		c := newCollector()
		l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0", Name: "tcp"}, c, &Stats{})
		conn := dial(t, l)
		msg := fmt.Sprintf("<13>Nov 27 10:00:00 h app: round %d", round)
		write(t, conn, msg+"\n")
		done := make(chan error, 1)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		go func() { done <- l.Shutdown(ctx) }()
		// The client closes once its message is in: the drain ends.
		c.waitFor(t, msg, func(f []string) bool { return len(f) == 1 && f[0] == msg })
		conn.Close()
		if err := <-done; err != nil {
			t.Fatalf("round %d: Shutdown: %v", round, err)
		}
		cancel()
	}
}

// On Shutdown, a client that stays connected but sends nothing, with no
// partial frame, is done after DrainGrace: Shutdown returns without waiting
// for the drain deadline, and everything the client sent arrives, what the
// kernel still held when Shutdown began included.
func TestShutdownIdleClient(t *testing.T) {
	c := newCollector()
	var st Stats
	l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0"}, c, &st)
	idle := dial(t, l)
	write(t, idle, "<13>first\n")
	c.waitN(t, 1)
	var burst strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&burst, "<13>burst %d\n", i)
	}
	write(t, idle, burst.String())

	// The drain deadline is far off: only the grace can end the client.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Shutdown(ctx) }()
	idle.SetReadDeadline(time.Now().Add(wait))
	if _, err := idle.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("idle client still connected")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown still waits for an idle client")
	}
	got := c.all()
	if len(got) != 5001 || got[5000] != "<13>burst 4999" {
		t.Fatalf("got %d frames, last %q; want 5001, the burst whole", len(got), got[len(got)-1])
	}
	if s := st.Snapshot(); s.BadFrames != 0 || s.IdleTimeouts != 0 || s.ReadErrors != 0 {
		t.Errorf("stats = %+v, want a clean end", s)
	}
}

// On Shutdown, a client in the middle of a frame is not held to the grace:
// it may complete the frame until the drain deadline.
func TestShutdownClientMidFrame(t *testing.T) {
	const grace = 20 * time.Millisecond
	c := newCollector()
	var st Stats
	l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0", DrainGrace: grace}, c, &st)
	conn := dial(t, l)
	write(t, conn, "<13>whole\n<13>half")
	c.waitN(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Shutdown(ctx) }()
	// Many graces pass; the client is still served.
	time.Sleep(10 * grace)
	write(t, conn, " and the rest\n")
	got := c.waitN(t, 2)
	if got[1] != "<13>half and the rest" {
		t.Errorf("frame = %q, want it whole", got[1])
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown did not end the client after its frame")
	}
	if s := st.Snapshot(); s.BadFrames != 0 {
		t.Errorf("bad frames = %d, want 0", s.BadFrames)
	}
}

// A stdin input ends at EOF: Done is closed, with every frame delivered;
// a socket input is not done until it is shut down.
func TestStdinDone(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	l := newListener(Options{Type: "stdin"}, c, nil, nil)
	l.serveReader(pr)
	io.WriteString(pw, "<13>last words\n<13>no lf")
	pw.Close()
	select {
	case <-l.Done():
	case <-time.After(wait):
		t.Fatal("stdin input not done at EOF")
	}
	if got, want := c.all(), []string{"<13>last words", "<13>no lf"}; !equalStrings(got, want) {
		t.Errorf("frames = %q, want %q", got, want)
	}
	if c.inputs["stdin"] != 2 {
		t.Errorf("batches named %v, want \"stdin\"", c.inputs)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after EOF = %v", err)
	}

	tcp := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0"}, c, nil)
	select {
	case <-tcp.Done():
		t.Fatal("tcp input done before Shutdown")
	default:
	}
	tcp.Shutdown(context.Background())
	select {
	case <-tcp.Done():
	default:
		t.Fatal("tcp input not done after Shutdown")
	}
}

// FrameTimeout times each frame, not the stream: a client that sends for
// much longer than it, with every read ending in the middle of a frame,
// is not closed.
func TestFrameTimeoutPerFrame(t *testing.T) {
	const frameTimeout = 100 * time.Millisecond
	c := newCollector()
	var st Stats
	l := listen(t, Options{Type: "tcp", Address: "127.0.0.1:0", FrameTimeout: frameTimeout}, c, &st)
	conn := dial(t, l)
	tick := time.NewTicker(frameTimeout / 4)
	defer tick.Stop()
	const writes = 20 // five frame timeouts
	write(t, conn, "<13>frame 0 fir")
	for i := 1; i <= writes; i++ {
		<-tick.C
		write(t, conn, fmt.Sprintf("st half\n<13>frame %d fir", i))
	}
	write(t, conn, "st half\n")
	got := c.waitN(t, writes+1)
	if got[writes] != fmt.Sprintf("<13>frame %d first half", writes) {
		t.Errorf("last frame = %q", got[writes])
	}
	if s := st.Snapshot(); s.FrameTimeouts != 0 || s.BadFrames != 0 {
		t.Errorf("frame timeouts, bad frames = %d, %d; want 0, 0", s.FrameTimeouts, s.BadFrames)
	}
}

// unread tells a client with bytes waiting in the kernel, which must not
// be closed to make room, from one that has sent nothing.
func TestUnread(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := unread(s); n != 0 {
		t.Errorf("unread before any write = %d, want 0", n)
	}
	write(t, c, "<13>waiting")
	waitUntil(t, "the bytes to reach the socket", func() bool { return unread(s) == len("<13>waiting") })
	if n := unread(io.NopCloser(nil)); n != 1 {
		t.Errorf("unread of a stream without a socket = %d, want 1 (cannot tell)", n)
	}
}
