package dedupe

import (
	"fmt"
	"testing"
	"time"

	"github.com/floodgate/floodgate"
)

// TestFreeSkeletonStaysFree checks that a skeleton found to be free text
// is not learned again once its group has left the group table: its
// lines cost a probe of the free-text set and create no group.
func TestFreeSkeletonStaysFree(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxPatterns = 64 // a group table of 64
	c := &collector{}
	e := New(opts, c)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var msgs []floodgate.Message
	send := func(text string) {
		now = now.Add(time.Millisecond)
		m := floodgate.Message{Time: now, Host: "h", App: "chat", Severity: floodgate.Info, Text: text, Seq: uint64(len(msgs) + 1)}
		msgs = append(msgs, m)
		r := floodgate.Record{Message: m}
		e.Handle(now, &r)
	}
	word := func(i int) string { return fmt.Sprintf("w%cq%c", 'a'+i%26, 'a'+i/26%26) }
	chat := func(i int) string { return fmt.Sprintf("%s %s %s %s", word(i), word(i+1), word(i+2), word(i+3)) }
	for i := range 2 * freeLines {
		send(chat(4 * i))
	}
	var pp Prepared
	NewPreparer().Prepare(chat(0), &pp)
	key := groupKey{e.source("h", "chat").key, pp.skel ^ severityMix(floodgate.Info)}
	if g, ok := e.groups.Peek(key); !ok || !g.free {
		t.Fatal("a skeleton with a new word at every place in its first lines is not free text")
	}
	// Push its group out of the table with other skeletons (the commas
	// and semicolons between their words), each seen twice.
	for i := range 2 * sourceCap(opts.MaxPatterns) {
		s := "x"
		for b := range 8 {
			if i&(1<<b) != 0 {
				s += ", y"
			} else {
				s += "; y"
			}
		}
		send(s)
		send(s)
	}
	if e.groups.Contains(key) {
		t.Fatal("the free group is still in the table: the test pushes too little")
	}
	for i := range 4 {
		send(chat(100 + 4*i))
	}
	if e.groups.Contains(key) {
		t.Error("a free skeleton was learned again after its group left the table")
	}
	e.Tick(now, true)
	checkInvariants(t, msgs, c.recs)
}

// TestFreeSetForgetsOldest checks the free-text set's buckets: a key is
// found once added, and a bucket forgets its oldest key, not a newer one.
func TestFreeSetForgetsOldest(t *testing.T) {
	var s freeSet
	// Keys of one bucket: the bucket is taken from the tag's high bits.
	var keys []groupKey
	_, want := freeTag(groupKey{h: 1 << 48})
	for i := uint64(1); len(keys) < freeWays+1; i++ {
		k := groupKey{h: i << 48}
		if _, b := freeTag(k); b == want {
			keys = append(keys, k)
		}
	}
	for _, k := range keys[:freeWays] {
		s.add(k)
	}
	for _, k := range keys[:freeWays] {
		if !s.has(k) {
			t.Fatalf("%v added and not found", k)
		}
	}
	if s.has(keys[freeWays]) {
		t.Fatal("a key never added is found")
	}
	s.add(keys[freeWays])
	if s.has(keys[0]) {
		t.Error("the oldest key of a full bucket is still there")
	}
	for _, k := range keys[1:] {
		if !s.has(k) {
			t.Errorf("%v forgotten, not the oldest", k)
		}
	}
}
