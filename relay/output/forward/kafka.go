package forward

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaInflight and kafkaInflightBytes bound the records handed to the
// Kafka client and not yet acknowledged.
const (
	kafkaInflight      = 10000
	kafkaInflightBytes = 16 << 20
)

// kafkaDialer makes a Kafka client per connection: idempotent producer,
// acks from all in-sync replicas, records batched by the client (lingering
// a few milliseconds) and partitioned by key, host/app, so that every
// source's records stay in order in one partition.
type kafkaDialer struct {
	opts Options
	tls  *tls.Config // nil for plain TCP
}

func newKafkaDialer(o Options) (*kafkaDialer, error) {
	d := &kafkaDialer{opts: o}
	if o.Protocol == "tls" {
		cfg, err := clientTLS(o)
		if err != nil {
			return nil, err
		}
		d.tls = cfg
	}
	return d, nil
}

func (d *kafkaDialer) maxInflight() (int, int64) { return kafkaInflight, kafkaInflightBytes }

func (d *kafkaDialer) dial(ctx context.Context, wake chan<- struct{}) (conn, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(d.opts.Brokers...),
		kgo.DefaultProduceTopic(d.opts.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.MaxBufferedRecords(2 * kafkaInflight),
		kgo.DialTimeout(d.opts.Timeout),
	}
	if d.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(d.tls.Clone()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("reach kafka brokers %v: %w", d.opts.Brokers, err)
	}
	return &kafkaConn{cl: cl, timeout: d.opts.Timeout, wake: wake}, nil
}

// kafkaConn produces through one client. Acknowledgements come back in
// callbacks on the client's goroutines, out of order across partitions;
// an item is done once its own has come.
type kafkaConn struct {
	cl      *kgo.Client
	timeout time.Duration
	wake    chan<- struct{}

	pending []sent         // produced, oldest first, trimmed of done ones in front
	open    sync.WaitGroup // callbacks still to come
	failed  atomic.Pointer[error]
}

func (c *kafkaConn) send(items []*item) error {
	now := time.Now()
	for _, it := range items {
		key := make([]byte, 0, len(it.host)+1+len(it.app))
		key = append(append(append(key, it.host...), '/'), it.app...)
		rec := &kgo.Record{Key: key, Value: it.data}
		c.open.Add(1)
		c.pending = append(c.pending, sent{it: it, at: now})
		c.cl.TryProduce(context.Background(), rec, func(_ *kgo.Record, err error) {
			defer c.open.Done()
			if err != nil {
				c.failed.CompareAndSwap(nil, &err)
			} else {
				it.done.Store(true)
			}
			select {
			case c.wake <- struct{}{}:
			default:
			}
		})
	}
	return c.err()
}

func (c *kafkaConn) err() error {
	if p := c.failed.Load(); p != nil {
		return fmt.Errorf("produce to kafka: %w", *p)
	}
	return nil
}

func (c *kafkaConn) poll() error {
	i := 0
	for i < len(c.pending) && c.pending[i].it.done.Load() {
		i++
	}
	c.pending = c.pending[i:]
	if err := c.err(); err != nil {
		return err
	}
	if len(c.pending) > 0 && time.Since(c.pending[0].at) > c.timeout {
		return fmt.Errorf("%w for %s", errNoAck, c.timeout)
	}
	return nil
}

// close waits a moment for the produce requests on the wire to be
// answered, fails the rest, and waits for every callback, so that no item
// is marked done after it returns.
func (c *kafkaConn) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err := c.cl.AbortBufferedRecords(ctx)
	cancel()
	c.cl.Close()
	c.open.Wait()
	if err != nil {
		return fmt.Errorf("abort kafka records: %w", err)
	}
	return nil
}
