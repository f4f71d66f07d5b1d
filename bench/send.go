package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Endpoint is where messages go: a network as net.Dial names it ("udp",
// "tcp", "unix", "unixgram") and an address.
type Endpoint struct {
	Network string
	Address string
}

// ParseEndpoint reads udp://HOST:PORT, tcp://HOST:PORT, unix:///PATH or
// unixgram:///PATH.
func ParseEndpoint(s string) (Endpoint, error) {
	network, addr, ok := strings.Cut(s, "://")
	if !ok || addr == "" {
		return Endpoint{}, fmt.Errorf("endpoint %q: want udp://HOST:PORT, tcp://HOST:PORT, unix:///PATH or unixgram:///PATH", s)
	}
	switch network {
	case "udp", "tcp":
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return Endpoint{}, fmt.Errorf("endpoint %q: %w", s, err)
		}
	case "unix", "unixgram":
	default:
		return Endpoint{}, fmt.Errorf("endpoint %q: unknown network %q", s, network)
	}
	return Endpoint{Network: network, Address: addr}, nil
}

// String returns the endpoint as ParseEndpoint reads it.
func (e Endpoint) String() string { return e.Network + "://" + e.Address }

// Stream reports whether the endpoint is a byte stream that needs
// framing, rather than one datagram per message.
func (e Endpoint) Stream() bool { return e.Network == "tcp" || e.Network == "unix" }

// Framing is how messages are delimited on a stream.
type Framing int

// Framings of RFC 6587.
const (
	// Octet is octet counting: `LEN SP MSG`. It carries any byte and is
	// what floodgate, rsyslog and syslog-ng detect on a plain TCP input.
	Octet Framing = iota
	// LF is non-transparent framing: each message ends with a newline.
	LF
)

// ParseFraming reads "octet" or "lf".
func ParseFraming(s string) (Framing, error) {
	switch s {
	case "octet", "octet-counted":
		return Octet, nil
	case "lf", "newline", "non-transparent":
		return LF, nil
	}
	return 0, fmt.Errorf("framing %q: want octet or lf", s)
}

// String returns the name ParseFraming reads.
func (f Framing) String() string {
	if f == LF {
		return "lf"
	}
	return "octet"
}

// SendConfig says where and how fast to send.
type SendConfig struct {
	To      Endpoint
	Framing Framing
	// Rate is the target in messages per second; 0 sends as fast as the
	// endpoint takes them (TCP backpressure paces a slow target).
	Rate float64
	// Conns is how many connections (or datagram sockets) to spread the
	// sources over.
	Conns int
	// ProbeEvery sends a latency probe at this interval; 0 sends none.
	ProbeEvery time.Duration
	// Probes records when each probe left; nil sends none.
	Probes *Probes
}

// Counters are live totals of a send, read by the progress bar and the
// chart while the send goes on.
type Counters struct {
	Msgs  atomic.Int64
	Bytes atomic.Int64
}

// SendResult is what a send did.
type SendResult struct {
	Msgs    int64 // messages sent, probes included
	Bytes   int64 // bytes sent, framing included
	Probes  int64
	Elapsed time.Duration
}

// batchSize is how many bytes a connection's batch holds before it is
// written: large enough that a write costs little per message, small
// enough that pacing stays smooth.
const batchSize = 64 << 10

type batch struct {
	buf  []byte
	ends []int // end of each message in buf, for datagrams
}

