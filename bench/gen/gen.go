package gen

import (
	"math/rand/v2"
	"strconv"
	"time"
	"unsafe"

	"github.com/floodgate/floodgate"
)

// Generator produces a synthetic flood one message at a time.
//
// Next fills m (Time, Host, App, ProcID, Facility, Severity, Text, Format)
// and reports false once the flood is over. The strings it puts in m are
// never modified afterwards, so a consumer may keep a copy of *m, as a
// floodgate.Handler may. A Generator is not safe for concurrent use; its
// output depends only on its configuration and seed.
type Generator interface {
	Next(m *floodgate.Message) bool
}

var (
	_ Generator = (*incident)(nil)
	_ Generator = (*unique)(nil)
	_ Generator = (*traces)(nil)
	_ Generator = (*mix)(nil)
)

// newRand returns the deterministic source every generator draws from, so
// that one seed always gives the same flood on every platform.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// arena hands out strings carved from large byte chunks. Each text is
// copied once into the current chunk and never written again, so the
// string stays immutable; a new chunk is started when one is full. That
// makes a message cost no allocation of its own: generation feeds
// ten-million-line benchmarks, and one allocation per line would make the
// generator, not the system under test, the bottleneck.
type arena struct {
	chunk []byte
}

const arenaChunk = 256 << 10

func (a *arena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.chunk)-len(a.chunk) < len(b) {
		a.chunk = make([]byte, 0, max(arenaChunk, len(b)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return unsafe.String(&a.chunk[start], len(b))
}

// tmpl is a line with variable tokens, compiled once: literal segments and
// the kind of token that follows each.
type tmpl struct {
	segs []seg
}

type seg struct {
	lit  string
	kind byte // 0: none; see compile
	arg  byte // the slot of a {$N} token
}

// compile parses a template. Tokens: {d} a small decimal (0-999), {D} a
// large decimal, {x} 8 hex digits, {h} a small 0x-prefixed
// hex number, {p} a Go heap pointer (0xc4...),
// {ip} a 10.x.y.z address, {w} a pronounceable word (letters only, so a
// masker keeps it as a word), {ms} a duration in ms; {$0} to {$f} the
// value a flood put in that slot of its source for the current event,
// {u} a random UUID, {cid} a 64-hex-digit container id, {port} an
// ephemeral port, {n} a digit 1-9, {s3} seconds with three decimals,
// {klog} klog's "MMDD hh:mm:ss.uuuuuu", {log4j} "YYYY-MM-DD
// hh:mm:ss,mmm" and {rfc3339} nanosecond stamps of the line's own time.
func compile(s string) tmpl {
	var t tmpl
	lit := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		end := i + 1
		for end < len(s) && s[end] != '}' {
			end++
		}
		if end == len(s) {
			break
		}
		var k, arg byte
		switch s[i+1 : end] {
		case "d":
			k = 'd'
		case "D":
			k = 'D'
		case "x":
			k = 'x'
		case "h":
			k = 'h'
		case "p":
			k = 'p'
		case "ip":
			k = 'i'
		case "w":
			k = 'w'
		case "ms":
			k = 'm'
		case "u":
			k = 'u'
		case "cid":
			k = 'c'
		case "port":
			k = 'P'
		case "n":
			k = 'n'
		case "s3":
			k = 's'
		case "klog":
			k = 'K'
		case "log4j":
			k = 'J'
		case "rfc3339":
			k = 'R'
		default:
			name := s[i+1 : end]
			if len(name) != 2 || name[0] != '$' {
				continue
			}
			switch c := name[1]; {
			case c >= '0' && c <= '9':
				k, arg = '$', c-'0'
			case c >= 'a' && c <= 'f':
				k, arg = '$', c-'a'+10
			default:
				continue
			}
		}
		t.segs = append(t.segs, seg{lit: s[lit:i], kind: k, arg: arg})
		lit = end + 1
		i = end
	}
	t.segs = append(t.segs, seg{lit: s[lit:]})
	return t
}

func compileAll(ss []string) []tmpl {
	out := make([]tmpl, len(ss))
	for i, s := range ss {
		out[i] = compile(s)
	}
	return out
}

// render appends t with fresh random values for its tokens.
func (t *tmpl) render(dst []byte, r *rand.Rand) []byte {
	return t.renderSlots(dst, r, nil, time.Time{})
}

// renderSlots appends t with fresh random values for its tokens, the
// values of slots for its {$N} tokens and now for its stamps.
func (t *tmpl) renderSlots(dst []byte, r *rand.Rand, slots *[16][]byte, now time.Time) []byte {
	for _, s := range t.segs {
		dst = append(dst, s.lit...)
		switch s.kind {
		case '$':
			if slots != nil {
				dst = append(dst, slots[s.arg]...)
			}
		case 'u':
			dst = appendUUID(dst, r)
		case 'c':
			dst = appendHexFixed(dst, r.Uint64(), 16)
			dst = appendHexFixed(dst, r.Uint64(), 16)
			dst = appendHexFixed(dst, r.Uint64(), 16)
			dst = appendHexFixed(dst, r.Uint64(), 16)
		case 'P':
			dst = strconv.AppendUint(dst, uint64(32768+r.IntN(28232)), 10)
		case 'n':
			dst = strconv.AppendUint(dst, uint64(1+r.IntN(9)), 10)
		case 's':
			dst = appendSeconds(dst, r.IntN(3000))
		case 'K':
			dst = appendKlogStamp(dst, now)
		case 'J':
			dst = appendLog4jStamp(dst, now)
		case 'R':
			dst = now.AppendFormat(dst, "2006-01-02T15:04:05.000000000Z07:00")
		case 'd':
			dst = strconv.AppendUint(dst, uint64(r.IntN(1000)), 10)
		case 'D':
			dst = strconv.AppendUint(dst, uint64(1000+r.IntN(99000)), 10)
		case 'x':
			dst = appendHexFixed(dst, uint64(r.Uint32()), 8)
		case 'h':
			dst = appendHex(dst, uint64(r.IntN(0x1000)))
		case 'p':
			dst = append(dst, "0xc4"...)
			dst = appendHexFixed(dst, r.Uint64()&0xffffffff0, 8)
		case 'i':
			dst = append(dst, "10."...)
			dst = strconv.AppendUint(dst, uint64(r.IntN(256)), 10)
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, uint64(r.IntN(256)), 10)
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, uint64(1+r.IntN(254)), 10)
		case 'w':
			dst = appendWord(dst, uint64(r.IntN(len(syllables)*len(syllables)*len(syllables))))
		case 'm':
			dst = strconv.AppendUint(dst, uint64(1+r.IntN(30000)), 10)
			dst = append(dst, "ms"...)
		}
	}
	return dst
}

