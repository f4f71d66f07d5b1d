// Package input receives syslog messages from sockets and streams and
// hands them on in batches of raw frames.
//
// An input is one Listener, described by Options (DefaultOptions holds
// every default; the config package builds on it): a UDP or unix datagram
// socket, where each datagram is one message; a TCP, TLS or unix stream
// socket, with one goroutine per client; or stdin. Listen binds before it
// returns, so a bad address is the caller's error, and from then on the
// Listener owns its goroutines until Shutdown (drain) or Close (abort)
// has waited for all of them. With Options.File, Listen serves a socket
// systemd bound and passed (socket activation) instead of binding one: a
// duplicate of it, checked to be of the kind the type reads, and a unix
// socket's file left to the socket unit.
//
// # TLS
//
// A tls input (RFC 5425) is a TCP listener whose clients are read through
// a TLS session, TLS 1.2 at least: framing, limits, timeouts and drain are
// those of tcp. The certificate and key, and with a client CA the
// requirement of a client certificate it signed (mutual TLS), come from
// internal/tlsconf: ReloadTLS (SIGHUP) swaps the whole configuration for
// the handshakes that follow, and keeps the one in use when the files do
// not load, counting that. The handshake runs in the client's own
// goroutine, not the accept loop, under HandshakeTimeout (10 s); until it
// is done the client holds a slot as a client that has delivered nothing,
// so a stalled handshake is closed at its deadline, or sooner to make
// room; Shutdown lets a handshake under way finish, within the drain
// deadline, so a client that connected as the relay was told to stop
// still has its messages read. A failed handshake is counted and logged. Clients are closed on
// their socket, without a close_notify, so that closing one never waits
// on it.
//
// # Framing
//
// Framing is ours, not the syslog parser's: the parser's own stream
// readers stop a whole stream after one oversize frame, have no size
// limit, or drop lines silently. A Framer decides each frame by its first
// bytes, much as rsyslog's imtcp does: digits, a space and the '<' of a
// syslog message's PRI start an RFC 6587 octet count ("57 <13>1 2026-...");
// anything else is a line ended by LF or NUL. (rsyslog looks at the first
// digit only; requiring the '<' keeps a bare line such as "200 OK" in a
// capture from being cut by length.)
//
// Every frame is bounded by the maximum message size, and no input is
// lost silently; the stream always carries on:
//
//   - a line too long is delivered cut at the maximum and counted; the
//     rest of it is skipped up to its LF, or up to the next place where
//     an octet-counted frame plausibly starts, so a flood of bytes
//     without LF costs the frames after it nothing;
//   - an octet-counted frame too long, but plausibly a frame (a count up
//     to 16 times the maximum, and at least 1 MiB), is delivered as its
//     first bytes (up to 1 KiB and the maximum, cut at a space), marked in
//     Batch.Oversize, so that the relay counts it under its source in a
//     suppressed summary of reason oversize; the rest is skipped unread
//     and counted;
//   - a count that cannot start a frame (a sign, a leading zero, too many
//     digits, a count beyond the plausible, no '<' after it) is garbage:
//     the bytes up to the next LF, or the next "LEN <PRI>" that is
//     followed by the start of another frame, are delivered as a frame of
//     their own (an unparsed record, cut at the maximum) and counted bad,
//     and framing resynchronises there;
//   - bytes skipped are counted (Stats.SkippedBytes).
//
// # Connections
//
// A stream client holds a slot, at most MaxConnections of them. Slots are
// never refused: when they are all taken, the client that has delivered
// no frame for longest is closed to make room, once it has had a second
// to deliver and provided the kernel holds nothing unread for it (what it
// sent of a frame is delivered); failing such a client, a new one waits
// in the kernel's accept queue, with what it sent, until a slot frees. A
// client that connects, sends and closes gives its slot back as soon as
// its frames are handed on. A client that has delivered a frame, such as
// rsyslog's forwarding connection, is never the one closed to make room.
//
// One source address may hold MaxConnectionsPerPeer TCP slots. A peer at
// its limit makes room from its own clients that delivered nothing;
// failing that, while the peer is sending (it sent bytes within the last
// second, or the Sink holds one of its clients), its new connection waits
// for one of its slots, up to 30 s, without holding up other peers; a peer
// whose clients all deliver and sit idle has its new connection refused
// and counted.
//
// A client idle between frames is closed after IdleTimeout. A frame must
// be complete FrameTimeout after it began: bytes dribbled in do not extend
// it, so slow clients cannot keep a slot by sending a byte now and then.
//
// # Shutdown
//
// Shutdown stops accepting, after taking every connection the kernel has
// completed and holds in its backlog, and reads what connected clients
// send until they
// close; a client with no partial frame that sends nothing for DrainGrace
// (250 ms) has sent what it will, what the kernel held for it having been
// read, and is closed; a client in the middle of a frame has until the
// caller's deadline. A stdin input ends at its EOF, and Done says so: the
// relay takes that, where stdin is its only input, as the end of the run.
//
// # Throughput
//
// Throughput comes from batching. A client's bytes are read 64 KiB at a
// time into a buffer of its own, and every complete frame in it goes to
// the Sink in one Batch, as slices of that buffer: a frame is copied only
// when it spans the end of a read, and steady state allocates nothing per
// frame. A datagram socket likewise takes every datagram waiting in the
// kernel, 64 per recvmmsg(2) call, into one batch: about four times the
// rate of a read(2) per datagram. A client that stalls in the middle of
// a frame holds nothing but its own buffer and goroutine; a slow Sink
// holds back only the connection it was called for.
//
// Stats counts what happened, atomically, for the metrics endpoint. The
// input's own logs are rate limited per message (internal/logging).
package input