// Send reads src to its end and sends every message to c.To. Each source
// (host, app) always goes to the same connection, so per-source order is
// kept with several connections.
func Send(ctx context.Context, src Source, c SendConfig, live *Counters) (SendResult, error) {
	if live == nil {
		live = new(Counters)
	}
	conns := max(1, c.Conns)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	free := make(chan *batch, conns*4)
	for range conns * 4 {
		free <- &batch{buf: make([]byte, 0, batchSize+4096)}
	}
	queues := make([]chan *batch, conns)
	var wg sync.WaitGroup
	var d net.Dialer
	for i := range conns {
		conn, err := d.DialContext(ctx, c.To.Network, c.To.Address)
		if err != nil {
			for _, q := range queues[:i] {
				close(q)
			}
			wg.Wait()
			return SendResult{}, fmt.Errorf("dial %s: %w", c.To, err)
		}
		q := make(chan *batch, 2)
		queues[i] = q
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			stream := c.To.Stream()
			for b := range q {
				if err := writeBatch(conn, b, stream); err != nil && ctx.Err() == nil {
					cancel(fmt.Errorf("send to %s: %w", c.To, err))
				}
				live.Bytes.Add(int64(len(b.buf)))
				live.Msgs.Add(int64(len(b.ends)))
				b.buf, b.ends = b.buf[:0], b.ends[:0]
				free <- b
			}
			if cw, ok := conn.(interface{ CloseWrite() error }); ok && stream {
				cw.CloseWrite()
			}
		}()
	}

	cur := make([]*batch, conns)
	dispatch := func(i int) bool {
		if cur[i] == nil || len(cur[i].ends) == 0 {
			return true
		}
		select {
		case queues[i] <- cur[i]:
			cur[i] = nil
			return true
		case <-ctx.Done():
			return false
		}
	}
	add := func(i int, msg []byte) bool {
		if cur[i] == nil {
			select {
			case cur[i] = <-free:
			case <-ctx.Done():
				return false
			}
		}
		b := cur[i]
		if c.To.Stream() && c.Framing == Octet {
			b.buf = strconv.AppendInt(b.buf, int64(len(msg)), 10)
			b.buf = append(b.buf, ' ')
		}
		b.buf = append(b.buf, msg...)
		if c.To.Stream() && c.Framing == LF {
			b.buf = append(b.buf, '\n')
		}
		b.ends = append(b.ends, len(b.buf))
		if len(b.buf) >= batchSize {
			return dispatch(i)
		}
		return true
	}

	var res SendResult
	begin := time.Now()
	check := 64
	if c.Rate > 0 {
		check = max(1, min(64, int(c.Rate/1000)))
	}
	nextProbe := begin
	probing := c.ProbeEvery > 0 && c.Probes != nil
	var probe []byte
	var err error
	for n := 0; ; n++ {
		var msg []byte
		msg, err = src.Next()
		if err != nil {
			break
		}
		if !add(int(xxhash.Sum64(hostApp(msg))%uint64(conns)), msg) {
			break
		}
		res.Msgs++
		res.Bytes += int64(len(msg))
		if n%check != 0 {
			continue
		}
		now := time.Now()
		if probing && !now.Before(nextProbe) {
			probe = c.Probes.next(probe[:0], now)
			i := int(xxhash.Sum64(hostApp(probe)) % uint64(conns))
			if !add(i, probe) || !dispatch(i) {
				break
			}
			res.Msgs++
			res.Probes++
			res.Bytes += int64(len(probe))
			nextProbe = now.Add(c.ProbeEvery)
		}
		if c.Rate <= 0 {
			continue
		}
		due := begin.Add(time.Duration(float64(res.Msgs-res.Probes) / c.Rate * float64(time.Second)))
		if wait := due.Sub(now); wait > time.Millisecond {
			for i := range cur {
				if !dispatch(i) {
					break
				}
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
	}
	if err == io.EOF {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("read source: %w", err)
	}
	// A last probe after the corpus marks when the target is through it.
	if probing && err == nil && ctx.Err() == nil {
		probe = c.Probes.next(probe[:0], time.Now())
		if add(int(xxhash.Sum64(hostApp(probe))%uint64(conns)), probe) {
			res.Msgs++
			res.Probes++
			res.Bytes += int64(len(probe))
		}
	}
	for i := range cur {
		if !dispatch(i) {
			break
		}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	res.Elapsed = time.Since(begin)
	if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return res, err
}

func writeBatch(conn net.Conn, b *batch, stream bool) error {
	if stream {
		_, err := conn.Write(b.buf)
		return err
	}
	start := 0
	for _, end := range b.ends {
		if _, err := conn.Write(b.buf[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}
