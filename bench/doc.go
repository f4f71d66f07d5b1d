// Package bench is floodgate's flood benchmark harness, the
// floodgate-bench command (bench/cmd/floodgate-bench), which
// "floodgate bench" runs: it generates floods, replays captures to any
// syslog endpoint, and measures what the target did with them. It is a
// binary of its own so that the relay carries none of it.
//
// A target started by "run" gets a process group of its own, so that a
// terminal's Ctrl-C does not reach it before the harness has stopped it
// cleanly: SIGINT and SIGTERM cancel the run, and the harness stops the
// target (SIGTERM, then SIGKILL after -grace) on its way out.
//
// Replaying captured floods is one of floodgate's three jobs, and the
// harness treats floodgate as one target among others: it talks to the
// target only over syslog sockets, reads only the files the target
// writes, and reads the target's CPU and memory from the kernel. So the
// same run measures rsyslog, syslog-ng or a floodgate on another build,
// and peers.sh compares them on one corpus.
//
// Commands:
//
//	floodgate bench gen   [-kind K] [-n N] [-seed S]
//	                      [-format traditional|rfc3164|rfc5424|octet] [-o FILE]
//	                      [-hosts N -goroutines N -stacks N -dump-every D
//	                       -restart-every D -background-every N -start T]
//	floodgate bench send  -to URL [-framing octet|lf] [-rate MSGS/S] [-conns N]
//	                      [-pri N] [-wire rfc5424|rfc3164] [FILE... | gen flags]
//	floodgate bench run   -to URL -out DIR[,DIR] [-pid PID] [-name NAME] [-corpus LABEL]
//	                      [-json FILE] [-svg FILE] [-log FILE] [-settle 2s] [-timeout 10m]
//	                      [-ready 10s] [-grace 30s] [-probe 100ms] [-interval 100ms]
//	                      [send flags] [FILE... | gen flags] [-- COMMAND ARGS...]
//	floodgate bench sink  -listen URL -o FILE
//	floodgate bench count DIR...
//	floodgate bench table [-md FILE [-append]] [-median [-ref NAME]] [-title T] [-note TEXT]... REPORT.json...
//
// gen writes a synthetic flood (package gen) as a capture file; -kind is
// any of gen.Kinds (incident, mix, sshd, kubelet, capture ...; -h lists
// them all). A capture
// is read back line by line and mixed: RFC 6587 octet-counted frames,
// `<PRI>` RFC 3164 or RFC 5424 lines, and bare traditional lines as in
// /var/log/syslog, which are sent with a `<PRI>` prepended (-pri).
//
// send replays captures (or, without files, a generated flood) to an
// endpoint: udp://HOST:PORT, tcp://HOST:PORT, unix:///PATH (stream) or
// unixgram:///PATH. Stream framing is RFC 6587 octet counting or LF.
// -rate paces messages per second (0: as fast as the target takes them);
// -conns spreads sources over several connections, each (host, app)
// always on the same one so per-source order, which block and cycle
// detection rely on, is kept.
//
// run does what send does and measures the target while it works: it
// starts the target (the command after --) or watches a running one
// (-pid), tails the target's output directory (-out), and sends latency
// probes: messages whose text is a word that spells their send time in
// letters (DecodeProbe reads it back), unique to each so no deduplicator
// folds them, whose arrival in the output gives end-to-end latency; a
// last probe after the corpus marks when the target is through it. When the output has been quiet for -settle, it stops the
// target it started with SIGTERM (floodgate flushes its summaries then),
// and accounts the output: verbatim lines plus the counts of floodgate's
// summary lines (traditional, RFC 5424 and JSON forms of docs/output-format.md) and
// of rsyslog's and syslog-ng's "repeated N times" lines. The report gives
// messages per second (as sent and end to end), loss (sent minus
// accounted), bytes in against bytes written and their ratio, latency
// percentiles, CPU seconds and peak RSS (wait4's rusage for a target it
// started, /proc/PID/stat and VmHWM otherwise), as a table on stdout,
// JSON (-json) and an SVG chart of bytes per second in and written
// (-svg). A progress bar runs on stderr when stderr is a terminal.
//
// Example, rsyslog on a generated incident:
//
//	floodgate bench gen -n 1000000 -format octet -o flood.octet
//	floodgate bench run -to tcp://127.0.0.1:25514 -out /tmp/rs/out -json rs.json \
//	    -svg rs.svg flood.octet -- rsyslogd -n -f rs.conf -i /tmp/rs/pid
//
// sink is a minimal receiver (the nc of syslog) for testing the harness
// and for a baseline of what the machine can write. count accounts an
// output directory alone. table compares saved reports and writes them
// with a description of the machine into a Markdown file; with -median
// it takes several runs of each target (peers.sh runs targets in turn, A,
// B, C, A, B, C, ...) down to one row of medians, and -ref compares every
// target's rate and CPU per message with one of them.
package bench
