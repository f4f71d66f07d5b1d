package dedupe

import (
	"bytes"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// Variable places. The masker knows numbers, hex values, addresses and ids
// by their form, but a user name, a pod name, a URL path or a unit name is
// a word like any other: "Invalid user admin from ..." and "Invalid user
// oracle from ..." differ in a word. What tells a parameter word from a
// word that carries meaning ("Failed" and "Accepted", "UP" and "DOWN") is
// how its values behave at its place in the message, so the engine learns
// that online, per source, with no configuration:
//
//   - Lines are grouped by skeleton: source, severity, and the sequence of
//     delimiters and tokens with every word left out. Drain merges lines
//     by token similarity and so merges "Failed password" with "Accepted
//     password"; a skeleton never does, since words are only ever masked
//     at a place the group has learned to be variable, and a place whose
//     values recur never is.
//   - Each word place of a group remembers the first placeSet distinct
//     values it saw, each with a count, and a bitmap of all it saw. A
//     place is variable once it has shown placeMinDistinct (16) distinct
//     values: user names, pod names, paths, interfaces. An enumeration
//     (exit reasons, states, methods, levels) has fewer, however long it
//     lives, so the first occurrence of each of its values is written,
//     even a tenth reason that first turns up after an hour of nine
//     others.
//   - A place of paths or URLs (a word that starts with '/' or holds
//     "://") turns variable at pathMinDistinct (4) different ones, and
//     keeps none literal: a path or URL names a thing (a page, a file, a
//     referrer), never how something went, and the output format counts
//     paths and URLs among parameter words.
//   - When a place turns variable, the values it had shown most often
//     (up to maxProtected of those seen more than once) stay literal: a
//     sender that floods a place with thousands of made-up words cannot
//     make "Failed" or "Accepted" fold into them. And a word shaped like
//     an exception class (IOException, KeyError) is never a parameter.
//   - A message needs a skeleton to fold: learned masks apply only while
//     the variable places are a minority of the group's word places that
//     are not key names ("uid=", "user="), so a line made mostly of varying
//     words (free text, a chat relay) keeps its words and is written, and
//     budgets, not dedupe, bound it.
//
// The pattern of a line is then its template with the variable places'
// rare values replaced by a parameter mark, hashed: a function of the
// template alone, so fingerprints are the same across restarts once the
// places are learned again. Lines written before a place turned variable
// keep their own patterns and fingerprints; the merged pattern gets its
// own.
//
// Costs are bounded: groups live in an LRU table, a place keeps at most
// placeSet values, and a group samples its lines once it has seen
// groupDense of them (one in groupSample after that), which is enough to
// notice poisoning while keeping the cost of a long flood low. A group is
// made only for a skeleton seen twice (a small doorkeeper table remembers
// the first sighting), so lines that never repeat a skeleton cost no
// table insertions.

const (
	// maxPlaces bounds the word places of a group that are learned.
	maxPlaces = 24
	// placeSet is how many distinct values a place remembers, with counts.
	placeSet = 32
	// placeMinDistinct distinct values make a place variable.
	// Enumerations (exit reasons, states, methods, levels) have fewer.
	placeMinDistinct = 16
	// pathMinDistinct distinct paths or URLs make a place variable.
	pathMinDistinct = 4
	// placeBits is the size of a place's bitmap of values seen.
	placeBits = 1024
	// maxProtected is how many of its most frequent values a place keeps
	// literal when it turns variable.
	maxProtected = 4
	// groupDense lines of a group are all observed; after that one in
	// groupSample is.
	groupDense  = 256
	groupSample = 16
	// doorkeeperSize is the number of slots of the table of skeletons seen
	// once.
	doorkeeperSize = 1 << 14
)

// paramMark stands for a variable place's value in a learned template. It
// is a control byte a decoded message never contributes on its own, and
// differs from maskByte.
const paramMark = 0x01

// groupKey identifies a skeleton within a source.
type groupKey struct {
	src, h uint64
}

// place is what a group knows of one word place.
type place struct {
	vals [placeSet]uint64
	cnt  [placeSet]uint32
	// seen is a bitmap of the values' hashes, to count distinct values
	// past the first placeSet (two values that share a bit count once:
	// distinct values are undercounted, never over).
	seen  [placeBits / 64]uint64
	n     uint8  // distinct values remembered in vals
	d     uint16 // distinct values seen, by the bitmap
	paths uint16 // of those, paths and URLs
}

// group is the learning state of one skeleton.
type group struct {
	lines    uint64
	words    uint8  // word places (at most maxPlaces)
	nonKey   uint8  // word places that are not key names
	variable uint32 // bit i: word place i is variable
	masks    bool   // variable places are a minority: learned masks apply
	free     bool   // variable places are no minority: free text, learned no more
	places   []*place
	// protect holds, for each variable place, the values it had shown
	// most when it turned variable (nil until one does).
	protect [][]uint64
}

// wordIndex returns, for the scanned tokens, the indices of the word
// tokens (words and words with digits) into idx, at most maxPlaces.
func wordIndex(idx []int8, toks []token) []int8 {
	idx = idx[:0]
	for i := range toks {
		if toks[i].kind != tokMasked {
			idx = append(idx, int8(i))
			if len(idx) == maxPlaces {
				break
			}
		}
	}
	return idx
}

// skeleton returns the hash of a line's skeleton: the template with every
// word replaced by one mark, so that lines of one template share it
// whatever their words. It hashes the template once.
func (e *Engine) skeleton(tmpl []byte, toks []token, words []int8) uint64 {
	d := &e.digest
	d.Reset()
	at := 0
	for _, wi := range words {
		t := &toks[wi]
		d.Write(tmpl[at:t.ts])
		d.Write(paramMarkBytes)
		at = int(t.te)
	}
	d.Write(tmpl[at:])
	return d.Sum64()
}

var paramMarkBytes = []byte{paramMark}

// learn observes a line's words in its group and returns the group, or nil
// when the skeleton was seen for the first time (or has no words).
func (e *Engine) learn(src *source, sev uint64, tmpl []byte, toks []token, words []int8) *group {
	if len(words) == 0 {
		return nil
	}
	key := groupKey{src.key, e.skeleton(tmpl, toks, words) ^ sev}
	g, ok := e.groups.Get(key)
	if !ok {
		slot := &e.door[(key.h^key.src)&(doorkeeperSize-1)]
		h := key.h ^ key.src | 1
		if *slot != h {
			*slot = h
			return nil
		}
		g = &group{words: uint8(len(words)), places: make([]*place, len(words))}
		for _, wi := range words {
			if !toks[wi].key {
				g.nonKey++
			}
		}
		e.groups.Add(key, g)
	}
	g.lines++
	if g.free || g.lines > groupDense && g.lines%groupSample != 0 {
		return g
	}
	for k, wi := range words {
		if g.variable&(1<<k) != 0 || toks[wi].key {
			continue
		}
		t := &toks[wi]
		w := tmpl[t.ts:t.te]
		if g.observe(k, xxhash.Sum64(w), isPath(w)) {
			e.turnVariable(g, k)
		}
	}
	return g
}

// observe counts value v at word place k and reports whether the place
// has just become variable: it has shown placeMinDistinct distinct values,
// or pathMinDistinct that are paths or URLs.
func (g *group) observe(k int, v uint64, path bool) bool {
	p := g.places[k]
	if p == nil {
		p = new(place)
		g.places[k] = p
	}
	bit := v & (placeBits - 1)
	if p.seen[bit/64]&(1<<(bit%64)) == 0 {
		p.seen[bit/64] |= 1 << (bit % 64)
		p.d++
		if path {
			p.paths++
		}
	}
	for i := range int(p.n) {
		if p.vals[i] == v {
			if p.cnt[i] < 1<<31 {
				p.cnt[i]++
			}
			return false
		}
	}
	if int(p.n) < placeSet {
		p.vals[p.n], p.cnt[p.n] = v, 1
		p.n++
	}
	return p.d >= placeMinDistinct || p.paths >= pathMinDistinct
}

// turnVariable makes word place k of g variable, protecting the values it
// has shown most often, up to maxProtected of those seen more than once
// (none for a place of paths: they carry no meaning to protect).
func (e *Engine) turnVariable(g *group, k int) {
	p := g.places[k]
	var prot []uint64
	for range maxProtected {
		if p.paths >= pathMinDistinct {
			break
		}
		best := -1
		for i := range int(p.n) {
			if p.cnt[i] > 1 && (best < 0 || p.cnt[i] > p.cnt[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		prot = append(prot, p.vals[best])
		p.cnt[best] = 0
	}
	if g.protect == nil {
		g.protect = make([][]uint64, len(g.places))
	}
	g.protect[k] = prot
	g.places[k] = nil // its counts are no longer needed
	g.variable |= 1 << k
	v := bits.OnesCount32(g.variable)
	g.masks = 2*v < int(g.nonKey)
	g.free = !g.masks
	if g.free {
		clear(g.places) // nothing more to learn
	}
}

// protected reports whether v is a value that variable place k of g keeps
// literal.
func (g *group) protected(k int, v uint64) bool {
	if g.protect == nil {
		return false
	}
	for _, p := range g.protect[k] {
		if p == v {
			return true
		}
	}
	return false
}

// learnedTemplate writes into dst the template with g's variable places
// marked (their protected values kept), and reports in vars which word
// places were marked. It returns dst unchanged and 0 when nothing was.
func (e *Engine) learnedTemplate(dst []byte, g *group, tmpl []byte, toks []token, words []int8) ([]byte, uint32) {
	var vars uint32
	at := 0
	for k, wi := range words {
		if g.variable&(1<<k) == 0 {
			continue
		}
		t := &toks[wi]
		if g.protected(k, xxhash.Sum64(tmpl[t.ts:t.te])) || isExceptionName(tmpl[t.ts:t.te]) {
			continue
		}
		if vars == 0 {
			dst = dst[:0]
		}
		vars |= 1 << k
		dst = append(dst, tmpl[at:t.ts]...)
		dst = append(dst, paramMark)
		at = int(t.te)
	}
	if vars == 0 {
		return dst, 0
	}
	return append(dst, tmpl[at:]...), vars
}

// readable renders a template for people: masked tokens as "#", learned
// parameters as "<*>".
func readable(tmpl []byte) string {
	out := make([]byte, 0, len(tmpl)+8)
	for _, c := range tmpl {
		switch c {
		case maskByte:
			out = append(out, '#')
		case paramMark:
			out = append(out, "<*>"...)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// isExceptionName reports whether a word names an exception or error
// class ("IOException", "java.lang.IllegalStateException:", "KeyError"):
// such a word carries meaning wherever it stands.
func isExceptionName(w []byte) bool {
	w = bytes.TrimRight(w, ":")
	return len(w) > 5 && (bytes.HasSuffix(w, []byte("Exception")) || bytes.HasSuffix(w, []byte("Error")))
}

// isPath reports whether a word is a path or a URL: it starts with '/'
// and is more than that, or it holds "://". ("1/FAILURE" and
// "Mozilla/5.0" are neither.)
func isPath(w []byte) bool {
	return len(w) > 1 && w[0] == '/' || bytes.Contains(w, []byte("://"))
}
