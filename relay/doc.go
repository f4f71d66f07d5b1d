// Package relay is floodgate's plumbing: it receives syslog, frames and
// parses it, spreads sources over shards, runs each shard's chain of stages
// (dedupe, then budgets) and writes what comes out.
//
//	inputs ─► frame ─► source key ─► shard ─► parse ─► dedupe ─► budgets ─► outputs
//
// Framing is cheap and parsing is not, so inputs only frame, and hash the
// host and app of each frame (parse.SourceKey) to pick its shard; each
// shard's goroutine parses what it owns. That spreads the parse over every
// core even when all messages arrive on one TCP connection, and keeps
// every source's messages in order, because a source always lands on the
// same shard. A shard owns its stages' state, so dedupe and ratelimit need
// no locks.
//
// The pipeline has one clock, passed into the stages: wall time in `run`,
// the messages' own timestamps (never going backwards) in `replay`. Queues
// between inputs and shards are bounded: a full shard slows the connection
// that feeds it, never the others; datagram inputs count what they could
// not queue.
//
// Server runs the relay live with its sockets and metrics; Replay runs the
// same pipeline over capture files.
package relay
