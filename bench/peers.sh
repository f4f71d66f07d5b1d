#!/usr/bin/env bash
# peers.sh: floodgate, rsyslog and syslog-ng on the same corpora, one
# table of medians per corpus and wire form.
#
# Sends the same corpus to each daemon in the foreground with its own
# config, in both wire forms rsyslog forwards: RFC 3164 lines framed by LF
# (rsyslog's default forwarding) and RFC 5424 in RFC 6587 octet-counted
# frames, one TCP connection on loopback. The targets are rsyslog and
# syslog-ng (plain, with duplicate suppression: rsyslog
# $RepeatedMsgReduction, syslog-ng suppress(); with rate limiting: rsyslog
# imtcp ratelimit.*, syslog-ng throttle()), floodgate (dedupe on, budgets
# off; or with budgets), and the harness's own sink, which reads and
# counts and nothing more: the ceiling of what the machine takes.
#
# Every target is run RUNS times, interleaved (A, B, C, A, B, C, ...), so
# that on a shared machine the runs of each see the same ups and downs;
# each table gives the medians (msg/s end to end, CPU seconds and CPU per
# message from the target's own rusage, peak RSS) and every target's rate
# and CPU per message over rsyslog-plain's.
#
# rsyslog comes from apt if missing. syslog-ng-core conflicts with
# rsyslog in Debian (installing one removes the other), so syslog-ng is
# unpacked into a private directory (apt-get download + dpkg-deb -x, its
# libraries from apt) and run from there with its module path and
# LD_LIBRARY_PATH.
#
# Usage: bench/peers.sh [-q]
#
#   -q (or QUICK=1): a quick run, 200,000 messages a corpus instead of
#   2,000,000 (a minute or two instead of a quarter of an hour).
#
# Environment: N (messages a corpus, 2000000), KINDS (corpora, from
# `floodgate-bench gen -h`: default "chat incident", chat being free text
# whose lines share no template, the unique lines of ordinary traffic),
# FORMS (wire forms: lf3164, octet5424; default both), RUNS (3), TARGETS
# (default "sink rsyslog-plain syslog-ng-plain floodgate-dedupe"; also
# rsyslog-dedupe rsyslog-ratelimit syslog-ng-dedupe syslog-ng-ratelimit
# floodgate-ratelimit; ONLY is the old name), BASE (a git revision: its
# floodgate joins as floodgate-base-dedupe), WORK (bench/out/peers), PORT
# (first loopback port, 25600), RATE (0: as fast as each takes them), MD
# (WORK/peers.md: the tables, with the machine's description and
# versions) and CHARTS (bench/charts: the first run's charts).
#
# Every daemon runs under the harness, which stops it with SIGTERM when
# its run ends (and on Ctrl-C); the trap below kills by PID any that a
# crash of the harness would leave.
set -euo pipefail

top=$(git rev-parse --show-toplevel)
cd "$top"
case "${1:-}" in
-q | --quick) QUICK=1 ;;
"") ;;
*)
	echo "usage: bench/peers.sh [-q]" >&2
	exit 2
	;;
esac
if [ "${QUICK:-0}" = 1 ]; then
	N=${N:-200000}
fi
N=${N:-2000000}
KINDS=${KINDS:-${KIND:-chat incident}}
FORMS=${FORMS:-lf3164 octet5424}
RUNS=${RUNS:-3}
TARGETS=${TARGETS:-${ONLY:-sink rsyslog-plain syslog-ng-plain floodgate-dedupe}}
WORK=${WORK:-bench/out/peers}
PORT=${PORT:-25600}
RATE=${RATE:-0}
CHARTS=${CHARTS:-bench/charts}
mkdir -p "$WORK"
MD=${MD:-$WORK/peers.md}
WORK_NOTE=$WORK # as given, relative to the repository by default: BENCHMARKS.md names no path of this machine
WORK=$(cd "$WORK" && pwd)

cleanup() {
	for f in "$WORK"/*/*/pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f" 2>/dev/null || true)
		if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
			echo "peers: stopping leftover daemon $p ($f)" >&2
			kill "$p" 2>/dev/null || true
		fi
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "peers: $*" >&2; }

# --- the daemons -----------------------------------------------------

