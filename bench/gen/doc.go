// Package gen generates synthetic syslog floods for floodgate's
// benchmarks and tests, deterministically by seed, and renders them as
// capture files in every input format floodgate reads.
//
// The main flood is the incident of docs/incident.md (NewIncident): a
// dockerd printing goroutine dumps of thousands of goroutines that share
// a handful of stacks, each goroutine a block of syslog lines shaped
// exactly like testdata/seed-flood.log (`goroutine N [state]:`, frame lines
// `pkg.func(0x...)`, `#011/path/file.go:NN +0x..`, `created by ...`),
// with ids, arguments, offsets and wait times varying per goroutine;
// interleaved with systemd's nine-line protokube restart cycle every 2 s
// (a new docker PID every cycle) and a trickle of ordinary templated
// traffic from a few hosts. Its timestamps advance as the incident's did,
// so a relay that replays it by message time sees dumps every few seconds
// and the restart loop at its period. IncidentConfig turns its knobs.
//
// Around it: NewUnique, the worst case for a deduplicator (every line a
// pattern of its own, differing in words, not only in numbers); NewJava
// and NewPython, multi-line exception floods; NewMix, all of them merged
// by timestamp; Merge, to compose others.
//
// Generators fill a floodgate.Message per call and allocate nothing of
// their own per message: texts are carved from large immutable chunks, so
// a consumer may keep the strings. Append renders one message in a Format
// (traditional file line, RFC 3164, RFC 5424, RFC 6587 octet-counted
// RFC 5424) into a reused buffer; Write renders a whole flood to a file.
// Message texts hold rsyslog's #011 escapes as the seed does, since that
// is what arrives from rsyslog (it escapes control characters on receipt)
// and what /var/log/syslog holds.
package gen
