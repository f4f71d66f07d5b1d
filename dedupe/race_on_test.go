//go:build race

package dedupe

// raceEnabled: the race detector makes every line several times dearer,
// so the cardinality test scales its count down under it.
const raceEnabled = true
