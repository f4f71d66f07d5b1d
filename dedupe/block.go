package dedupe

import (
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/floodgate/floodgate"
)

// blockKind says what kind of multi-line block a stream is assembling.
type blockKind uint8

const (
	noBlock   blockKind = iota
	goroutine           // goroutine N [state]: and its frames
	goPanic             // panic:, fatal error:, SIGQUIT: quit, [signal ...]
	javaTrace           // Exception in thread ..., at ..., Caused by: ...
	pyTrace             // Traceback (most recent call last): ...
	indentRun           // a line followed by indented continuation lines
)

// noun names a block kind in summary sentences.
func (k blockKind) noun() string {
	switch k {
	case goroutine:
		return "goroutines"
	case goPanic:
		return "Go panics"
	case javaTrace:
		return "Java exceptions"
	case pyTrace:
		return "Python tracebacks"
	case indentRun:
		return "indented blocks"
	}
	return "blocks"
}

// unindent strips leading spaces, tabs and rsyslog's #011 escapes, and
// reports whether there were any.
func unindent(s string) (string, bool) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '#' && i+3 < len(s) && s[i+1] == '0' && s[i+2] == '1' && s[i+3] == '1' {
			i += 4
			continue
		}
		break
	}
	return s[i:], i > 0
}

// headerKind returns the kind of block text starts, or noBlock. It runs on
// every line, so it decides on the first byte before any string compare.
func headerKind(text string) blockKind {
	if len(text) < 6 {
		return noBlock
	}
	switch text[0] {
	case 'g':
		if strings.HasPrefix(text, "goroutine ") && len(text) > 10 && class[text[10]]&clDigit != 0 &&
			strings.HasSuffix(strings.TrimRight(text, " "), "]:") {
			return goroutine
		}
	case 'p':
		if strings.HasPrefix(text, "panic: ") {
			return goPanic
		}
	case 'f':
		if strings.HasPrefix(text, "fatal error: ") {
			return goPanic
		}
	case 'S':
		if strings.HasPrefix(text, "SIG") && isSignalHeader(text) {
			return goPanic
		}
	case '[':
		if strings.HasPrefix(text, "[signal ") {
			return goPanic
		}
	case 'E':
		if strings.HasPrefix(text, "Exception in thread ") {
			return javaTrace
		}
	case 'T':
		if strings.HasPrefix(text, "Traceback (most recent call last):") {
			return pyTrace
		}
	}
	if isJavaExceptionLine(text) {
		return javaTrace
	}
	return noBlock
}

// isSignalHeader matches the Go runtime's "SIGQUIT: quit" style header.
func isSignalHeader(text string) bool {
	i := 3
	for i < len(text) && text[i] >= 'A' && text[i] <= 'Z' {
		i++
	}
	return i > 3 && strings.HasPrefix(text[i:], ": ")
}

// isJavaExceptionLine matches "java.lang.IllegalStateException: msg": a
// dotted class name ending in Exception or Error, at the start of the line.
func isJavaExceptionLine(text string) bool {
	dot := false
	end := len(text)
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$':
			continue
		case c == '.':
			dot = true
			continue
		case c == ':':
			end = i
		default:
			return false
		}
		break
	}
	name := text[:end]
	return dot && (strings.HasSuffix(name, "Exception") || strings.HasSuffix(name, "Error"))
}

// callOpen returns the index of the '(' that opens the arguments of a Go
// frame's function line ("pkg.(*T).Method(0x1, ...)", "main.main()"), or
// -1 when s is not one: no space before it, and s ends in ')'. It scans
// forward and stops at the function name, so long argument lists cost
// nothing.
func callOpen(s string) int {
	if len(s) < 3 || s[len(s)-1] != ')' {
		return -1
	}
	for i := 0; i < len(s)-1; i++ {
		switch s[i] {
		case ' ', '\t':
			return -1
		case '(':
			if s[i+1] == '*' {
				continue // a method's pointer receiver: (*T)
			}
			if i == 0 {
				return -1
			}
			return i
		}
	}
	return -1
}

