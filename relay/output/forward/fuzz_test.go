package forward

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// FuzzQueueFrame: a disk queue frame reads back as the item written, and
// bytes a crash or a bad disk left never panic the reader.
func FuzzQueueFrame(f *testing.F) {
	f.Add([]byte("<30>1 2026-11-29T10:00:00Z web-1 api 42 - - request 1"), "web-1", "api", int64(1), []byte{})
	f.Add([]byte(`{"msg":"x"}`), "", "", int64(2646), []byte{200, 0, 0, 0, 1, 2, 3})
	f.Add([]byte{}, "h\x00st", "a", int64(0), []byte("\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte, host, app string, msgs int64, junk []byte) {
		it := &item{data: data, host: host, app: app, msgs: msgs, facility: 3, severity: floodgate.Err,
			first: time.Unix(1, 0).UnixNano(), last: msgs, queued: -msgs}
		b := appendFrame(nil, it)
		br := bufio.NewReader(bytes.NewReader(append(b, junk...)))
		got, size, err := readFrame(br, false)
		if err != nil {
			t.Fatalf("readFrame of a whole frame: %v", err)
		}
		if size != int64(len(b)) || !bytes.Equal(got.data, data) || got.host != host || got.app != app ||
			got.msgs != msgs || got.first != it.first || got.last != it.last || got.queued != it.queued ||
			got.facility != 3 || got.severity != floodgate.Err {
			t.Fatalf("round trip: got %+v (%d bytes), want %+v (%d bytes)", got, size, it, len(b))
		}
		// Whatever follows is read without a panic: a frame, or an error.
		_, _, _ = readFrame(br, false)
		_, _, _ = readFrame(bufio.NewReader(bytes.NewReader(junk)), false)
	})
}
