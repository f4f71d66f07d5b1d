package dedupe

import (
	"bytes"
	"math/bits"
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
//   - Each word place of a group remembers the distinct values it saw,
//     each with a count, behind a small bitmap that tells a new one. A
//     place is variable once it has shown placeMinDistinct (16) distinct
//     values, or placeRareDistinct (12) of which half or more were seen
//     only once (many values, each of them rare: the account names a
//     scanner tries): user names, pod names, interfaces. An enumeration
//     (exit reasons, states, methods, levels) has fewer than twelve,
//     however long it lives and in whatever order its values first show
//     up, so the first occurrence of each of its values is written, even
//     a tenth reason that first turns up after an hour of nine others;
//     one of twelve to fifteen values is kept apart while its values
//     recur. The trade-off: a place of rare names folds four lines
//     earlier, and an enumeration of twelve or more values whose first
//     twelve turn up mostly once each folds its later newcomers.
//   - A place of paths, URLs or DNS names (a word that starts with '/',
//     holds "://", or is a dotted name ending in a top-level domain, a
//     country code or a generic one, with a port or not: isDomainName)
//     turns variable at pathMinDistinct (4) different ones, and keeps
//     none literal: a path, URL or host name names a thing (a page, a
//     file, a peer), never how something went, and the output format
//     counts paths and URLs among parameter words. A dotted class or
//     module name ("org.example.Server") is no DNS name.
//   - When a place turns variable, the values it had shown most often
//     (up to maxProtected (8) of those seen more than once) stay literal: a
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
// table insertions. The places of all groups learning are budgeted
// (learnBudget) and recycled: past the budget the least recently used
// groups are forgotten, and learn again if they come back. A group whose
// word places, most of them, had a word of their own in each of its first
// freeLines lines is free text at once (chat of ever new skeletons
// should not pay for sixteen lines of learning each): no mask applies to
// it, which can only write lines, never fold them.

const (
	// maxPlaces bounds the word places of a group that are learned.
	maxPlaces = 24
	// placeSet is how many distinct values a place remembers, with
	// counts: all it sees before it turns variable.
	placeSet = placeMinDistinct
	// placeMinDistinct distinct values make a place variable.
	// Enumerations (exit reasons, states, methods, levels) have fewer.
	placeMinDistinct = 16
	// placeRareDistinct distinct values make a place variable when half
	// of them or more were seen once: many values, each of them rare. An
	// enumeration of fewer values is never a parameter, whatever the
	// order its values first show up in.
	placeRareDistinct = 12
	// pathMinDistinct distinct paths, URLs or DNS names make a place
	// variable.
	pathMinDistinct = 4
	// placeBits is the size of a place's bitmap of values seen, a filter
	// in front of its slots.
	placeBits = 256
	// maxProtected is how many of its most frequent values a place keeps
	// literal when it turns variable.
	maxProtected = 8
	// freeLines is how many lines of a group tell free text early: when
	// most of its word places had a word of their own in each of them,
	// the group has no skeleton of words and learns no more.
	freeLines = 8
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
	// seen is a bitmap of the values' hashes: a value whose bit is clear
	// is new, and is in no slot. A place turns variable by the time it
	// has shown placeSet values, so vals holds every value it saw, and d
	// is exact.
	seen  [placeBits / 64]uint64
	n     uint8  // distinct values remembered in vals
	d     uint16 // distinct values seen
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

// learn observes a line's words in its group and returns the group, or nil
// when the skeleton was seen for the first time (or has no words).
func (e *Engine) learn(src *source, sev uint64, p *Prepared) *group {
	if p.nwords == 0 {
		return nil
	}
	key := groupKey{src.key, p.skel ^ sev}
	if e.freeText.has(key) {
		return nil // free text: no mask applies (freetext.go)
	}
	g, ok := e.groups.Get(key)
	if !ok {
		slot := &e.door[(key.h^key.src)&(doorkeeperSize-1)]
		h := key.h ^ key.src | 1
		if *slot != h {
			*slot = h
			return nil
		}
		g = e.newGroup(int(p.nwords))
		for k := range int(p.nwords) {
			if p.words[k].flags&wordKey == 0 {
				g.nonKey++
			}
		}
		e.groups.Add(key, g)
	}
	g.lines++
	if g.free {
		e.freeText.add(key)
		return g
	}
	if g.lines > groupDense && g.lines%groupSample != 0 {
		return g
	}
	new := 0 // places where every line so far had a value of its own
	for k := range int(p.nwords) {
		if g.variable&(1<<k) != 0 || p.words[k].flags&wordKey != 0 {
			continue
		}
		w := e.word(p, k)
		if e.observePlace(g, k, w.h, w.flags&wordPath != 0) {
			e.turnVariable(g, k)
			if g.free {
				e.freeText.add(key)
				return g
			}
		} else if pl := g.places[k]; pl != nil && uint64(pl.d) == g.lines {
			new++
		}
	}
	if g.lines == freeLines && 2*(new+bits.OnesCount32(g.variable)) >= int(g.nonKey) {
		// Most places had a new word in each of the first lines: free
		// text, told early, so that chat costs no long learning.
		g.free, g.masks = true, false
		e.dropPlaces(g)
		g.protect = nil
		e.freeText.add(key)
	}
	return g
}

// observePlace counts value v at word place k of g and reports whether the place
// has just become variable: it has shown placeMinDistinct distinct values,
// or pathMinDistinct that are paths or URLs.
func (e *Engine) observePlace(g *group, k int, v uint64, path bool) bool {
	p := g.places[k]
	if p == nil {
		p = e.newPlace()
		g.places[k] = p
	}
	bit := v & (placeBits - 1)
	if p.seen[bit/64]&(1<<(bit%64)) == 0 {
		// A value whose bit is clear was never seen: it is in no slot,
		// so the slots need no search (the common case of free text).
		p.seen[bit/64] |= 1 << (bit % 64)
		p.d++
		if path {
			p.paths++
		}
		if int(p.n) < placeSet {
			p.vals[p.n], p.cnt[p.n] = v, 1
			p.n++
		}
		return p.turns()
	}
	for i := range int(p.n) {
		if p.vals[i] == v {
			if p.cnt[i] < 1<<31 {
				p.cnt[i]++
			}
			return false
		}
	}
	// A value whose bit another value set: new all the same.
	p.d++
	if path {
		p.paths++
	}
	if int(p.n) < placeSet {
		p.vals[p.n], p.cnt[p.n] = v, 1
		p.n++
	}
	return p.turns()
}

// turns reports whether a place that has just shown a new value is
// variable: placeMinDistinct distinct values, or placeRareDistinct of
// which half or more were seen once, or pathMinDistinct paths,
// URLs or DNS names.
func (p *place) turns() bool {
	switch {
	case p.d >= placeMinDistinct || p.paths >= pathMinDistinct:
		return true
	case p.d < placeRareDistinct:
		return false
	}
	once := 0
	for i := range int(p.n) {
		if p.cnt[i] == 1 {
			once++
		}
	}
	return 2*once >= int(p.d)
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
	g.variable |= 1 << k
	v := bits.OnesCount32(g.variable)
	g.masks = 2*v < int(g.nonKey)
	g.free = !g.masks
	if g.free {
		// Free text: nothing more to learn, and no mask applies.
		e.dropPlaces(g)
		g.protect = nil
		return
	}
	if g.protect == nil {
		g.protect = make([][]uint64, len(g.places))
	}
	g.protect[k] = prot
	e.dropPlace(p) // its counts are no longer needed
	g.places[k] = nil
}

// newPlace returns an empty place, recycled where one is free, and ends
// the least recently used groups while the places learning hold more
// than the budget (learnBudget).
func (e *Engine) newPlace() *place {
	e.livePlaces++
	for e.livePlaces > e.placeBudget && e.groups.Len() > 1 {
		e.groups.RemoveOldest()
	}
	if n := len(e.freePlaces); n > 0 {
		p := e.freePlaces[n-1]
		e.freePlaces = e.freePlaces[:n-1]
		return p
	}
	return new(place)
}

// dropPlace empties p and keeps it for reuse.
func (e *Engine) dropPlace(p *place) {
	*p = place{}
	e.freePlaces = append(e.freePlaces, p)
	e.livePlaces--
}

// dropPlaces drops every place of g.
func (e *Engine) dropPlaces(g *group) {
	for k, p := range g.places {
		if p != nil {
			e.dropPlace(p)
			g.places[k] = nil
		}
	}
}

// newGroup returns an empty group of n word places, recycled where one is
// free.
func (e *Engine) newGroup(n int) *group {
	var g *group
	if k := len(e.freeGroups); k > 0 {
		g = e.freeGroups[k-1]
		e.freeGroups = e.freeGroups[:k-1]
		*g = group{places: g.places[:n]}
	} else {
		g = &group{places: make([]*place, n, maxPlaces)}
	}
	g.words = uint8(n)
	return g
}

// evictGroup frees what a group leaving the table holds.
func (e *Engine) evictGroup(_ groupKey, g *group) {
	e.dropPlaces(g)
	g.protect = nil
	if len(e.freeGroups) < 1024 {
		e.freeGroups = append(e.freeGroups, g)
	}
}

// learnBudget is the number of places the groups of an engine may hold
// while they learn (each about 530 bytes): a quarter of MaxPatterns,
// between 1,024 and 32,768 (some 13 MiB with the defaults). Past it the
// least recently used groups are forgotten: free text of ever new
// skeletons cannot grow the learning state, and a skeleton forgotten
// learns again when it comes back.
func learnBudget(maxPatterns int) int { return max(1024, min(maxPatterns/4, 1<<15)) }

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
	if len(w) <= 5 {
		return false
	}
	if c := w[len(w)-1]; c != 'n' && c != 'r' && c != ':' {
		return false // the common case, told by the last byte
	}
	w = bytes.TrimRight(w, ":")
	return len(w) > 5 && (bytes.HasSuffix(w, []byte("Exception")) || bytes.HasSuffix(w, []byte("Error")))
}

// isDomainName reports whether a word (its digits masked) is a DNS name,
// with a port or not: labels of letters, digits, '-' and '_' between at
// least two dots (one with a port), the last one a top-level domain
// (isTopLevelDomain): "ns1.example.com", "db.example.org:5432",
// "ip-10-0-0-1.ec2.internal". Like a path, a name names a thing (a peer,
// a node), never how something went. A dotted class or module name
// ("org.example.Server", "nova.compute.manager") ends otherwise.
func isDomainName(w []byte) bool {
	dots := 2
	if n := len(w); n > 2 && w[n-1] == maskByte && w[n-2] == ':' {
		w, dots = w[:n-2], 1 // a port: its digits are masked
	}
	last := bytes.LastIndexByte(w, '.') // most words have none: done
	if last < 0 {
		return false
	}
	if !isTopLevelDomain(w[last+1:]) {
		return false
	}
	label := 0
	for _, c := range w[:last] {
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			dots--
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == maskByte:
			label++
		default:
			return false
		}
	}
	return label > 0 && dots <= 1
}

// genericTLDs are the top-level domains of more than two letters that
// host names in logs end in: the original generic ones, and the private
// suffixes networks use for their own hosts.
var genericTLDs = [...]string{"com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "arpa", "local", "lan", "internal", "corp", "home"}

// isTopLevelDomain reports whether a label is a country code (two
// lower-case letters) or one of genericTLDs. A longer list would make
// "nova.wsgi.server" a host.
func isTopLevelDomain(l []byte) bool {
	if len(l) == 2 {
		return l[0] >= 'a' && l[0] <= 'z' && l[1] >= 'a' && l[1] <= 'z'
	}
	for _, t := range genericTLDs {
		if string(l) == t {
			return true
		}
	}
	return false
}

// isPath reports whether a word is a path or a URL: it starts with '/'
// and is more than that, or it holds "://". ("1/FAILURE" and
// "Mozilla/5.0" are neither.)
func isPath(w []byte) bool {
	if len(w) > 1 && w[0] == '/' {
		return true
	}
	for i := bytes.IndexByte(w, ':'); i >= 0 && i+2 < len(w); {
		if w[i+1] == '/' && w[i+2] == '/' {
			return true
		}
		j := bytes.IndexByte(w[i+1:], ':')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}