// continues reports whether text (body, indented: unindent(text))
// continues block b, which holds lines already, and whether it is the
// block's last line.
func continues(b *block, text, body string, indented bool) (cont, last bool) {
	switch b.kind {
	case goroutine:
		return indented && body != "" || callOpen(text) > 0 ||
			strings.HasPrefix(text, "created by ") || strings.HasPrefix(text, "...additional frames elided..."), false
	case goPanic:
		return indented && body != "" || callOpen(text) > 0 ||
			strings.HasPrefix(text, "[signal ") || strings.HasPrefix(text, "PC=") ||
			strings.HasPrefix(text, "created by ") || strings.HasPrefix(text, "runtime stack:") ||
			strings.HasPrefix(text, "...additional frames elided..."), false
	case javaTrace:
		return strings.HasPrefix(body, "at ") || strings.HasPrefix(body, "... ") ||
			strings.HasPrefix(body, "Caused by: ") || indented && strings.HasPrefix(body, "Suppressed: "), false
	case pyTrace:
		// A chain ("The above exception was the direct cause of the
		// following exception:", "During handling of the above
		// exception, another exception occurred:") is one block from its
		// first Traceback to its final exception line.
		switch b.py {
		case pyFrames:
			if indented && body != "" {
				return true, false
			}
			if len(b.lines) > 1 && isPythonExceptionLine(text) {
				b.py = pyRaised
				return true, false
			}
		case pyRaised:
			if indented && body != "" {
				return true, false // the exception's message goes on
			}
			if strings.HasPrefix(text, "The above exception was the direct cause") ||
				strings.HasPrefix(text, "During handling of the above exception") {
				b.py = pyChained
				return true, false
			}
		case pyChained:
			if text == "" {
				return true, false
			}
			if strings.HasPrefix(text, "Traceback (most recent call last):") {
				b.py = pyFrames
				return true, false
			}
		}
	case indentRun:
		return indented && body != "", false
	}
	return false, false
}

// Where a Python traceback being assembled stands.
const (
	pyFrames  = iota // in a traceback's frames
	pyRaised         // after an exception line: a chain may follow
	pyChained        // after a chain's sentence: a Traceback follows
)

// isPythonExceptionLine matches the last line of a traceback:
// "ValueError: bad" or "KeyboardInterrupt".
func isPythonExceptionLine(text string) bool {
	c := text[0]
	if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_') {
		return false
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == ':':
			return true
		case c == ' ':
			return false
		}
	}
	return true
}

// maxStates bounds the distinct goroutine states a pattern tracks; more
// are counted under "other".
const maxStates = 8

// goroutineHeader returns the id and the wait state of a goroutine header:
// "goroutine 2648 [chan receive, 12 minutes]:" gives "2648" and
// "chan receive"; the gp=/m= form of newer runtimes is read too.
func goroutineHeader(text string) (id, state string) {
	rest := text[len("goroutine "):]
	i := 0
	for i < len(rest) && class[rest[i]]&clDigit != 0 {
		i++
	}
	id = rest[:i]
	open := strings.IndexByte(rest, '[')
	end := strings.LastIndexByte(rest, ']')
	if open < 0 || end < open {
		return id, ""
	}
	state = rest[open+1 : end]
	// Drop a trailing wait duration: ", 12 minutes".
	if c := strings.LastIndex(state, ", "); c >= 0 && c+2 < len(state) && class[state[c+2]]&clDigit != 0 {
		state = state[:c]
	}
	return id, state
}

// heldLine is one line of a block being assembled.
type heldLine struct {
	msg  floodgate.Message
	tmpl uint64 // the line's template hash
}

