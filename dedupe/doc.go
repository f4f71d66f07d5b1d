// Package dedupe collapses log floods into counted summaries: goroutine
// dumps, exception traces, restart loops and repeated lines are written
// once and counted afterwards, so that a flood costs a few lines on disk
// and still says what happened and how often.
//
// An Engine is one stage of the pipeline (a floodgate.Handler) for the
// sources of one shard. It works in three steps, in this order.
//
// Blocks. Per (host, app, procid) stream, the lines of a multi-line block
// are held together: a Go goroutine dump in every form the runtime prints,
// a Go panic or fatal error header, a Java exception or a Python
// traceback. A block ends at the next header, at a line that does not
// continue it, when it has been idle for BlockIdle, or at a line or byte
// cap. Its fingerprint follows maruel/panicparse's bucketing: function
// names and file:line, never arguments, offsets, goroutine ids, pointers or
// wait durations. A block is written whole when its fingerprint is new, or
// when it holds a line whose template was never written for its source (a
// known stack in a new state); otherwise it is counted, with the goroutine
// states seen.
//
// Cycles. Per (host, app) source, the sequence of units (lines and
// blocks) is watched for a short period that repeats twice in a row, such
// as systemd restarting a unit every two seconds. From then on, units that
// follow the cycle are counted into one cycle summary instead of one
// summary per line. systemd's restart-loop messages, old and new wording,
// are recognised on their own: the unit, its restarts and exit status are
// kept and offered to alarms (RestartLoops, Options.OnRestartLoop).
//
// Repeats. A single line whose template was seen in the source within
// Window is counted. A template is the line with rsyslog's #011 escapes
// decoded and its variable tokens masked in a single pass (numbers, hex and
// pointer values, UUIDs, IPv4 and IPv6 addresses with ports, MACs,
// durations' numbers, quoted ids); words are never masked, so lines that
// differ in words never merge. Templates are hashed with xxhash, so
// fingerprints are the same across runs and processes. A line's severity
// is part of its pattern. And whatever the template says, a line is
// written when its exemplar form (the text with only digits and 0x-hex
// masked, contract-check's view) was never written for its source: the
// first "key 07c86d92" and the first "key 5ab3da7e" are both written, and
// their repeats folded (exemplar.go).
//
// Summaries are emitted when a pattern goes quiet for Window, every Flush
// while it goes on, when it is evicted from the pattern table (an LRU
// capped by MaxPatterns), and at the final tick. For every source, the
// messages written plus the counts of the summaries equal the messages
// received, and no message is both written and counted.
//
// The engine is pure: records in, records out, time passed in. It reads no
// clock and does no I/O, so replay and tests drive it with message time.
//
// # Adding a block detector
//
// A kind of multi-line block (a Rust panic, a .NET exception) is four
// small pieces in block.go, and nothing else in the engine changes:
//
//  1. a blockKind constant, and its noun for summary sentences;
//  2. in headerKind, the test for its first line (it runs on every line,
//     so switch on the first byte before comparing strings);
//  3. in continues, which lines continue it and which one ends it;
//  4. in (*block).addFrame, what of each line goes into the block's
//     fingerprint: function names and file:line, never arguments, ids,
//     addresses or durations (lines it does not know can fall back to
//     their template, b.writeTemplate).
//
// Then put a few real blocks of that kind in testdata/<kind>/input.log (two
// with the same frames but different ids, and a near miss with one frame
// different) and run go test -update: TestGolden picks up every
// testdata/*/input.log and checks accounting and first occurrences for it
// like for every other kind.
package dedupe