// truth returns t with every token as "<*>": the template's author's
// wording with its variable places marked.
func (t *tmpl) truth() string {
	var b []byte
	for _, s := range t.segs {
		b = append(b, s.lit...)
		if s.kind != 0 {
			b = append(b, "<*>"...)
		}
	}
	return string(b)
}

const hexDigits = "0123456789abcdef"

// appendUUID writes a random version 4 UUID.
func appendUUID(dst []byte, r *rand.Rand) []byte {
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	dst = appendHexFixed(dst, hi>>32, 8)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, hi>>16, 4)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, hi, 4)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, lo>>48, 4)
	dst = append(dst, '-')
	return appendHexFixed(dst, lo, 12)
}

// appendSeconds writes ms milliseconds as seconds with three decimals.
func appendSeconds(dst []byte, ms int) []byte {
	dst = strconv.AppendUint(dst, uint64(ms/1000), 10)
	return append(dst, '.', byte('0'+ms/100%10), byte('0'+ms/10%10), byte('0'+ms%10))
}

func appendHexFixed(dst []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[v>>(4*uint(i))&0xf])
	}
	return dst
}

func appendHex(dst []byte, v uint64) []byte {
	dst = append(dst, '0', 'x')
	return strconv.AppendUint(dst, v, 16)
}

// syllables spell words with neither digits nor the letters a-f, so no
// masker can take them for a number, a hex value or an id: two words built
// from different numbers are different words.
var syllables = func() []string {
	var s []string
	for _, c := range "ghjklmnprstvwz" {
		for _, v := range "iouy" {
			s = append(s, string(c)+string(v))
		}
	}
	return s
}()

// appendWord spells n in base len(syllables), at least three syllables.
func appendWord(dst []byte, n uint64) []byte {
	b := uint64(len(syllables))
	for i := 0; i < 3 || n > 0; i++ {
		dst = append(dst, syllables[n%b]...)
		n /= b
	}
	return dst
}

// appendDateTime writes "YYYY-MM-DD" sep "hh:mm:ss".
func appendDateTime(b []byte, t time.Time, sep byte) []byte {
	y, mon, day := t.Date()
	b = append2(b, y/100)
	b = append2(b, y%100)
	b = append(b, '-')
	b = append2(b, int(mon))
	b = append(b, '-')
	b = append2(b, day)
	b = append(b, sep)
	return appendClock(b, t)
}

// appendClock writes "hh:mm:ss".
func appendClock(b []byte, t time.Time) []byte {
	hh, mm, ss := t.Clock()
	b = append2(b, hh)
	b = append(b, ':')
	b = append2(b, mm)
	b = append(b, ':')
	return append2(b, ss)
}

// appendKlogStamp writes klog's "MMDD hh:mm:ss.uuuuuu".
func appendKlogStamp(b []byte, t time.Time) []byte {
	_, mon, day := t.Date()
	b = append2(b, int(mon))
	b = append2(b, day)
	b = append(b, ' ')
	b = appendClock(b, t)
	us := t.Nanosecond() / 1000
	return append(b, '.', byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10),
		byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10))
}

// appendLog4jStamp writes log4j's and Python logging's "YYYY-MM-DD
// hh:mm:ss,mmm".
func appendLog4jStamp(b []byte, t time.Time) []byte {
	b = appendDateTime(b, t, ' ')
	ms := t.Nanosecond() / 1e6
	return append(b, ',', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}
