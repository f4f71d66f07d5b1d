package output

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/floodgate/floodgate"
	"github.com/floodgate/floodgate/relay/output/format"
)

// Writer is an Output to one io.Writer, such as stdout or replay's -o
// FILE.
type Writer struct {
	w         io.Writer
	format    format.Format
	maxBuffer int
	stats     *Stats
	log       *errLog

	mu      sync.Mutex
	buf     []byte
	failing bool // a write failed; only Flush tries again
	lost    losses
	closed  bool
}

var _ Output = (*Writer)(nil)

// NewWriter returns an Output that writes records to w in the named format
// ("traditional", "rfc5424", "json"; "" is traditional, and so is a name
// config validation would have rejected). Close flushes but does not close
// w: the caller owns it. stats may be nil.
func NewWriter(w io.Writer, format string, stats *Stats) Output {
	return newWriter(w, format, 0, nil, stats)
}

func newWriter(w io.Writer, name string, maxBuffer int, log *slog.Logger, stats *Stats) *Writer {
	f, err := format.Parse(name)
	if err != nil {
		f = format.Traditional
	}
	if maxBuffer <= 0 {
		maxBuffer = defaultMaxBuffer
	}
	if stats == nil {
		stats = new(Stats)
	}
	return &Writer{w: w, format: f, maxBuffer: maxBuffer, stats: stats, log: newErrLog(log), lost: losses{}}
}

// Write implements Output.
func (o *Writer) Write(r *floodgate.Record) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	return o.writeLocked(r)
}

func (o *Writer) writeLocked(r *floodgate.Record) error {
	mark := len(o.buf)
	o.buf = format.Append(o.buf, o.format, r)
	size := len(o.buf) - mark
	if len(o.buf) > o.maxBuffer && mark > 0 {
		if !o.failing {
			o.writeOut() // make room; the error is counted and logged
		}
		// Still over, and r whole behind older bytes: drop r.
		if len(o.buf) > o.maxBuffer && len(o.buf) > size {
			o.buf = o.buf[:len(o.buf)-size]
			o.lost.add(r, size)
			o.stats.Lost.Add(r.Messages())
			return ErrDropped
		}
	}
	if len(o.buf) >= flushSize && !o.failing {
		o.writeOut() // the error is counted and logged; the data stays
	}
	return nil
}

// writeOut writes the buffer, keeping what could not be written.
func (o *Writer) writeOut() error {
	if len(o.buf) == 0 {
		return nil
	}
	n, err := o.w.Write(o.buf)
	if n < 0 || n > len(o.buf) {
		n = 0
	}
	if err == nil && n < len(o.buf) {
		err = io.ErrShortWrite
	}
	o.stats.Bytes.Add(int64(n))
	o.stats.Records.Add(int64(bytes.Count(o.buf[:n], newline)))
	o.buf = o.buf[:copy(o.buf, o.buf[n:])]
	if err != nil {
		o.failing = true
		o.stats.WriteErrors.Add(1)
		o.log.error("output write error", logErr, err, logBuffered, len(o.buf))
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

var newline = []byte{'\n'}

// Flush implements Output: it writes the buffer out and, once that works,
// the suppressed summaries of what was dropped meanwhile.
func (o *Writer) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	return o.flushLocked()
}

func (o *Writer) flushLocked() error {
	o.failing = false
	if err := o.writeOut(); err != nil {
		return err
	}
	if len(o.lost) == 0 {
		return nil
	}
	for _, r := range o.lost.take() {
		// A summary that cannot be buffered is counted again, with its
		// count: the accounting stays whole.
		if o.writeLocked(&r) == nil {
			o.stats.Summaries.Add(1)
		}
	}
	return o.writeOut()
}

// Close implements Output: it flushes, and reports what could not be
// written; w stays open.
func (o *Writer) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	err := o.flushLocked()
	if err == nil {
		return nil
	}
	lines := int64(bytes.Count(o.buf, newline))
	lost := o.lost.total()
	o.stats.Lost.Add(lines)
	o.log.log.Error("output closed with records not written", logRecords, lines, logBytes, len(o.buf), logCounted, lost, logErr, err)
	return fmt.Errorf("close output: %d records (%d bytes) and %d counted messages not written: %w", lines, len(o.buf), lost, err)
}
