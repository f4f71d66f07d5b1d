package dedupe

import (
	"github.com/cespare/xxhash/v2"
)

// Exemplars. The template decides what a line is a repeat of, and masks
// more than numbers: UUIDs, MACs and hex ids without 0x too, so that a
// flood of "send failed for key 07c86d92" folds however the keys vary.
// contract-check, and acceptance tests like it, tell first occurrences
// apart more finely: by the text with only runs of digits and 0x-hex
// values masked (re.sub(r"0x[0-9a-fA-F]+|\d+", "#", text)), and they want
// the first line of each such form written verbatim.
//
// So the engine keeps a second, finer key per line, the exemplar key, and
// never folds a line whose exemplar key it has not written for the source:
// a new form is written, and folded from its second occurrence on. Writing
// a line twice is always allowed, so the table of written exemplar keys is
// an LRU bounded like the pattern table; a key it forgot is written again.

// exemplarKey is a source and the hash of a line's exemplar form.
type exemplarKey struct {
	src, h uint64
}

// exemplarHash hashes text with runs of digits, and 0x followed by hex
// digits, each replaced by one '#', exactly as contract-check masks; the
// text is taken as received, rsyslog's escapes included.
func (e *Engine) exemplarHash(text string) uint64 {
	b := e.ebuf[:0]
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		if c == '0' && i+2 < n && (text[i+1] == 'x') && isHex(text[i+2]) {
			i += 2
			for i < n && isHex(text[i]) {
				i++
			}
			b = append(b, '#')
			continue
		}
		if c >= '0' && c <= '9' {
			for i < n && text[i] >= '0' && text[i] <= '9' {
				i++
			}
			b = append(b, '#')
			continue
		}
		b = append(b, c)
		i++
	}
	e.ebuf = b
	return xxhash.Sum64(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// exemplarWritten reports whether a line of this exemplar form was
// written for the source (and not forgotten since).
func (e *Engine) exemplarWritten(src *source, h uint64) bool {
	_, ok := e.exemplars.Get(exemplarKey{src.key, h})
	return ok
}

// noteExemplar remembers that a line of this form was written.
func (e *Engine) noteExemplar(src *source, h uint64) {
	e.exemplars.Add(exemplarKey{src.key, h}, struct{}{})
}
