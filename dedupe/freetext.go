package dedupe

// freeSet remembers the skeletons found to be free text (places.go), so
// that a line of one costs a single probe of a small table rather than a
// lookup and an LRU move in the group table, and a free skeleton is not
// learned again after its group has left that table. It is set
// associative: freeWays tags of a bucket share a cache line, and a bucket
// forgets its oldest tag when a new one comes.
//
// The tags are 64-bit mixes of the group key, so two skeletons may share
// one: a skeleton taken for free text then learns no masks, which only
// ever makes a line be written, never folded. A skeleton forgotten is
// learned again like a new one (and found free again).
type freeSet struct {
	buckets [freeBuckets][freeWays]uint64
}

const (
	freeWays    = 8
	freeBuckets = 1 << 11 // 16,384 skeletons in 128 KiB
)

// freeTag returns the nonzero tag of k and its bucket.
func freeTag(k groupKey) (uint64, int) {
	t := (k.h ^ k.src*0x9e3779b97f4a7c15) | 1
	return t, int(t>>40) & (freeBuckets - 1)
}

// has reports whether k is known to be free text.
func (s *freeSet) has(k groupKey) bool {
	t, i := freeTag(k)
	b := &s.buckets[i]
	for _, x := range b {
		if x == t {
			return true
		}
	}
	return false
}

// add remembers k as free text.
func (s *freeSet) add(k groupKey) {
	t, i := freeTag(k)
	b := &s.buckets[i]
	for _, x := range b {
		if x == t {
			return
		}
	}
	copy(b[1:], b[:freeWays-1])
	b[0] = t
}
