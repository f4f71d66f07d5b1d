//go:build race

package input

// raceEnabled: the race detector makes every connection several times
// dearer, so the hostile tests scale their counts down under it.
const raceEnabled = true
