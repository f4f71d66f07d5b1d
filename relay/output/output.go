package output

import (
	"errors"
	"sync/atomic"

	"github.com/floodgate/floodgate"
)

// Output is a destination for records. Write, Flush and Close are safe for
// concurrent use by several goroutines; records written by one goroutine
// reach the destination in the order written.
type Output interface {
	// Write buffers r. It returns nil when r was buffered, ErrDropped when
	// r was counted as lost instead (the output will write a suppressed
	// summary for it), and ErrClosed after Close. It never panics, and never
	// retries a failing write itself: while writes fail it only buffers,
	// and only Flush tries again. It does wait for the output's lock, which
	// Flush holds while it writes.
	Write(r *floodgate.Record) error
	// Flush writes the buffers out and returns the first error; data that
	// could not be written stays buffered for the next Flush.
	Flush() error
	// Close flushes, stops the output's goroutines and closes its files.
	Close() error
}

// Errors of Write.
var (
	// ErrClosed is returned by Write after Close.
	ErrClosed = errors.New("output closed")
	// ErrDropped is returned by Write when the output's buffers are full
	// because writes fail: the record was counted as lost, and a
	// suppressed summary will stand for it.
	ErrDropped = errors.New("output buffer full: record dropped and counted")
)

// Stats are an output's counters, read by the metrics endpoint. The zero
// value is ready; one Stats may be shared by several outputs, except for
// Disk, which then holds the level of whichever output set it last.
type Stats struct {
	// Records and Bytes count what reached the file or writer.
	Records atomic.Int64
	Bytes   atomic.Int64
	// WriteErrors counts failed opens, writes, renames and compressions.
	WriteErrors atomic.Int64
	// Lost counts messages (Record.Messages: a summary counts for the
	// messages it stands for) the output dropped; each is later stood for
	// by a suppressed summary, except those still buffered when Close gave
	// up.
	Lost atomic.Int64
	// Summaries counts the suppressed summaries the output wrote itself.
	Summaries atomic.Int64
	// FilesOpened, FilesRotated and FilesRemoved count file handles opened,
	// rotations, and rotated files removed (max_files or max_total);
	// FilesCompressed counts rotated files gzipped.
	FilesOpened     atomic.Int64
	FilesRotated    atomic.Int64
	FilesRemoved    atomic.Int64
	FilesCompressed atomic.Int64
	// Overflow counts messages sent to an overflow file: past
	// max_files_total, or their own file could not be created for want of
	// space or inodes. Warnings counts the overflow warnings written.
	Overflow atomic.Int64
	Warnings atomic.Int64
	// FilesDeleted counts writes that went to a file removed under the
	// output (rm -rf of its directory), each written again to a new file;
	// Rewritten counts their bytes.
	FilesDeleted atomic.Int64
	Rewritten    atomic.Int64
	// Disk is the file output's floodgate.DiskLevel.
	Disk atomic.Int32
}

// DiskLevel returns Disk as a floodgate.DiskLevel.
func (s *Stats) DiskLevel() floodgate.DiskLevel { return floodgate.DiskLevel(s.Disk.Load()) }

// flushSize is the buffer size past which a destination's buffer is
// written out without waiting for Flush.
const flushSize = 64 << 10

// Log keys of the output's records.
const (
	logPath     = "path"
	logFile     = "file"
	logOp       = "op"
	logErr      = "err"
	logBuffered = "buffered"
	logMessages = "messages"
	logBytes    = "bytes"
	logCounted  = "counted_messages"
	logLevel    = "level"
	logWas      = "was"
	logMinFree  = "min_free"
	logHardFree = "hard_min_free"
)
