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
// Around it: NewUnique, the worst case for a deduplicator (every line
// distinct once numbers are masked, differing in words); NewJava and
// NewPython, multi-line exception floods; NewMix, all of them merged by
// timestamp; Merge, to compose others.
//
// Then the floods floodgate was not written for, in the wordings of the
// programs that log them, with parameter words (user names, pods, paths,
// units) drawn from Zipf-like pools, bursts and many hosts. New builds
// any kind by name (Kinds lists them):
//
//   - sshd (NewSSHD): a brute force from thousands of addresses trying
//     thousands of user names, with scanners and the occasional
//     legitimate "Accepted publickey".
//   - nearmiss (NewNearMiss): lines that differ in one meaningful word
//     (Failed/Accepted, OK/FAILED, UP/DOWN, exit-code/signal/oom-kill/
//     core-dump, healthy/N% full), with late variants.
//   - chat (NewChat): free text relayed by a chat bridge, no template.
//   - web (NewWeb): nginx and haproxy access and error lines, many
//     paths, clients, agents and referrers.
//   - kubelet (NewKubelet): CrashLoopBackOff of 40 pods a node, every
//     pod every ten seconds, with the restarts.
//   - ufw (NewUFW): UFW kernel lines with MACs, addresses and ports.
//   - kafka (NewKafka): Kafka consumers crash-looping, each start with
//     a 52-line tab-indented ConsumerConfig dump, each crash with a Java
//     trace and its Caused by sections.
//   - celery (NewCelery): Celery workers with chained Python
//     tracebacks ("direct cause", "During handling").
//   - ids (NewIDs): a new container id, UUID or request id in every
//     line.
//   - systemd (NewSystemd): restart loops in systemd 245+ wordings, one
//     daemon printing Go 1.23 goroutine dumps at every crash.
//   - background (NewBackground): cron, timers, sessions, postfix.
//   - poison (NewPoison): Failed/Accepted password, then a flood of new
//     words at that place, then Failed/Accepted again.
//   - capture (NewCapture): two hours of 18 hosts with all of the above
//     and the incident, Java and Python floods, its mix in its doc.
//
// Each of them is a set of sources (a process on a host) with its own
// random stream and timing: campaigns and quiet spells, bursts, periods,
// restart delays. Given a span (as in the capture) a kind keeps its
// structure and stretches or shrinks its waits to fit n messages in it.
//
// Every generator of this package is a Truther: Truth says, for the last
// message, the template its author wrote (meaningful words filled in,
// variable places as "<*>"), the block it belongs to, whether it is free
// text and its near-miss group, so tests can check a deduplicator's
// grouping against the truth. Merge passes its parts' Truth on.
//
// Generators fill a floodgate.Message per call and allocate nothing of
// their own per message: texts are carved from large immutable chunks, so
// a consumer may keep the strings. Append renders one message in a Format
// (traditional file line, RFC 3164, RFC 5424, RFC 6587 octet-counted
// RFC 5424) into a reused buffer; Write renders a whole flood to a file.
// Message texts hold rsyslog's #011 escapes as the incident's log does, since that
// is what arrives from rsyslog (it escapes control characters on receipt)
// and what /var/log/syslog holds.
package gen
