package dedupe

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"

	"github.com/floodgate/floodgate"
)

// Work off the shard's core. Everything the engine computes of a line
// without its state (the masked template and its hash, the skeleton and
// its hash, the hash of every word place) is a pure function of the text:
// a Prepared. The relay computes it in the input goroutine that read and
// parsed the frame, and carries it to the shard with the message
// (floodgate.Record.Prep), so one source's flood uses two cores: one
// reads, parses and prepares, the other folds. The engine computes it
// itself where a record carries none, or one made for another text (a
// replay, a test, a record a stage built).

// maxSpan bounds the text offsets a Prepared keeps: the places of a line
// are recorded up to its first 64 KiB, the rest is part of its skeleton
// as it stands (like tokens past maxTokens).
const maxSpan = 1<<16 - 1

// Word flags of a Prepared.
const (
	wordKey   = 1 << iota // followed by '=': a key name, never a parameter
	wordMixed             // letters with digits: its template masks them
	wordPath              // a path, a URL or a DNS name: names a thing (wordInfo)
	wordExc               // an exception or error class: never a parameter (wordInfo)
)

// span is where a token stands in the text.
type span struct{ s, e uint16 }

// preparedWord is one word place of a line. Its hash and what it is are
// computed on the shard when first needed (word), into the engine's
// wordInfo: a line of a group known to be free text, or a block's line,
// never needs them, and a Prepared stays small (about 200 bytes) to carry
// from core to core.
type preparedWord struct {
	at    span
	flags uint8
}

// wordInfo is what the engine computed of a word place of the line in
// progress.
type wordInfo struct {
	h     uint64 // the hash of its template (digits masked)
	flags uint8
}

// Prepared is what the engine needs of a line that does not depend on
// the engine's state. Prepare fills one; it is about 200 bytes and holds
// no pointer but the text.
type Prepared struct {
	text   string // the text it was prepared from
	tmpl   uint64 // the hash of the masked template (Fingerprint)
	skel   uint64 // the hash of the skeleton: every word a mark
	nwords uint8
	nmask  uint8
	words  [maxPlaces]preparedWord
	masked [varyPlaces]span // the first masked tokens, for what varied
}

// For reports whether p was prepared from text. A string compare of the
// same string is a pointer compare.
func (p *Prepared) For(text string) bool { return p != nil && p.text == text && len(text) > 0 }

// Forget drops p's text, so that a Prepared kept for reuse pins no
// message; p is then prepared for nothing.
func (p *Prepared) Forget() { p.text = "" }

// A Preparer computes Prepared values with scratch buffers of its own: it
// is owned by one goroutine (the relay keeps one per input goroutine).
type Preparer struct {
	buf, skel []byte
	toks      []token
}

// NewPreparer returns a Preparer.
func NewPreparer() *Preparer {
	return &Preparer{buf: make([]byte, 0, 1024), skel: make([]byte, 0, 1024), toks: make([]token, 0, maxTokens)}
}

// Prepare fills p for text. It allocates nothing once its buffers have
// grown to the longest line.
func (pp *Preparer) Prepare(text string, p *Prepared) {
	pp.buf, pp.toks = scanTemplate(pp.buf[:0], pp.toks[:0], text)
	tmpl, toks := pp.buf, pp.toks
	*p = Prepared{text: text, tmpl: xxhash.Sum64(tmpl)}
	skel := pp.skel[:0]
	at := 0
	for i := range toks {
		t := &toks[i]
		if t.se > maxSpan {
			break
		}
		if t.kind == tokMasked {
			if int(p.nmask) < varyPlaces {
				p.masked[p.nmask] = span{uint16(t.ss), uint16(t.se)}
				p.nmask++
			}
			continue
		}
		if int(p.nwords) == maxPlaces {
			continue
		}
		var flags uint8
		if t.key {
			flags |= wordKey
		}
		if t.kind == tokMixed {
			flags |= wordMixed
		}
		p.words[p.nwords] = preparedWord{at: span{uint16(t.ss), uint16(t.se)}, flags: flags}
		p.nwords++
		skel = append(append(skel, tmpl[at:t.ts]...), paramMark)
		at = int(t.te)
	}
	if p.nwords > 0 {
		skel = append(skel, tmpl[at:]...)
		p.skel = xxhash.Sum64(skel)
	}
	pp.skel = skel
}

// Prepare returns the Prepared of text, for a caller that prepares a line
// now and then (tests, tools); a goroutine that prepares every line keeps
// a Preparer.
func Prepare(text string) *Prepared {
	p := new(Prepared)
	NewPreparer().Prepare(text, p)
	return p
}

