package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/floodgate/floodgate"
)

// placeholder is one of the path's {name}s.
type placeholder uint8

const (
	literal placeholder = iota
	phHost
	phApp
	phFacility
	phSeverity
	phDate
)

var placeholders = map[string]placeholder{
	"host": phHost, "app": phApp, "facility": phFacility, "severity": phSeverity, "date": phDate,
}

// part is a literal run of the path or a placeholder.
type part struct {
	lit string
	ph  placeholder
}

// template is a parsed file path with placeholders.
type template struct {
	parts []part
	// base is the directory every file lives under: the path up to the
	// last '/' before the first placeholder ("." when there is none).
	base string
	// rest is the part of the path below base.
	rest string
}

func parseTemplate(path string) (template, error) {
	var t template
	first := -1
	for rest := path; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			t.parts = append(t.parts, part{lit: rest})
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return t, fmt.Errorf("path %q: unclosed {", path)
		}
		ph, ok := placeholders[rest[i+1:i+j]]
		if !ok {
			return t, fmt.Errorf("path %q: unknown placeholder %s", path, rest[i:i+j+1])
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: rest[:i]})
		}
		if first < 0 {
			first = len(path) - len(rest) + i
		}
		t.parts = append(t.parts, part{ph: ph})
		rest = rest[i+j+1:]
	}
	prefix := path
	if first >= 0 {
		prefix = path[:first]
	}
	switch k := strings.LastIndexByte(prefix, '/'); k {
	case -1:
		t.base, t.rest = ".", path
	case 0:
		t.base, t.rest = "/", path[1:]
	default:
		t.base, t.rest = prefix[:k], path[k+1:]
	}
	if strings.HasSuffix(path, "/") || t.rest == "" {
		return t, fmt.Errorf("path %q names a directory, not a file", path)
	}
	return t, nil
}

// append appends the path of r's file to dst.
func (t *template) append(dst []byte, r *floodgate.Record) []byte {
	for _, p := range t.parts {
		dst = t.appendPart(dst, p, r)
	}
	return dst
}

// appendPart appends one part of r's path.
func (t *template) appendPart(dst []byte, p part, r *floodgate.Record) []byte {
	switch p.ph {
	case literal:
		dst = append(dst, p.lit...)
	case phHost:
		dst = appendSafe(dst, r.Host)
	case phApp:
		dst = appendSafe(dst, r.App)
	case phFacility:
		dst = appendSafe(dst, r.Facility.String())
	case phSeverity:
		dst = appendSafe(dst, r.Severity.String())
	case phDate:
		y, m, d := r.Time.Date()
		if y < 0 || y > 9999 {
			y = 0
		}
		dst = append(dst,
			byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
			byte('0'+m/10), byte('0'+m%10), '-',
			byte('0'+d/10), byte('0'+d%10))
	}
	return dst
}

// overflowName replaces {host} and {app} in the path of an overflow file.
const overflowName = "_overflow"

// appendOverflow appends the path of the overflow file for r: r's path
// with {host} and {app} replaced by "_overflow".
func (t *template) appendOverflow(dst []byte, r *floodgate.Record) []byte {
	for _, p := range t.parts {
		switch p.ph {
		case phHost, phApp:
			dst = append(dst, overflowName...)
		default:
			dst = t.appendPart(dst, p, r)
		}
	}
	return dst
}

// maxValue caps a placeholder's value, well below NAME_MAX (255) so that a
// long host name cannot make every write fail.
const maxValue = 128

// appendSafe appends an untrusted value as one path element: '/', NUL and
// other control characters become '_', and "", "." and ".." become "_", so
// that the value can neither climb out of the base directory nor split
// into directories.
func appendSafe(dst []byte, v string) []byte {
	if v == "" || v == "." || v == ".." {
		return append(dst, '_')
	}
	if len(v) > maxValue {
		v = v[:maxValue]
	}
	start := 0
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '/' || c < ' ' || c == 0x7f {
			dst = append(dst, v[start:i]...)
			dst = append(dst, '_')
			start = i + 1
		}
	}
	return append(dst, v[start:]...)
}

// Names of rotated files: the current name followed by .N or .N.gz, or,
// while the rotator has not yet numbered it, .rotating-SEQ.
const rotatedSuffix = `(\.[0-9]+(\.gz)?|\.rotating-[0-9]+)(\.tmp)?`

// rotated returns a pattern matching, below base, the rotated files of
// this template and nothing else: only they may ever be removed.
func (t *template) rotated() *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	rest := t.rest
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		b.WriteString(`[^/]+`)
		rest = rest[i+j+1:]
	}
	b.WriteString(rotatedSuffix + "$")
	return regexp.MustCompile(b.String())
}

// CheckPath reports whether a file output with this path could write: the
// path parses, and its base directory is a writable directory, or can be
// created because its nearest existing ancestor is one. It changes nothing
// on disk, so `floodgate check` can ask it.
func CheckPath(path string) error {
	t, err := parseTemplate(path)
	if err != nil {
		return err
	}
	return CheckDir(t.base, "output directory")
}

// CheckDir reports whether dir is a writable directory, or can be created
// because its nearest existing ancestor is one; what names dir in the
// error. It changes nothing on disk.
func CheckDir(base, what string) error {
	for dir := base; ; {
		st, err := os.Stat(dir)
		switch {
		case err == nil && !st.IsDir():
			if dir == base {
				return fmt.Errorf("%s %s is not a directory", what, dir)
			}
			return fmt.Errorf("cannot create %s %s: %s is not a directory", what, base, dir)
		case err == nil:
			if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
				if dir == base {
					return fmt.Errorf("%s %s is not writable: %w", what, dir, err)
				}
				return fmt.Errorf("cannot create %s %s: %s is not writable: %w", what, base, dir, err)
			}
			return nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, unix.ENOTDIR):
			return fmt.Errorf("%s %s: %w", what, base, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}
