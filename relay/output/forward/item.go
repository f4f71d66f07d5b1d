package forward

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"sync/atomic"
	"time"

	"github.com/floodgate/floodgate"
)

// item is one record on its way upstream: its encoding (an RFC 5424 line
// without its LF, or a JSON object) and what the accounting needs should
// it be dropped.
type item struct {
	data     []byte
	host     string
	app      string
	facility floodgate.Facility
	severity floodgate.Severity
	// msgs is how many received messages the record stands for: 1, a
	// summary's count, or 0 for floodgate's own records.
	msgs        int64
	first, last int64 // unix nanoseconds, for a suppressed summary
	queued      int64 // unix nanoseconds it was queued, for the oldest age

	// disk is where the item lies in the disk queue when it was read
	// from there; the zero pos when it never was on disk.
	disk pos
	// done is set once the upstream has acknowledged the item.
	done atomic.Bool
}

// itemOverhead is what an item costs in memory besides its data.
const itemOverhead = 128

// size is what the item counts against the memory bound.
func (it *item) size() int64 { return int64(len(it.data)) + itemOverhead }

// newItem returns the item of r, encoded as data.
func newItem(r *floodgate.Record, data []byte, now time.Time) *item {
	it := &item{
		data: data, host: r.Host, app: r.App, facility: r.Facility, severity: r.Severity,
		msgs: r.Messages(), first: r.Time.UnixNano(), last: r.Time.UnixNano(), queued: now.UnixNano(),
	}
	if s := r.Summary; s != nil {
		it.first, it.last = s.First.UnixNano(), s.Last.UnixNano()
	} else if r.Syntax == floodgate.Internal {
		it.msgs = 0 // floodgate's own record stands for no message received
	}
	return it
}

// On disk an item is a frame: a 4-byte little-endian length of what
// follows the CRC, a 4-byte CRC-32C of it, then the header fields as
// varints and the data. A frame cut short or with a bad CRC ends the
// segment: it is what a crash in the middle of a write leaves.
const frameHeader = 8

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var errBadFrame = errors.New("bad queue frame")

// appendFrame appends it's disk frame to dst.
func appendFrame(dst []byte, it *item) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, frameHeader)...)
	dst = binary.AppendVarint(dst, it.queued)
	dst = binary.AppendVarint(dst, it.msgs)
	dst = binary.AppendVarint(dst, it.first)
	dst = binary.AppendVarint(dst, it.last)
	dst = append(dst, byte(it.facility), byte(it.severity))
	dst = binary.AppendUvarint(dst, uint64(len(it.host)))
	dst = append(dst, it.host...)
	dst = binary.AppendUvarint(dst, uint64(len(it.app)))
	dst = append(dst, it.app...)
	dst = append(dst, it.data...)
	body := dst[start+frameHeader:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(body, crcTable))
	return dst
}

// parseFrame decodes the body of a frame whose CRC was checked.
func parseFrame(body []byte) (*item, error) {
	it := &item{}
	var ok bool
	rest := body
	varint := func() int64 {
		v, n := binary.Varint(rest)
		if n <= 0 {
			ok = false
			return 0
		}
		rest = rest[n:]
		return v
	}
	str := func() string {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l > uint64(len(rest)-n) {
			ok = false
			return ""
		}
		s := string(rest[n : n+int(l)])
		rest = rest[n+int(l):]
		return s
	}
	ok = true
	it.queued = varint()
	it.msgs = varint()
	it.first = varint()
	it.last = varint()
	if !ok || len(rest) < 2 {
		return nil, errBadFrame
	}
	it.facility, it.severity = floodgate.Facility(rest[0]), floodgate.Severity(rest[1])
	rest = rest[2:]
	it.host = str()
	it.app = str()
	if !ok {
		return nil, errBadFrame
	}
	it.data = append([]byte(nil), rest...)
	return it, nil
}
