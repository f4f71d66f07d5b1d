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
// a Go panic or fatal error header, a Java exception through its last
// "at" or "... N more" with its "Caused by" sections, a Python traceback
// chain through its final exception with its "direct cause" and "During
// handling" sections, and, for any other program, a line followed by
// indented continuation lines (a tab, rsyslog's #011, or spaces) of its
// stream, each within BlockIdle of the one before (a config dump printed
// at every crash). A block ends at the next header, at a line that does
// not continue it, when it has been idle for BlockIdle, or at a line or
// byte cap. Its fingerprint follows maruel/panicparse's bucketing:
// function names and file:line, never arguments, offsets, goroutine ids,
// pointers or wait durations (an indented run's is its lines' templates).
// A block is written whole when its fingerprint is new, or when it holds a
// line whose template was never written for its source (a known stack in a
// new state); otherwise it is counted, with the goroutine states seen.
//
// Cycles. Per (host, app) source, the sequence of units (lines and
// blocks) is watched for a crash loop: three or more different units, one
// of them a systemd restart line or a block, that repeat in order (twice
// over, three times for a short cycle), such as systemd restarting a unit
// every two seconds. From then on, units that follow the cycle in phase
// are counted into one cycle summary instead of one summary per line; a
// long cycle may skip a few lost lines, and a systemd restart loop
// re-phases at any of its lines. Lines that merely recur together (a link
// going down and up) are not a cycle: a cycle's summary stands for all its
// lines under one fingerprint, which must never join lines that differ in
// a word that carries meaning. systemd's restart-loop messages, old and
// new wording, are recognised on their own: the unit, its restarts and
// exit status are kept and offered to alarms (Options.OnRestartLoop).
//
// Repeats. A single line whose pattern was seen in the source within
// Window is counted. The template of a line is its text with rsyslog's
// #011 escapes decoded and its variable tokens masked in a single pass
// (numbers, hex and pointer values, UUIDs, IPv4 and IPv6 addresses with
// ports, MACs, durations' numbers, quoted ids, timestamps written out with
// their day and month names); a path or URL is one token. Its pattern is the template with the places learned to be
// parameters marked (places.go): a user name, a pod name, an interface,
// once its place has shown sixteen different values, or twelve of which
// half or more were seen once; a path, URL or DNS name once its place has
// shown four; words at places with fewer than twelve values (Failed and
// Accepted, UP and DOWN, an exit reason, an exception class) keep their
// patterns apart, and so do those of up to fifteen that recur. A line's
// severity is part of its pattern, so an error never hides in a summary of
// harmless lines. Patterns are hashed with xxhash: a fingerprint is a
// function of the pattern alone, the same across runs and processes.
//
// Summaries are worth their bytes. A pattern holds copies of the first
// three messages it counts; a count that small is written as the lines
// themselves unless they are long (a summary for two or three saves a
// line or two and hides what they said; each record is priced at 256
// bytes beyond its own), and always for one: no summary stands for a
// single message. Summaries before FlushMax are for floods: a flood's
// first summary comes within Flush of its first counted message, later
// ones at intervals that grow 32-fold up to FlushMax (30 s, 16 min, 1 h
// with the defaults), each while the count keeps a flood's rate (eight
// messages, and eight in every two minutes of the interval). A slower
// pattern, a trickle (one of the thousand patterns of an access log), has
// its count written every FlushMax, so a trickle that lives for hours
// costs a summary an hour, not one per step. A pattern
// quiet for Window, evicted from the pattern table (an LRU capped by
// MaxPatterns) or ended by the final tick has its count emitted too. A
// repeat summary says what varied: for up to three places (learned
// parameters first, then masked tokens), how many distinct values and the
// most frequent few ("vol-07 ×3, vol-02 ×2, … 9 distinct"), in its text
// after the sentence and as a "varied" field. For every source, the
// messages written plus the counts of the summaries equal the messages
// received, and no message is both written and counted.
//
// Messages of ExemptApps, or of ExemptSeverity and worse, are never
// folded. An Observer (Options.Observer; replay's -labels) is told the
// fate of every message: written as an occurrence of a pattern, or
// counted into the summary with a fingerprint.
//
// The engine is pure: records in, records out, time passed in. It reads no
// clock and does no I/O, so replay and tests drive it with message time.
// It allocates nothing per line in steady state.
//
// # Cost, cores and memory
//
// What the engine computes of a line without its state is a pure function
// of the text, Prepare (prepare.go): the masked template and its hash, the
// skeleton and its hash, where the words and masked tokens stand. The
// relay calls it in the input goroutine that parsed the frame when the
// shard the message goes to is the slower side (it has batches waiting),
// and carries the result with the record (floodgate.Record.Prep), so one
// source's flood uses two cores; the engine prepares records that carry
// none itself, and ignores a Prepared made for another text. The hashes of
// words are computed on the shard when first needed, which free text and
// block lines never do.
//
// A line that never repeats costs little: its pattern goes into no table.
// A doorkeeper (a direct-mapped table of 32,768 slots, TinyLFU's
// admission) remembers a pattern's first sighting, and only a second one
// within Window makes it a pattern of the table; a slot taken over by
// another pattern only makes a second sighting look like a first, which
// writes the line again, and a slot holds the whole key, so no line that
// was never written is ever folded by it. The learning state is bounded
// too: skeletons are remembered from their second sighting (a doorkeeper
// of hashes again; a collision there only starts learning early), the
// places of the skeletons learning are budgeted (a quarter of MaxPatterns,
// at most 32,768 places of 230 bytes) and recycled, and a skeleton whose
// places had a new word in each of its first eight lines is free text
// and learns no more. Free skeletons are remembered apart from the groups
// (freetext.go: 16,384 tags in 128 KiB, eight to a cache line), so that
// a line of one costs one probe rather than a group-table lookup, and a
// free skeleton whose group the table has forgotten is not learned again;
// a tag shared by two skeletons only keeps one from learning masks, which
// writes lines, never folds them. Ten million unique lines run in 36 MiB
// of resident memory, flat after the first million (TestUniqueLinesRSS).
//
// Patterns are keyed by 64-bit hashes (xxhash) of their templates within
// a source, and not verified against the template: two templates of one
// source with the same hash would share a pattern, and a line of the
// second would be counted as the first. The risk is accepted and bounded:
// with the 100,000 patterns of the default table in one source it is
// about one in 4·10⁹ (n²/2⁶⁵), far below the rate of lost
// lines of any transport. xxhash is not keyed, so a sender who can choose
// its lines could aim for a collision; budgets, not dedupe, bound what
// such a sender can hide.
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
