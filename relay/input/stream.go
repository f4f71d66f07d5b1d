package input

import (
	"context"
	"errors"
	"io"
)

// ReadStream frames r with the same Framer as a TCP connection and
// delivers batches named name to sink until r ends; it returns nil at the
// end of r. It is how stdin and the capture files of `floodgate replay`
// are read: every line or octet-counted frame of r is a message, mixed as
// they come. stats may be nil.
//
// ctx is checked between batches; a read already waiting is not
// interrupted, so a caller that must stop a blocking reader closes it.
func ReadStream(ctx context.Context, r io.Reader, name string, maxSize int, sink Sink, stats *Stats) error {
	if stats == nil {
		stats = new(Stats)
	}
	f := NewFramer(r, maxSize)
	f.SetStats(stats)
	b := &Batch{Input: name, Frames: make([][]byte, 0, MaxBatch)}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		frames, err := f.ReadBatch(b.Frames[:0], MaxBatch)
		b.Oversize = f.Oversized()
		if len(frames) > 0 {
			deliver(sink, stats, b, frames)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
