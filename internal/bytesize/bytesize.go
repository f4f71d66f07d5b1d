// Package bytesize is floodgate's one way of writing a number of bytes,
// in two forms: Format, as a config writes a size ("64KiB"), and Human,
// for people reading a report or a summary ("5.1 MiB").
package bytesize

import "strconv"

var units = [...]struct {
	shift uint
	name  string
}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}}

// Format renders n in the largest binary unit that divides it ("64KiB",
// "1MiB"), else in bytes ("1500B"): the form a config accepts back.
func Format(n int64) string {
	for _, u := range units {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// Human renders n for people, in the largest binary unit it reaches, with
// one decimal: "512 B", "5.1 MiB".
func Human(n int64) string {
	for _, u := range units {
		if n >= 1<<u.shift {
			return strconv.FormatFloat(float64(n)/float64(int64(1)<<u.shift), 'f', 1, 64) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}
