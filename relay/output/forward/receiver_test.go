package forward

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// receiver is a syslog receiver on loopback taking RFC 6587 octet-counted
// frames over TCP or TLS, as a central rsyslog would. It can be stopped
// and started again on the same port.
type receiver struct {
	t    testing.TB
	addr string
	tls  *tls.Config

	mu     sync.Mutex
	frames []string
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
	got    chan struct{} // signalled on every frame
}

// newReceiver reserves a port; start listens on it.
func newReceiver(t testing.TB, cfg *tls.Config) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, addr: ln.Addr().String(), tls: cfg, conns: map[net.Conn]bool{}, got: make(chan struct{}, 1)}
	ln.Close()
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) start() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 100 { // the port was ours a moment ago; TIME_WAIT never holds a listener's port
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	if r.tls != nil {
		ln = tls.NewListener(ln, r.tls)
	}
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns[c] = true
			r.mu.Unlock()
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				r.read(c)
			}()
		}
	}()
}

func (r *receiver) read(c net.Conn) {
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReader(c)
	for {
		f, err := readOctetFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				r.mu.Lock()
				r.frames = append(r.frames, "ERROR "+err.Error())
				r.mu.Unlock()
			}
			return
		}
		r.mu.Lock()
		r.frames = append(r.frames, f)
		r.mu.Unlock()
		select {
		case r.got <- struct{}{}:
		default:
		}
	}
}

func readOctetFrame(br *bufio.Reader) (string, error) {
	n, err := br.ReadString(' ')
	if err != nil {
		return "", err
	}
	size, err := strconv.Atoi(n[:len(n)-1])
	if err != nil || size <= 0 {
		return "", fmt.Errorf("bad octet count %q", n)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(br, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// stop closes the listener and every connection, after reading what
// they had sent, and waits for its goroutines.
func (r *receiver) stop() {
	r.mu.Lock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// received returns the frames so far.
func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.frames...)
}

// waitFrames waits until n frames arrived.
func (r *receiver) waitFrames(n int) []string {
	r.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if f := r.received(); len(f) >= n {
			return f
		}
		select {
		case <-r.got:
		case <-deadline:
			r.t.Fatalf("received %d frames, want %d", len(r.received()), n)
		}
	}
}