if ! command -v rsyslogd >/dev/null 2>&1; then
	log "installing rsyslog"
	apt-get install -y --no-install-recommends rsyslog >/dev/null
fi
RSYSLOGD=$(command -v rsyslogd)

SNG_ROOT=$WORK/syslog-ng-root
SNG=$SNG_ROOT/usr/sbin/syslog-ng
sng_env() { env LD_LIBRARY_PATH="$SNG_ROOT/usr/lib/syslog-ng${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"; }
if [ ! -x "$SNG" ]; then
	log "unpacking syslog-ng-core into $SNG_ROOT (rsyslog stays installed)"
	apt-get install -y --no-install-recommends libivykis0 libnet1 libwrap0 libjson-c5 \
		libglib2.0-0 libpcre3 libcap2 libssl3 libsystemd0 >/dev/null
	(cd "$WORK" && rm -f syslog-ng-core_*.deb && apt-get download syslog-ng-core >/dev/null 2>&1)
	rm -rf "$SNG_ROOT"
	dpkg-deb -x "$WORK"/syslog-ng-core_*.deb "$SNG_ROOT"
fi
SNG_MODULES=$(ls -d "$SNG_ROOT"/usr/lib/syslog-ng/3.* 2>/dev/null | head -1)
have_sng=yes
if ! sng_env "$SNG" --module-path="$SNG_MODULES" --version >/dev/null 2>&1; then
	log "syslog-ng does not run from $SNG_ROOT; skipping it"
	have_sng=no
fi

log "building the harness and floodgate"
FGB=$WORK/floodgate-bench
go build -o "$FGB" ./bench/cmd/floodgate-bench
FG=$WORK/floodgate
have_fg=yes
if ! go build -o "$FG" ./cmd/floodgate 2>"$WORK/floodgate-build.log"; then
	log "cmd/floodgate does not build (see $WORK/floodgate-build.log); skipping it"
	have_fg=no
fi
# BASE=REV: floodgate as of another revision too, as target
# floodgate-base-dedupe, built from `git archive REV`: a change's before
# and after in the same run.
FGBASE=$WORK/floodgate-base
if [ -n "${BASE:-}" ]; then
	log "building floodgate at $BASE"
	rm -rf "$WORK/base-src"
	mkdir -p "$WORK/base-src"
	git archive "$BASE" | tar -x -C "$WORK/base-src"
	(cd "$WORK/base-src" && go build -o "$FGBASE" ./cmd/floodgate)
	rm -rf "$WORK/base-src"
	TARGETS="$TARGETS floodgate-base-dedupe"
fi

# --- one run per target ----------------------------------------------

# D is the current corpus and form's directory: its corpus, and one
# directory, one JSON report and one chart per target and round.
D=
KIND=
FORM=
ROUND=
reports=()
port=$PORT

# form_label, form_framing, form_gen FORM: how a wire form is described,
# framed by the harness, and written by the generator.
form_label() { case $1 in lf3164) echo "RFC 3164 over LF" ;; octet5424) echo "RFC 5424 octet-counted" ;; esac; }
form_framing() { case $1 in lf3164) echo lf ;; octet5424) echo octet ;; esac; }
form_gen() { case $1 in lf3164) echo rfc3164 ;; octet5424) echo octet ;; esac; }

# dir NAME: the working directory of target NAME in this round.
dir() { echo "$D/$1.r$ROUND"; }

# run NAME COMMAND...: the harness sending the corpus to 127.0.0.1:$port
# and measuring COMMAND, which writes under $(dir NAME)/out.
run() {
	local name=$1 d
	shift
	d=$(dir "$name")
	log "--- $KIND $FORM round $ROUND/$RUNS: $name"
	"$FGB" run -name "$name" -corpus "$KIND n=$N seed=1, $(form_label "$FORM")" -to "tcp://127.0.0.1:$port" \
		-framing "$(form_framing "$FORM")" -rate "$RATE" \
		-out "$d/out" -log "$d/daemon.log" \
		-json "$d.json" -svg "$d.svg" -settle 2s -timeout 10m \
		"$D/corpus" -- "$@" >"$d.txt" || log "$name: run failed (see $d/daemon.log)"
	if [ -s "$d.json" ]; then
		reports+=("$d.json")
		sed -n 's/^end to end  */  e2e: /p; s/^target cost  */  cost: /p; s/^accounted  */  accounted: /p' "$d.txt" >&2
	fi
	# The output is measured; what it wrote is not needed any more, and
	# a full run would otherwise leave gigabytes behind.
	rm -rf "$d/out"
	port=$((port + 1))
}

