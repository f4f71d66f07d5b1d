// Package ratelimit bounds the bytes each source may write, and says what
// it dropped.
//
// During a log flood nothing else bounds what one source writes: the
// incident floodgate exists for filled a disk with one daemon's goroutine
// dumps. Budgets, a floodgate.Handler placed after dedupe (so that a
// collapsed flood costs little), gives every source a token bucket in
// bytes: Rate bytes per second, up to Burst at once. A source is a
// (host, app) pair unless Options.Key says otherwise; "peer", the sender's
// IP address, is the key for senders that cannot be trusted, since the host
// name in a message is the sender's to choose. Messages of the
// Protect severity or worse (err by default) are charged to a second,
// larger bucket of the same source instead, so an info flood never starves
// errors while an error flood is still bounded. An optional Global budget,
// shared by all shards, bounds all sources together; protected messages
// are charged to it but never refused by it. Overrides give matching
// sources their own budget.
//
// Rate limits that silently hide messages are what users of rsyslog and
// journald complain about, so nothing is dropped without a trace: every
// dropped message is counted into a pending summary of kind "suppressed"
// per source and reason (budget, protected budget, global budget, disk),
// with its count, bytes, first and last times, the budget that applied and
// a sample line. The summary is emitted when the source is back under
// budget (the bucket that refused it is full again), every Flush interval
// while it stays over, when the source is evicted from the table, and at
// the final Tick. Summary records from upstream are never refused by a
// budget. For every source, messages passed on plus the counts of its
// summaries equal the messages received, which is the "nothing is lost" rule
// of docs/output-format.md kept at this stage.
//
// The disk policy comes from the file output's guard through Options.Disk:
// under DiskLow only protected messages and summaries pass; under DiskFull
// nothing does, and what is held back is counted for the reason "disk"
// (a summary by its Count; floodgate's own internal records, which are no
// messages received, only in Stats). Each change of level passes on one
// warning record of Syntax floodgate.Internal from the relay host,
// which belongs to no source's accounting.
//
// The package is pure: time is passed in as the pipeline's clock (message
// time in replay), and Budgets does no I/O. Buckets are exact integer
// arithmetic, so a source flooding for ten minutes writes at most
// burst + rate × duration bytes (plus one message when a line larger than
// the burst is let through a full bucket and charged in full). Sources
// live in an LRU capped at MaxSources; a source whose buckets have refilled
// completely and that has nothing pending is forgotten at the next Tick,
// which changes nothing because a new source starts full. In steady state
// Handle allocates nothing.
package ratelimit
