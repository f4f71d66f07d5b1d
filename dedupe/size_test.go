package dedupe

import (
	"testing"
	"unsafe"
)

// A Prepared crosses from the input goroutine's core to the shard's with
// every message: it stays small.
func TestPreparedIsSmall(t *testing.T) {
	if n := unsafe.Sizeof(Prepared{}); n > 256 {
		t.Errorf("a Prepared is %d bytes, want at most 256", n)
	}
}