// block is a multi-line block being assembled on one (host, app, procid)
// stream. Blocks are reused: lines keeps its capacity.
type block struct {
	kind   blockKind
	src    *source
	procid string
	seq    uint64 // start order, so that blocks end in a stable order
	lines  []heldLine
	bytes  int
	last   time.Time // pipeline clock at the last line, for the idle timeout
	fp     xxhash.Digest
	fresh  bool   // holds a line whose template was not written when it arrived
	id     string // goroutine id of the header
	state  string // goroutine state of the header
	py     uint8  // where a Python traceback stands (pyFrames...)
}

// reset prepares b for a new block.
func (b *block) reset(kind blockKind, src *source) {
	clear(b.lines) // drop references to the strings of released lines
	b.lines = b.lines[:0]
	b.kind, b.src, b.bytes, b.fresh = kind, src, 0, false
	b.id, b.state, b.py = "", "", pyFrames
	b.fp.Reset()
	var k [1]byte
	k[0] = byte(kind)
	b.fp.Write(k[:])
}

var newline = []byte{'\n'}

// addFrame feeds the part of a block line that identifies the stack into
// the block's fingerprint, following maruel/panicparse's bucketing:
// function names and file:line, never arguments, offsets, goroutine ids,
// pointers or wait durations. tmpl is the line's masked template hash,
// used for lines without a better identity.
func (b *block) addFrame(text, body string, indented bool, tmpl uint64) {
	switch b.kind {
	case goroutine, goPanic:
		switch {
		case b.kind == goroutine && len(b.lines) == 0:
			// The header: ids and states are not part of the stack.
			return
		case indented:
			// "/usr/local/go/src/os/file_unix.go:97 +0x80": keep path:line.
			path := body
			if sp := strings.IndexByte(path, ' '); sp >= 0 {
				path = path[:sp]
			}
			if isFileLine(path) {
				b.fp.WriteString(path)
			} else {
				b.writeTemplate(tmpl)
			}
		case strings.HasPrefix(text, "created by "):
			// "created by X in goroutine 7": drop the goroutine.
			if in := strings.Index(text, " in goroutine "); in >= 0 {
				text = text[:in]
			}
			b.fp.WriteString(text)
		case callOpen(text) > 0:
			b.fp.WriteString(text[:callOpen(text)])
		default:
			b.writeTemplate(tmpl)
		}
	case javaTrace:
		switch {
		case strings.HasPrefix(body, "at "):
			b.fp.WriteString(body)
		case strings.HasPrefix(body, "... "):
			return // "... 12 more" depends on the enclosing trace
		default:
			// The header or "Caused by:": the exception class, not its message.
			if rest, ok := strings.CutPrefix(body, "Exception in thread "); ok {
				// Exception in thread "main" java.lang.X: msg
				if len(rest) > 0 && rest[0] == '"' {
					if q := strings.IndexByte(rest[1:], '"'); q >= 0 {
						rest = rest[q+2:]
					}
				}
				body = rest
			}
			body = strings.TrimPrefix(strings.TrimPrefix(body, "Caused by: "), "Suppressed: ")
			body = strings.TrimSpace(body)
			if c := strings.Index(body, ": "); c >= 0 {
				body = body[:c]
			}
			b.fp.WriteString(body)
		}
	case indentRun:
		b.writeTemplate(tmpl)
	case pyTrace:
		switch {
		case strings.HasPrefix(body, "File "):
			b.fp.WriteString(body)
		case indented:
			return // the source line shown under a frame
		default:
			if c := strings.IndexByte(body, ':'); c >= 0 {
				body = body[:c]
			}
			b.fp.WriteString(body)
		}
	}
	b.fp.Write(newline)
}

// isFileLine matches "path/file.go:97": a path, a colon, a line number.
func isFileLine(s string) bool {
	c := strings.LastIndexByte(s, ':')
	if c <= 0 || c == len(s)-1 {
		return false
	}
	for i := c + 1; i < len(s); i++ {
		if class[s[i]]&clDigit == 0 {
			return false
		}
	}
	return true
}

func (b *block) writeTemplate(tmpl uint64) {
	var v [8]byte
	for i := range v {
		v[i] = byte(tmpl >> (8 * i))
	}
	b.fp.Write(v[:])
}
