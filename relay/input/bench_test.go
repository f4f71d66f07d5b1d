package input

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/floodgate/floodgate/internal/testcert"
	"github.com/floodgate/floodgate/internal/tlsconf"
)

// benchStream returns n typical journald-forwarded messages (about 110
// bytes each), LF-framed or octet-counted.
func benchStream(n int, octet bool) []byte {
	var buf bytes.Buffer
	for i := range n {
		msg := fmt.Sprintf(`<30>Nov 27 10:02:37 web1 dockerd[12436]: level=info msg="container 4f3a9c started" id=%d`, i)
		if octet {
			buf.WriteString(strconv.Itoa(len(msg)))
			buf.WriteByte(' ')
			buf.WriteString(msg)
		} else {
			buf.WriteString(msg)
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}

// cycleReader reads data over and over, as a socket that never runs dry.
type cycleReader struct {
	data []byte
	off  int
}

func (r *cycleReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// BenchmarkFramer frames one message per op from a stream read 64 KiB at a
// time, the way a connection does.
func BenchmarkFramer(b *testing.B) {
	for _, bc := range []struct {
		name  string
		octet bool
	}{{name: "lf"}, {name: "octet", octet: true}} {
		b.Run(bc.name, func(b *testing.B) {
			data := benchStream(10000, bc.octet)
			f := NewFramer(&cycleReader{data: data}, 0)
			b.SetBytes(int64(len(data) / 10000))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := f.Next(); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// countSink counts frames and says when it has seen a target.
type countSink struct {
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func (s *countSink) Deliver(b *Batch) {
	n := s.n.Add(int64(len(b.Frames)))
	if t := s.target.Load(); t > 0 && n >= t {
		select {
		case s.done <- struct{}{}:
		default:
		}
	}
}

// BenchmarkTCP sends messages over one loopback TCP connection into a
// counting Sink; an op is one 64 KiB write (about 600 messages), and
// msgs/s is measured from the first write until the Sink has them all.
func BenchmarkTCP(b *testing.B) {
	benchStreamInput(b, Options{Type: "tcp", Address: "127.0.0.1:0"}, dialPlain)
}

// BenchmarkUnixStream is BenchmarkTCP over a unix stream socket.
func BenchmarkUnixStream(b *testing.B) {
	benchStreamInput(b, Options{Type: "unix", Address: filepath.Join(b.TempDir(), "bench.sock")}, dialPlain)
}

// BenchmarkTLS is BenchmarkTCP over TLS (the handshake before the clock
// starts): what a tls input costs over a tcp one.
func BenchmarkTLS(b *testing.B) {
	s, err := testcert.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	o := Options{Type: "tls", Address: "127.0.0.1:0", TLS: tlsconf.Files{Cert: s.ServerCert, Key: s.ServerKey}}
	benchStreamInput(b, o, func(a net.Addr) (net.Conn, error) {
		return tls.Dial("tcp", a.String(), &tls.Config{RootCAs: s.Pool, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	})
}

func dialPlain(a net.Addr) (net.Conn, error) { return net.Dial(a.Network(), a.String()) }

func benchStreamInput(b *testing.B, o Options, dial func(net.Addr) (net.Conn, error)) {
	for _, bc := range []struct {
		name  string
		octet bool
	}{{name: "lf"}, {name: "octet", octet: true}} {
		b.Run(bc.name, func(b *testing.B) {
			data := benchStream(600, bc.octet)
			sink := &countSink{done: make(chan struct{}, 1)}
			l, err := Listen(o, sink, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			c, err := dial(l.Addr())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start := time.Now()
			ops := 0
			for b.Loop() {
				if _, err := c.Write(data); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			sink.target.Store(int64(ops) * 600)
			if sink.n.Load() < int64(ops)*600 {
				select {
				case <-sink.done:
				case <-time.After(time.Minute):
					b.Fatalf("sink got %d of %d messages", sink.n.Load(), ops*600)
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(ops*600)/elapsed.Seconds(), "msgs/s")
			c.Close()
			l.Shutdown(context.Background())
		})
	}
}

// BenchmarkUDP sends datagrams over loopback UDP into a counting Sink as
// fast as one sender can; datagrams the socket dropped are reported as
// drops/op, not waited for.
func BenchmarkUDP(b *testing.B) {
	msg := []byte(`<30>Nov 27 10:02:37 web1 dockerd[12436]: level=info msg="container 4f3a9c started" id=1234`)
	sink := &countSink{done: make(chan struct{}, 1)}
	var st Stats
	l, err := Listen(Options{Type: "udp", Address: "127.0.0.1:0"}, sink, &st, nil)
	if err != nil {
		b.Fatal(err)
	}
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	sent := 0
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	elapsed := b.Elapsed()
	l.Shutdown(context.Background()) // reads what the socket still holds
	got := sink.n.Load()
	b.ReportMetric(float64(got)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(int64(sent)-got)/float64(sent), "drops/op")
}

// BenchmarkUDPReceive measures the datagram reader alone: each op queues
// 2000 datagrams in the socket while the reader is held, then times how
// fast it drains them into a counting Sink.
func BenchmarkUDPReceive(b *testing.B) {
	const k = 2000
	msg := []byte(`<30>Nov 27 10:02:37 web1 dockerd[12436]: level=info msg="container 4f3a9c started" id=1234`)
	hold := make(chan struct{})
	var n atomic.Int64
	got := make(chan struct{}, 1)
	sink := SinkFunc(func(bt *Batch) {
		if string(bt.Frames[0]) == "hold" {
			<-hold
			bt.Frames = bt.Frames[1:]
		}
		if n.Add(int64(len(bt.Frames))) >= k {
			got <- struct{}{}
		}
	})
	l, err := Listen(Options{Type: "udp", Address: "127.0.0.1:0"}, sink, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	var drain time.Duration
	for b.Loop() {
		n.Store(0)
		c.Write([]byte("hold"))
		for range k {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		hold <- struct{}{}
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			b.Fatalf("got %d of %d datagrams (socket buffer too small?)", n.Load(), k)
		}
		drain += time.Since(start)
	}
	b.ReportMetric(float64(b.N*k)/drain.Seconds(), "msgs/s")
}
