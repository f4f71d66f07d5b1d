package config

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// keyIndex maps TOML key paths to the lines that set them. BurntSushi/toml
// keeps key positions private, so unknown keys (which it reports without
// a position) and bad values found by Validate are located by a small
// scanner of our own. It understands tables, arrays of tables, dotted and
// quoted keys and skips multi-line strings and arrays; it does not need
// to understand values.
type keyIndex struct {
	byPath map[string]int // "input[1].address" -> line
	byKey  map[string]int // "input.address" (no indexes) -> first line
}

func keyLines(data []byte) keyIndex {
	idx := keyIndex{byPath: map[string]int{}, byKey: map[string]int{}}
	arrays := map[string]int{} // array-of-tables path -> count so far
	table, plain := "", ""     // current table with and without indexes
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	inString, depth := "", 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if inString != "" {
			if strings.Contains(line, inString) {
				inString = ""
			}
			continue
		}
		if depth > 0 {
			depth += strings.Count(line, "[") - strings.Count(line, "]")
			continue
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t[0] == '#':
			continue
		case strings.HasPrefix(t, "[["):
			name := keyPath(strings.TrimSuffix(strings.TrimSpace(t[2:strings.Index(t+"]]", "]]")]), "]"))
			i := arrays[name]
			arrays[name] = i + 1
			table, plain = fmt.Sprintf("%s[%d]", name, i), name
			idx.set(table, plain, n)
			continue
		case t[0] == '[':
			name := keyPath(t[1:strings.Index(t+"]", "]")])
			table, plain = name, name
			idx.set(table, plain, n)
			continue
		}
		eq := strings.IndexByte(t, '=')
		if eq < 0 {
			continue
		}
		key := keyPath(t[:eq])
		if table != "" {
			idx.set(table+"."+key, plain+"."+key, n)
		} else {
			idx.set(key, key, n)
		}
		val := strings.TrimSpace(t[eq+1:])
		for _, q := range []string{`"""`, `'''`} {
			if strings.HasPrefix(val, q) && !strings.Contains(val[3:], q) {
				inString = q
			}
		}
		if strings.HasPrefix(val, "[") {
			depth = strings.Count(val, "[") - strings.Count(val, "]")
		}
	}
	return idx
}

func (k keyIndex) set(path, plain string, line int) {
	if _, ok := k.byPath[path]; !ok {
		k.byPath[path] = line
	}
	if _, ok := k.byKey[plain]; !ok {
		k.byKey[plain] = line
	}
}

// find returns the line of a key as BurntSushi/toml names it (without
// array indexes), or 0.
func (k keyIndex) find(key toml.Key) int {
	return k.byKey[strings.Join(key, ".")]
}

// keyPath normalizes `a . "b" . c` to a.b.c.
func keyPath(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}