// word returns word place k of p, the line in progress, with its hash and
// flags computed (line resets e.wdone for every line).
func (e *Engine) word(p *Prepared, k int) *wordInfo {
	wi := &e.winfo[k]
	if e.wdone&(1<<k) != 0 {
		return wi
	}
	e.wdone |= 1 << k
	w := &p.words[k]
	tw := p.text[w.at.s:w.at.e]
	var b []byte
	if w.flags&wordMixed != 0 {
		e.wbuf = appendDigitsMasked(e.wbuf[:0], tw)
	} else {
		e.wbuf = append(e.wbuf[:0], tw...)
	}
	b = e.wbuf
	*wi = wordInfo{h: xxhash.Sum64(b), flags: w.flags}
	if isPath(b) || isDomainName(b) {
		wi.flags |= wordPath
	}
	if isExceptionName(b) {
		wi.flags |= wordExc
	}
	return wi
}

// prepared returns r's Prepared when it carries one made for its text,
// and otherwise prepares r into the engine's own.
func (e *Engine) prepared(r *floodgate.Record) *Prepared {
	if p, ok := r.Prep.(*Prepared); ok && p.For(r.Text) {
		return p
	}
	e.pp.Prepare(r.Text, &e.prep)
	return &e.prep
}

// learnedHash returns the pattern hash of a line of group g with g's
// variable places marked (their protected values and exception names
// kept), and which word places were marked; 0, 0 when none was. The hash
// is a function of the learned template alone (the skeleton and, at every
// word place, its word or the mark), the same across runs.
func (e *Engine) learnedHash(g *group, p *Prepared) (uint64, uint32) {
	var vars uint32
	b := binary.LittleEndian.AppendUint64(e.hbuf[:0], p.skel)
	for k := range int(p.nwords) {
		w := e.word(p, k)
		v := w.h
		if g.variable&(1<<k) != 0 && w.flags&wordExc == 0 && !g.protected(k, w.h) {
			vars |= 1 << k
			v = learnedMark
		}
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	e.hbuf = b
	if vars == 0 {
		return 0, 0
	}
	return xxhash.Sum64(b), vars
}

// learnedMark stands for a variable place in a learned hash.
const learnedMark = 0x5bd1e9955bd1e995

// readableTemplate renders the pattern of text for people (an Observer's
// template): masked tokens as "#", the word places in vars as "<*>".
func readableTemplate(text string, vars uint32) string {
	tmpl, toks := scanTemplate(nil, make([]token, 0, maxTokens), text)
	if vars == 0 {
		return readable(tmpl)
	}
	out := make([]byte, 0, len(tmpl))
	at, k := 0, 0
	for i := range toks {
		t := &toks[i]
		if t.se > maxSpan || k == maxPlaces {
			break
		}
		if t.kind == tokMasked {
			continue
		}
		if vars&(1<<k) != 0 {
			out = append(out, tmpl[at:t.ts]...)
			out = append(out, paramMark)
			at = int(t.te)
		}
		k++
	}
	return readable(append(out, tmpl[at:]...))
}

// readableTemplate is the package's readableTemplate made in pp's scratch
// buffers: only the string returned is allocated. An Observer is told the
// template of every line seen for the first time, which is every line of
// free text.
func (pp *Preparer) readableTemplate(text string, vars uint32) string {
	pp.buf, pp.toks = scanTemplate(pp.buf[:0], pp.toks[:0], text)
	tmpl, toks := pp.buf, pp.toks
	out := pp.skel[:0]
	at, k := 0, 0
	for i := range toks {
		if vars == 0 {
			break
		}
		t := &toks[i]
		if t.se > maxSpan || k == maxPlaces {
			break
		}
		if t.kind == tokMasked {
			continue
		}
		if vars&(1<<k) != 0 {
			out = append(appendReadable(out, tmpl[at:t.ts]), "<*>"...)
			at = int(t.te)
		}
		k++
	}
	out = appendReadable(out, tmpl[at:])
	pp.skel = out[:0]
	return string(out)
}

// appendReadable appends tmpl to dst as readable renders it: masked
// tokens as "#", learned parameters as "<*>".
func appendReadable(dst, tmpl []byte) []byte {
	for _, c := range tmpl {
		switch c {
		case maskByte:
			dst = append(dst, '#')
		case paramMark:
			dst = append(dst, "<*>"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
