// Package forward sends records over the network: to an upstream syslog
// receiver (type "forward": RFC 5424 in RFC 6587 octet-counted frames
// over TCP, or over TLS as RFC 5425 has it, the way rsyslog's omfwd
// sends) or to a Kafka topic (type "kafka": the JSON format of
// docs/output-format.md, keyed by host/app).
//
// An Output is an output.Output like a file: Write encodes a record and
// queues it, and never waits for the network, so a slow or dead upstream
// fills the queue and never the shards. One goroutine of the output's own
// connects, sends the queue in order, and reconnects with exponential
// backoff (reconnect_min doubling up to reconnect_max, with jitter) when
// the connection breaks.
//
// # Delivered means acknowledged
//
// A record stays in the queue, "in flight", after it is written to the
// socket, until the upstream has acknowledged it: over TCP and TLS when
// the receiver's TCP stack has acknowledged its last byte (the kernel's
// tcpi_bytes_acked, compared with the bytes written, TLS records
// included), in Kafka when the broker has acknowledged the produce
// request (acks=all, idempotent producer). When a connection breaks, what
// was in flight and not acknowledged goes back to the front of the queue
// and is sent again on the next connection, so an upstream restart loses
// nothing and repeats nothing. The limit is the receiver's: what its TCP
// stack acknowledged and it then threw away is lost, as it is with omfwd,
// and no sender over plain TCP or TLS can tell. rsyslog does throw some
// away when it is stopped while records stream in: what sits in its
// socket buffer when it closes the connection (the sender gets a reset),
// and what its in-memory main queue still holds at its shutdown timeout.
// Stopped between bursts it loses nothing. RELP is rsyslog's answer to
// this; the forward output does not speak it.
//
// # TLS
//
// With protocol "tls" the output speaks TLS 1.2 or later, checks the
// upstream's certificate against ca (the system's roots without it) for
// server_name (the host of address without it), and presents cert and key
// when the upstream asks for a client certificate. In TLS 1.3 a server
// checks the client's certificate after the client has finished its
// handshake, and throws away what the client sent if it rejects it, while
// its TCP stack has acknowledged those bytes all the same. So after a
// TLS 1.3 handshake in which a certificate was asked for, the output
// waits half a second for a rejection before it sends anything.
//
// # Kafka
//
// The kafka output produces with github.com/twmb/franz-go: an idempotent
// producer (acks from all in-sync replicas, so a retried batch is written
// once), batches the client builds while records linger a few
// milliseconds, the key host/app so that each source's records land in
// one partition in order, and the value the record in the JSON format of
// docs/output-format.md. At most 10,000 records (16 MiB) are in flight;
// each is done when the broker acknowledged it. When the brokers cannot be reached
// or acknowledge nothing for timeout, the client is closed, what it had
// not delivered goes back to the queue, and a new client is made after the
// backoff. A produce request that reached the broker while its answer was
// lost in that moment is sent again: the only way the kafka output
// repeats a record. With protocol "tls" it speaks TLS to the brokers with
// the same keys as forward, each broker's certificate checked for its own
// host name; it has no SASL yet.
//
// # Memory, then disk, then counted
//
// The queue is bounded in memory by max_buffer; what is in flight is held
// besides, bounded by the socket's send buffer, which is what the kernel
// would hold anyway. Past it, with queue_dir set, records spill to a disk queue
// bounded by queue_max, in segment files that are read back in order as
// the upstream catches up; once anything waits on disk, new records queue
// behind it there, so order is kept. A head file records how far the
// upstream has acknowledged, so what was read from disk and not delivered
// is read again after a restart. Segments are written through the page
// cache and synced at Close: a crash of floodgate loses nothing written,
// a crash of the machine may lose what the kernel had not written yet. One
// output holds a queue directory at a time (a flock on its lock file).
// Past both bounds (or past memory without
// queue_dir) a record is dropped and counted against its source
// (host, app): Write returns output.ErrDropped, and once the upstream is
// back the output sends, for each such source, a suppressed summary of
// its own (fp "queue-full", reason "queue full", count = the messages
// dropped). So verbatim records plus summary counts at the upstream equal
// the messages received.
//
// Close keeps sending for up to close_timeout while the upstream is up.
// What is left then, or at once when the upstream is down, spills to the
// disk queue ahead of what already waits there, with the suppressed
// summaries still owed, and is sent after a restart; the spill may take
// the disk queue past queue_max by at most max_buffer, rather than lose
// anything. Without queue_dir what is left is lost, counted in
// Stats.Lost and reported by Close.
//
// Metrics (Collector, on the relay's registry): records and bytes held in
// memory and on disk, the age of the oldest, whether the upstream is up,
// records sent (acknowledged), records dropped, connections made.
package forward
