package main

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// Over UDP nothing tells a sender to slow down: what overflows the
// socket's receive buffer is dropped by the kernel, before floodgate sees
// it. Those drops are counted (floodgate_input_kernel_drops_total, from
// /proc/net/udp), so that what the files hold plus what the kernel
// dropped is what was sent. A tiny receive buffer and four senders at
// full speed make the kernel drop for certain.
func TestUDPOverloadCountsKernelDrops(t *testing.T) {
	if testing.Short() {
		t.Skip("a UDP flood")
	}
	config := `
[[input]]
type = "udp"
address = "127.0.0.1:0"
read_buffer = "4KiB"

[[output]]
type = "file"
path = "{dir}/out/{host}/{app}.log"
format = "json"

[dedupe]
enabled = false

[ratelimit]
enabled = false

[metrics]
address = "127.0.0.1:0"
`
	d := startDaemonWithMetricsIn(t, t.TempDir(), config, 1)
	const senders, each = 4, 25_000
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("udp", d.addrs["udp"])
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for i := range each {
				msg := fmt.Sprintf("<14>1 2026-12-08T01:00:00Z host%d app 1 - - datagram %d of sender %d", s, i, s)
				if _, err := c.Write([]byte(msg)); err != nil {
					t.Error(err) // loopback UDP does not refuse a send
					return
				}
			}
		}()
	}
	wg.Wait()
	const sent = senders * each
	// Once floodgate has read what the kernel kept, received and dropped
	// add up to what was sent.
	var received, dropped int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		received = scrapeSum(t, d.metrics, "floodgate_input_messages_total")
		dropped = scrapeSum(t, d.metrics, "floodgate_input_kernel_drops_total")
		if received+dropped >= sent || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling counters: no event to wait on
	}
	d.stop()
	if received+dropped != sent {
		t.Fatalf("received %d + kernel drops %d = %d, want the %d sent", received, dropped, received+dropped, sent)
	}
	if dropped == 0 {
		t.Fatalf("no kernel drops with a 4 KiB buffer and %d datagrams: the overload path was not exercised", sent)
	}
	c := accountFor(t, d.dir+"/out")
	if c.verbatim+c.counted != received {
		t.Errorf("files account for %d messages, want the %d received", c.verbatim+c.counted, received)
	}
	t.Logf("sent %d: received %d, kernel dropped %d (%.1f%%)", sent, received, dropped, 100*float64(dropped)/sent)
}
