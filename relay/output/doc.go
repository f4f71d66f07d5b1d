// Package output writes records where the configuration says: to files
// named from the records themselves, or to one writer such as stdout. The
// network outputs, to a central syslog receiver and to Kafka, are in
// package forward below it; they implement the same Output interface and
// keep the same accounting.
//
// Dest is the one destination type for both: New builds it from Options
// (DefaultOptions are the built-in configuration's), NewWriter for a
// given io.Writer. Buffering, failure, loss and close work the same way
// for files and for a writer; only files rotate, are reopened when moved
// away, and have a disk guard.
//
// An Output buffers. Write encodes a record (package format) into the
// buffer of its destination and returns; Flush, called by the relay on a
// short interval and at shutdown, writes the buffers out; Close flushes and
// releases everything. All three are safe for concurrent use by the shard
// goroutines.
//
// # Nothing is lost, not even on a full disk
//
// A write that fails (no space left, an I/O error, a directory removed
// under us) is counted, and the data stays in its buffer to be tried again
// on the next Flush. Between failures Write only appends, so a dead disk
// costs one failed system call per file and Flush, not one per record.
// Buffers are bounded by max_buffer: past it, a new record is dropped and
// counted against its source (host, app), and once a Flush writes every
// buffer out again the output writes, for each such source, a suppressed
// summary of its own (fp "write-error", reason "write error", count = the
// messages lost). So the accounting of docs/output-format.md still holds: verbatim
// records plus summary counts equal the messages received. Only what is
// still buffered when Close gives up is lost for good, and Close says so
// in its error, in the log and in Stats.Lost, counted in messages like
// every loss (a summary counts for the messages it stands for).
//
// Errors are logged through the logger New is given, which the relay
// scopes (component=output) and floodgate rate-limits at the top
// (internal/logging): a relay that floods its own log with write errors is
// the bug floodgate exists to prevent.
//
// # Files
//
// The file output fills the path's placeholders {host} {app} {facility}
// {severity} {date} from the record. Host and app are untrusted input, so
// every value is sanitized: '/', NUL and other control characters become
// '_', and an empty value, "." or ".." becomes "_". No value can then name
// a directory outside the base directory, the part of the path before the
// first placeholder. Directories are created 0755 and files opened
// O_APPEND|O_CREATE 0640. Open handles are capped (max_open_files) by an
// LRU: the least recently used handle is flushed and closed first, and a
// closed handle is never written again. Before writing out a buffer, Flush
// checks that the path still names the open file, so a file or directory
// removed or renamed under us (by hand or by logrotate) is recreated
// rather than written into the void. Between Flushes a full buffer is
// written out at once, so every write is followed by an fstat: a write
// that went to a file already unlinked (rm -rf of the directory under a
// flood) is not forgotten but written again to the reopened file, and
// counted (Stats.FilesDeleted, Stats.Rewritten).
//
// # Bounded fan-out
//
// Every host name a sender makes up would be a directory and a file. The
// output writes at most max_files_total current files at once (open or
// not; a file keeps its place while it is written); one not written for
// file_idle (yesterday's {date}, a host gone quiet) frees its place, the
// least recently written first. Past the cap, records of new sources go
// to the overflow file: the path with {host} and {app} replaced by
// "_overflow", each line still carrying its own host and app, so the
// accounting holds. So do the records of a file that cannot be created
// for want of inodes or space (ENOSPC, EDQUOT), with what it had
// buffered, and new sources once the filesystem has fewer than 64 free
// inodes (read once a second, less two for every new file since): the
// last inodes are kept for the overflow file and floodgate's own.
// A warning record of floodgate's own (app "floodgate", the relay's host,
// event "overflow") says so, at most once a minute, and Stats.Overflow
// counts the messages. floodgate's own records always get their own file.
// A failed mkdir or open makes opening that file back off (100 ms
// doubling to 5 s), and when the error is ENOSPC, EDQUOT, EMFILE or ENFILE
// creating any file backs off so (new sources meanwhile go to the overflow
// file), instead of being retried for every file at every Flush: a
// filesystem out of inodes costs a few system calls a second and never
// holds the output's lock for long. Close tries once more regardless.
//
// Buffers are plain byte slices rather than bufio.Writers: a bufio.Writer's
// errors are sticky, and this output must keep unwritten data and try
// again.
//
// Files rotate by size: a write that would take a file past max_size
// renames it aside at a line boundary and opens a new one. The numbered
// files (app.log.1 newest … app.log.N oldest, .gz when compress is on),
// the removal of the oldest, gzip and the max_total bound on the base
// directory are all handled by one goroutine the output owns, in the order
// rotations happened. max_total counts the bytes really on disk, current
// files and rotated ones, from an index of sizes built by one walk when
// the output opens and kept up to date on every write, rotation, gzip and
// removal, so that no rotation walks the tree. Before a write would take
// the directory past max_total the oldest rotated files go first, by age
// across every source, as journald vacuums, and the write waits for it:
// the bound holds at every moment, as long as rotated files are left. Doing it there keeps a gzip of a large file from
// stalling every shard behind the output's lock, and keeps a single owner
// of the numbered names, so a rotation can never race a compression. Only
// rotated files are ever removed, oldest first; current files never are.
//
// # The disk guard
//
// Once a second the file output reads the free space (statfs) of each
// filesystem it writes to, and compares it with min_free and
// hard_min_free; DiskLevel reports the worst level. A write failing with
// ENOSPC or EDQUOT sets DiskFull at once. The output does not act on the
// level itself: the budget stage (package ratelimit) reads it, and passes
// only protected severities and summaries under DiskLow, nothing under
// DiskFull.
package output
