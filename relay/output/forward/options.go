package forward

import (
	"fmt"
	"time"
)

// Types of the outputs this package opens.
const (
	TypeForward = "forward"
	TypeKafka   = "kafka"
)

// Handles reports whether typ names an output of this package.
func Handles(typ string) bool { return typ == TypeForward || typ == TypeKafka }

// Options configure a network output. New fills the fields left at zero
// from DefaultOptions.
type Options struct {
	// Type is "forward" (syslog over TCP or TLS) or "kafka".
	Type string
	// Address is the upstream syslog receiver, host:port (forward).
	Address string
	// Protocol is "tcp" (the default) or "tls" (for forward, RFC 5425).
	Protocol string
	// CA is a PEM file of the certificates that may sign the upstream's;
	// empty: the system's roots. Cert and Key are a client certificate
	// for mutual TLS, both or neither. ServerName is the name checked in
	// the upstream's certificate; empty: the host of Address.
	CA, Cert, Key, ServerName string
	// Brokers are the Kafka seed brokers and Topic the topic (kafka).
	Brokers []string
	Topic   string
	// MaxBuffer bounds the bytes of records queued in memory. Records
	// sent and not yet acknowledged by the upstream are held besides,
	// bounded by the socket's send buffer (Kafka: 10,000 records,
	// 16 MiB).
	MaxBuffer int64
	// QueueDir is where records spill when memory is full; they survive
	// a restart there. Empty: no disk queue, what does not fit in memory
	// is dropped and counted.
	QueueDir string
	// QueueMax bounds the bytes waiting in QueueDir.
	QueueMax int64
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// attempts to reach the upstream.
	ReconnectMin, ReconnectMax time.Duration
	// Timeout bounds one connect, handshake or write.
	Timeout time.Duration
	// CloseTimeout is how long Close keeps sending to an upstream that is
	// up before what is left spills to disk (or is counted as lost).
	CloseTimeout time.Duration
}

// DefaultOptions returns the defaults of a network output, the values of
// the built-in configuration.
func DefaultOptions() Options {
	return Options{
		Protocol:     "tcp",
		MaxBuffer:    8 << 20,
		QueueMax:     1 << 30,
		ReconnectMin: 100 * time.Millisecond,
		ReconnectMax: 10 * time.Second,
		Timeout:      10 * time.Second,
		CloseTimeout: 5 * time.Second,
	}
}

// filled returns o with zero fields taken from DefaultOptions.
func (o Options) filled() Options {
	d := DefaultOptions()
	if o.Protocol == "" {
		o.Protocol = d.Protocol
	}
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = d.MaxBuffer
	}
	if o.QueueMax <= 0 {
		o.QueueMax = d.QueueMax
	}
	if o.ReconnectMin <= 0 {
		o.ReconnectMin = d.ReconnectMin
	}
	if o.ReconnectMax <= 0 {
		o.ReconnectMax = d.ReconnectMax
	}
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = o.ReconnectMin
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = d.CloseTimeout
	}
	return o
}

// check returns the first problem with o, for callers that did not run
// config validation.
func (o Options) check() error {
	switch o.Type {
	case TypeForward:
		if o.Address == "" {
			return fmt.Errorf("forward output: no address")
		}
	case TypeKafka:
		if len(o.Brokers) == 0 || o.Topic == "" {
			return fmt.Errorf("kafka output: want brokers and a topic")
		}
	default:
		return fmt.Errorf("output type %q: want %q or %q", o.Type, TypeForward, TypeKafka)
	}
	if o.Protocol != "tcp" && o.Protocol != "tls" {
		return fmt.Errorf("%s output: protocol %q: want \"tcp\" or \"tls\"", o.Type, o.Protocol)
	}
	if (o.Cert == "") != (o.Key == "") {
		return fmt.Errorf("%s output: cert and key go together", o.Type)
	}
	return nil
}