# fresh NAME: an empty working directory for a target.
fresh() {
	local d
	d=$(dir "$1")
	rm -rf "$d" "$d.json" "$d.svg" "$d.txt"
	mkdir -p "$d/out" "$d/work"
}

rsyslog_conf() { # NAME VARIANT
	local d
	d=$(dir "$1")
	{
		echo "global(workDirectory=\"$d/work\" maxMessageSize=\"64k\")"
		[ "$2" = dedupe ] && echo '$RepeatedMsgReduction on'
		echo 'module(load="imtcp")'
		if [ "$2" = ratelimit ]; then
			echo "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"$port\" ratelimit.interval=\"1\" ratelimit.burst=\"20000\")"
		else
			echo "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"$port\")"
		fi
		# rsyslogd's own messages (start, rate-limit notices) stay out of
		# the accounted output.
		echo "if \$programname == \"rsyslogd\" then { action(type=\"omfile\" file=\"$d/internal.log\") stop }"
		echo "action(type=\"omfile\" file=\"$d/out/messages.log\" template=\"RSYSLOG_TraditionalFileFormat\")"
	} >"$d/rsyslog.conf"
}

sng_conf() { # NAME VARIANT
	local d opts="" flags="flags(flow-control);" src
	d=$(dir "$1")
	# syslog() reads RFC 5424 in octet-counted frames; network() reads RFC
	# 3164 lines framed by LF, as rsyslog forwards them by default.
	src="syslog(ip(\"127.0.0.1\") port($port) transport(\"tcp\") max-connections(16))"
	[ "$FORM" = lf3164 ] && src="network(ip(\"127.0.0.1\") port($port) transport(\"tcp\") max-connections(16))"
	[ "$2" = dedupe ] && opts="suppress(30)"
	# throttle() without flow control drops what exceeds the rate once the
	# queue is full: syslog-ng's rate limiting.
	[ "$2" = ratelimit ] && opts="throttle(20000)" && flags=""
	cat >"$d/syslog-ng.conf" <<-CONF
	@version: 3.38
	options { keep-hostname(yes); chain-hostnames(no); stats-freq(0); mark-freq(0); log-msg-size(65536); };
	source s_net { $src; };
	destination d_file { file("$d/out/messages.log" $opts); };
	log { source(s_net); destination(d_file); $flags };
	CONF
}

fg_conf() { # NAME VARIANT
	local d rl=false
	d=$(dir "$1")
	[ "$2" = ratelimit ] && rl=true
	cat >"$d/floodgate.toml" <<-CONF
	[[input]]
	type = "tcp"
	address = "127.0.0.1:$port"

	[[output]]
	type = "file"
	path = "$d/out/messages.log"

	[dedupe]
	enabled = true

	[ratelimit]
	enabled = $rl
	rate = "64KiB"
	burst = "1MiB"

	[metrics]
	address = ""
	CONF
}

# run_target NAME: one run of target NAME, if TARGETS names it.
run_target() {
	local name=$1 v
	[[ " $TARGETS " == *" $name "* ]] || return 0
	v=${name##*-}
	fresh "$name"
	case $name in
	sink)
		run sink "$FGB" sink -listen "tcp://127.0.0.1:$port" -o "$(dir sink)/out/messages.log"
		;;
	rsyslog-*)
		rsyslog_conf "$name" "$v"
		run "$name" "$RSYSLOGD" -n -f "$(dir "$name")/rsyslog.conf" -i "$(dir "$name")/pid"
		;;
	syslog-ng-*)
		[ "$have_sng" = yes ] || return 0
		sng_conf "$name" "$v"
		run "$name" env LD_LIBRARY_PATH="$SNG_ROOT/usr/lib/syslog-ng" "$SNG" -F --no-caps \
			--module-path="$SNG_MODULES" -f "$(dir "$name")/syslog-ng.conf" \
			-R "$(dir "$name")/persist" -p "$(dir "$name")/pid" -c "$(dir "$name")/ctl"
		;;
	floodgate-base-*)
		fg_conf "$name" "$v"
		run "$name" "$FGBASE" run -config "$(dir "$name")/floodgate.toml"
		;;
	floodgate-*)
		[ "$have_fg" = yes ] || return 0
		fg_conf "$name" "$v"
		run "$name" "$FG" run -config "$(dir "$name")/floodgate.toml"
		;;
	*)
		log "unknown target $name"
		;;
	esac
}

