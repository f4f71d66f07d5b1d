// Package input receives syslog messages from sockets and streams and
// hands them on in batches of raw frames.
//
// An input is one Listener: a UDP or unix datagram socket, where each
// datagram is one message; a TCP or unix stream socket, with one
// goroutine per client; or stdin. Listen binds before it returns, so a
// bad address is the caller's error, and from then on the Listener owns
// its goroutines until Shutdown (drain) or Close (abort) has waited for
// all of them.
//
// Framing is ours, not the syslog parser's: the parser's own stream
// readers stop a whole stream after one oversize frame, have no size
// limit, or drop lines silently (DESIGN.md, "Parser"). A Framer decides
// each frame by its first bytes, much as rsyslog's imtcp does: digits, a
// space and the '<' of a syslog message's PRI start an RFC 6587 octet
// count ("57 <13>1 2026-..."); anything else is a line ended by LF or NUL.
// (rsyslog looks at the first digit only; requiring the '<' keeps a bare
// line such as "200 OK" in a capture from being cut by length.) Every frame is bounded by the maximum message size,
// and no input is ever lost silently: a line too long is cut and counted,
// an octet-counted frame too long is skipped unread and counted, and a
// count that is not one makes the frame a line, kept and counted. The
// stream always carries on with the next frame.
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
// Stats counts what happened, atomically, for the metrics endpoint.
package input
