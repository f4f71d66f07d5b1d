package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Sink is the smallest possible syslog receiver: it takes messages on one
// endpoint and writes each as a line, nothing else. It stands in for a
// target while testing the harness, and gives a baseline: what the
// machine can receive and write when nobody parses anything.
type Sink struct {
	e    Endpoint
	ln   net.Listener   // stream endpoints
	pc   net.PacketConn // datagram endpoints
	mu   sync.Mutex
	w    *bufio.Writer
	n    atomic.Int64
	wg   sync.WaitGroup
	conn map[net.Conn]struct{}
}

// ListenSink binds e, so that a bind error reaches the caller before
// anything is sent, and writes what arrives to w.
func ListenSink(e Endpoint, w io.Writer) (*Sink, error) {
	s := &Sink{e: e, w: bufio.NewWriterSize(w, 256<<10), conn: map[net.Conn]struct{}{}}
	var err error
	if e.Stream() {
		s.ln, err = net.Listen(e.Network, e.Address)
	} else {
		s.pc, err = net.ListenPacket(e.Network, e.Address)
		if err == nil {
			if u, ok := s.pc.(interface{ SetReadBuffer(int) error }); ok {
				u.SetReadBuffer(8 << 20) // best effort: a bigger buffer loses fewer datagrams
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", e, err)
	}
	return s, nil
}

// Addr returns the bound address (the port chosen for ":0").
func (s *Sink) Addr() net.Addr {
	if s.ln != nil {
		return s.ln.Addr()
	}
	return s.pc.LocalAddr()
}

// Received returns how many messages the sink has taken.
func (s *Sink) Received() int64 { return s.n.Load() }

// Serve receives until ctx ends, then closes connections, flushes and
// returns.
func (s *Sink) Serve(ctx context.Context) error {
	stop := make(chan struct{})
	var flushErr error
	s.wg.Add(1)
	go func() { // flush on a short interval, so that a watcher sees progress
		defer s.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.mu.Lock()
				if err := s.w.Flush(); err != nil && flushErr == nil {
					flushErr = err
				}
				s.mu.Unlock()
			}
		}
	}()
	go func() {
		<-ctx.Done()
		if s.ln != nil {
			s.ln.Close()
		} else {
			s.pc.Close()
		}
		s.mu.Lock()
		for c := range s.conn {
			c.Close()
		}
		s.mu.Unlock()
	}()
	var err error
	if s.ln != nil {
		err = s.acceptLoop()
	} else {
		err = s.packetLoop()
	}
	close(stop)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ferr := s.w.Flush(); ferr != nil {
		return fmt.Errorf("sink write: %w", ferr)
	}
	if flushErr != nil {
		return fmt.Errorf("sink write: %w", flushErr)
	}
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (s *Sink) acceptLoop() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.conn[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.readStream(c)
			s.mu.Lock()
			delete(s.conn, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// readStream de-frames one connection: octet-counted when a message
// starts with a digit, LF-terminated otherwise, as rsyslog's imtcp does.
func (s *Sink) readStream(c net.Conn) {
	r := bufio.NewReaderSize(c, 256<<10)
	var msg []byte
	for {
		b, err := r.Peek(1)
		if err != nil {
			return
		}
		if b[0] >= '0' && b[0] <= '9' {
			head, err := r.ReadSlice(' ')
			if err != nil {
				return
			}
			n, err := strconv.Atoi(string(head[:len(head)-1]))
			if err != nil || n < 0 || n > maxRecord {
				return
			}
			if cap(msg) < n {
				msg = make([]byte, n)
			}
			msg = msg[:n]
			if _, err := io.ReadFull(r, msg); err != nil {
				return
			}
			s.write(msg)
			continue
		}
		line, err := r.ReadSlice('\n')
		if len(line) > 0 && (err == nil || err == io.EOF) {
			s.write(trimEOL(line))
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

func (s *Sink) packetLoop() error {
	buf := make([]byte, 64<<10)
	for {
		n, _, err := s.pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		s.write(trimEOL(buf[:n]))
	}
}

func (s *Sink) write(msg []byte) {
	s.mu.Lock()
	s.w.Write(msg)
	s.w.WriteByte('\n')
	s.mu.Unlock()
	s.n.Add(1)
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// removeStaleSocket deletes a unix socket file left by an earlier run, so
// that binding its path does not fail.
func removeStaleSocket(e Endpoint) {
	if e.Network == "unix" || e.Network == "unixgram" {
		if fi, err := os.Lstat(e.Address); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(e.Address)
		}
	}
}