# run_form KIND FORM: generate the corpus in the form (afresh every time:
# it takes seconds, and a cached one could outlive a generator fix) and
# run every target RUNS times, in turn.
run_form() {
	KIND=$1 FORM=$2
	D=$WORK/$KIND/$FORM
	mkdir -p "$D"
	reports=()
	port=$PORT
	log "generating $KIND, $N messages, $(form_label "$FORM")"
	"$FGB" gen -kind "$KIND" -n "$N" -format "$(form_gen "$FORM")" -o "$D/corpus"
	for ROUND in $(seq 1 "$RUNS"); do
		for t in $TARGETS; do
			run_target "$t"
		done
	done
	rm -f "$D/corpus"
}

# --- the tables ------------------------------------------------------

versions="rsyslog $("$RSYSLOGD" -v | head -1 | awk '{print $2}')"
[ "$have_sng" = yes ] && versions="$versions, syslog-ng $(sng_env "$SNG" --module-path="$SNG_MODULES" --version | sed -n '1s/.*(\(.*\)).*/\1/p')"
[ "$have_fg" = yes ] && versions="$versions, floodgate $(git rev-parse --short HEAD)"
[ -n "${BASE:-}" ] && versions="$versions, floodgate-base $(git rev-parse --short "$BASE")"
mkdir -p "$CHARTS"
began=$(date +%s)
first=yes
for kind in $KINDS; do
	for form in $FORMS; do
		run_form "$kind" "$form"
		if [ ${#reports[@]} -eq 0 ]; then
			log "$kind $form: no run produced a report"
			continue
		fi
		for t in $TARGETS; do
			cp "$D/$t.r1.svg" "$CHARTS/$kind-$form-$t.svg" 2>/dev/null || true
		done
		if [ "$first" = yes ]; then
			"$FGB" table -median -ref rsyslog-plain -md "$MD" \
				-note "Produced by \`bench/peers.sh\` (N=$N KINDS=\"$KINDS\" FORMS=\"$FORMS\" RUNS=$RUNS RATE=$RATE) on $(date -u +%Y-%m-%dT%H:%MZ)." \
				-note "" \
				-note "Versions: $versions." \
				-note "" \
				-note "Every target ran $RUNS times, in turn with the others (A, B, C, A, B, C, ...); each row gives the medians of its runs. CPU s is the target's own user and system time (its rusage), CPU µs/msg that over the messages sent; peak RSS is its VmHWM. Lost is sent minus accounted in the worst run (a negative count is lines of the target's own)." \
				-note "" \
				-note "Configs: rsyslog imtcp + omfile (traditional format); -dedupe adds \`\$RepeatedMsgReduction on\`; -ratelimit sets imtcp \`ratelimit.interval=1 ratelimit.burst=20000\`. syslog-ng network() (RFC 3164 over LF) or syslog() (RFC 5424 octet-counted) source with flow control + file(); -dedupe adds \`suppress(30)\`; -ratelimit uses \`throttle(20000)\` without flow control. floodgate: tcp input, one file output in the traditional format, dedupe on, budgets off (-dedupe) or 64KiB/s burst 1MiB per source (-ratelimit), metrics off. sink: the harness's own receiver, which reads and counts and writes one line per message, no parsing: the ceiling." \
				"${reports[@]}"
			first=no
		else
			"$FGB" table -median -ref rsyslog-plain -md "$MD" -append "${reports[@]}"
		fi
	done
done
[ "$first" = no ] || { log "no run produced a report"; exit 1; }
log "wrote $MD in $(($(date +%s) - began))s; reports, charts and daemon logs in $WORK"
