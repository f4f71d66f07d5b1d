// Package relay is floodgate's plumbing: it receives syslog, frames and
// parses it, spreads sources over shards, runs each shard's chain of stages
// (dedupe, then budgets) and writes what comes out.
//
//	inputs ─► frame ─► parse ─► shard by source ─► dedupe ─► budgets ─► outputs
//	└──── the input's goroutine ────┘    └──────── the shard's goroutine ────────┘
//
// An input's goroutine frames what it reads and parses every frame, then
// hands each message to the shard its source hashes to. Each shard's
// goroutine runs the stages over what it owns. Parsing where frames are
// read and deduplicating in the shard makes the two a pipeline across
// cores, even when every message arrives on one TCP connection, and keeps
// every source's messages in order, because a source always lands on the
// same shard (with ratelimit.key on peer, every message of one sending
// address does). A shard owns its stages' state, so dedupe and ratelimit need
// no locks.
//
// The pipeline has one clock, passed into the stages: wall time in `run`,
// the messages' own timestamps (never going backwards) in `replay`. Queues
// between inputs and shards are bounded: a full shard slows the connection
// that feeds it, never the others; datagram inputs count what they could
// not queue.
//
// Ahead of dedupe, each chain watches every source's rate against its own
// baseline and writes a flood_start and a flood_end record of its own
// when a source floods (FloodOptions says when), straight to the outputs.
//
// Server runs the relay live with its sockets and metrics, and reloads its
// config on SIGHUP (Server.Reload, reload.go): every shard swaps the
// parts of its chain whose config changed at a safe point, a control
// message through its own queue, so the hot path takes no lock. Replay runs the
// same pipeline over capture files, and with ReplayOptions.Detail also
// tallies what `floodgate report` shows: per-source totals, a timeline,
// restart loops, and each top pattern's exemplar.
//
// A live Server with a metrics address also keeps a live table of its
// sources and patterns (live.go), served as JSON at /api/v1/sources and
// /api/v1/patterns (api.go) and read by `floodgate top`. Each shard feeds
// its part of the table without locks or allocations: a stage at the head
// of its chain counts what arrives, the stages' Observer says what became
// of each message, and a tap after dedupe lends the first line written of
// each pattern as its exemplar. On every tick the shard copies its part,
// under a lock held for the copy, for the server to merge on request and
// to sample once a second for rates, sparklines and the per-source
// metrics (livetable.go), whose labels, once given to a source, stay.
//
// A live Server with a state_dir checkpoints its pending summary counts
// (checkpoint.go): on every tick, and at least once a second, each shard
// copies what dedupe and the budgets hold pending (AppendPending) into a
// slice it owns, and one writer goroutine writes them per source to
// state_dir/checkpoint.json atomically (temporary file, fsync, rename,
// fsync of the directory). A summary, or a held line dedupe writes in
// place of a count (Record.Counted), waits in the shard's sink until a
// checkpoint taken after it is on disk, so a crash can lose a count,
// never count a message twice. The next start turns a checkpoint left
// behind into suppressed summaries of reason crash. Replay keeps none.
//
// An oversize octet-counted frame reaches the pipeline as its first bytes,
// marked (input.Batch.Oversize); the shard turns it into a suppressed
// summary of reason oversize under the source those bytes name.
//
// docs/design.md in the repository describes the whole design.
package relay
