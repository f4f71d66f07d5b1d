#!/usr/bin/env bash
# peers.sh: floodgate, rsyslog and syslog-ng on one flood, one table.
#
# Sends the same corpus (by default the incident of docs/incident.md, a
# million messages, RFC 5424 in RFC 6587 octet-counted frames over TCP on
# loopback) to each daemon in the foreground with its own config: plain,
# with duplicate suppression (rsyslog $RepeatedMsgReduction, syslog-ng
# suppress()), with rate limiting (rsyslog imtcp ratelimit.*, syslog-ng
# throttle()), and floodgate (dedupe, then dedupe with budgets), plus the
# harness's own sink as a baseline of what the machine writes when
# nothing parses. Prints one comparison table and writes it, with the
# machine's description and versions, to BENCHMARKS.md.
#
# rsyslog comes from apt if missing. syslog-ng-core conflicts with
# rsyslog in Debian (installing one removes the other), so syslog-ng is
# unpacked into a private directory (apt-get download + dpkg-deb -x, its
# libraries from apt) and run from there with its module path and
# LD_LIBRARY_PATH.
#
# Environment: N (messages, 1000000), KINDS (corpora to run, one table
# each, from incident, unique, java, python, mix; default incident), WORK (bench/out/peers), PORT (first loopback port, 25600),
# ONLY (space-separated target names to run, default all), RATE (0: as
# fast as each takes them), MD (BENCHMARKS.md) and CHARTS
# (bench/charts): where the table and the charts go.
#
# Every daemon runs under the harness, which stops it with SIGTERM when
# its run ends (and on Ctrl-C); the trap below kills by PID any that a
# crash of the harness would leave.
set -euo pipefail

top=$(git rev-parse --show-toplevel)
cd "$top"
N=${N:-1000000}
KINDS=${KINDS:-${KIND:-incident}}
WORK=${WORK:-bench/out/peers}
PORT=${PORT:-25600}
RATE=${RATE:-0}
ONLY=${ONLY:-}
MD=${MD:-BENCHMARKS.md}
CHARTS=${CHARTS:-bench/charts}
mkdir -p "$WORK"
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

# --- one run per target ----------------------------------------------

# D is the current corpus's directory: its corpus, and one directory, one
# JSON report and one chart per target.
D=
reports=()
port=$PORT
# run NAME COMMAND...: a fresh directory, the harness sending the corpus
# to 127.0.0.1:$port and measuring COMMAND, which writes under NAME/out.
run() {
	local name=$1
	shift
	if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then
		return
	fi
	log "--- $name"
	"$FGB" run -name "$name" -corpus "$KIND n=$N seed=1, RFC 5424 octet-counted" -to "tcp://127.0.0.1:$port" -framing octet -rate "$RATE" \
		-out "$D/$name/out" -log "$D/$name/daemon.log" \
		-json "$D/$name.json" -svg "$D/$name.svg" -settle 2s -timeout 10m \
		"$D/corpus.octet" -- "$@" || log "$name: run failed (see $D/$name/daemon.log)"
	[ -s "$D/$name.json" ] && reports+=("$D/$name.json")
	port=$((port + 1))
}

# fresh NAME: an empty working directory for a target.
fresh() {
	rm -rf "${D:?}/$1"
	mkdir -p "$D/$1/out" "$D/$1/work"
}

rsyslog_conf() { # NAME VARIANT
	local d=$D/$1
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
	local d=$D/$1 opts="" flags="flags(flow-control);"
	[ "$2" = dedupe ] && opts="suppress(30)"
	# throttle() without flow control drops what exceeds the rate once the
	# queue is full: syslog-ng's rate limiting.
	[ "$2" = ratelimit ] && opts="throttle(20000)" && flags=""
	cat >"$d/syslog-ng.conf" <<-CONF
	@version: 3.38
	options { keep-hostname(yes); chain-hostnames(no); stats-freq(0); mark-freq(0); log-msg-size(65536); };
	source s_net { syslog(ip("127.0.0.1") port($port) transport("tcp") max-connections(16)); };
	destination d_file { file("$d/out/messages.log" $opts); };
	log { source(s_net); destination(d_file); $flags };
	CONF
}

fg_conf() { # NAME VARIANT
	local d=$D/$1 rl=false
	[ "$2" = ratelimit ] && rl=true
	cat >"$d/floodgate.toml" <<-CONF
	[[input]]
	type = "tcp"
	address = "127.0.0.1:$port"

	[[output]]
	type = "file"
	path = "$d/out/{host}/{app}.log"

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

# run_kind KIND: generate the corpus (afresh every time: it takes a
# second, and a cached one could outlive a generator fix) and run every
# target on it.
run_kind() {
	KIND=$1
	D=$WORK/$KIND
	mkdir -p "$D"
	reports=()
	port=$PORT
	log "generating $KIND, $N messages"
	"$FGB" gen -kind "$KIND" -n "$N" -format octet -o "$D/corpus.octet"

	fresh sink
	run sink "$FGB" sink -listen "tcp://127.0.0.1:$port" -o "$D/sink/out/messages.log"

	for v in plain dedupe ratelimit; do
		name=rsyslog-$v
		fresh "$name"
		rsyslog_conf "$name" "$v"
		run "$name" "$RSYSLOGD" -n -f "$D/$name/rsyslog.conf" -i "$D/$name/pid"
	done

	if [ "$have_sng" = yes ]; then
		for v in plain dedupe ratelimit; do
			name=syslog-ng-$v
			fresh "$name"
			sng_conf "$name" "$v"
			run "$name" env LD_LIBRARY_PATH="$SNG_ROOT/usr/lib/syslog-ng" "$SNG" -F --no-caps \
				--module-path="$SNG_MODULES" -f "$D/$name/syslog-ng.conf" \
				-R "$D/$name/persist" -p "$D/$name/pid" -c "$D/$name/ctl"
		done
	fi

	if [ "$have_fg" = yes ]; then
		for v in dedupe ratelimit; do
			name=floodgate-$v
			fresh "$name"
			fg_conf "$name" "$v"
			run "$name" "$FG" run -config "$D/$name/floodgate.toml"
		done
	fi
}

# --- the tables ------------------------------------------------------

versions="rsyslog $("$RSYSLOGD" -v | head -1 | awk '{print $2}')"
[ "$have_sng" = yes ] && versions="$versions, syslog-ng $(sng_env "$SNG" --module-path="$SNG_MODULES" --version | sed -n '1s/.*(\(.*\)).*/\1/p')"
[ "$have_fg" = yes ] && versions="$versions, floodgate $(git rev-parse --short HEAD)"
mkdir -p "$CHARTS"
first=yes
for kind in $KINDS; do
	run_kind "$kind"
	if [ ${#reports[@]} -eq 0 ]; then
		log "$kind: no run produced a report"
		continue
	fi
	for r in "${reports[@]}"; do
		cp "${r%.json}.svg" "$CHARTS/$kind-$(basename "${r%.json}").svg" 2>/dev/null || true
	done
	if [ "$first" = yes ]; then
		"$FGB" table -md "$MD" \
			-note "Produced by \`bench/peers.sh\` (N=$N KINDS=\"$KINDS\" RATE=$RATE) on $(date -u +%Y-%m-%dT%H:%MZ)." \
			-note "" \
			-note "Versions: $versions. The machine is shared with other work: figures vary between runs by up to 2x." \
			-note "" \
			-note "Charts of bytes/s in and written: $CHARTS/KIND-TARGET.svg. JSON reports with the time series: $WORK_NOTE/KIND/TARGET.json (written by the run, not committed)." \
			-note "" \
			-note "Configs: rsyslog imtcp + omfile (traditional format); -dedupe adds \`\$RepeatedMsgReduction on\`; -ratelimit sets imtcp \`ratelimit.interval=1 ratelimit.burst=20000\`. syslog-ng syslog() source with flow control + file(); -dedupe adds \`suppress(30)\`; -ratelimit uses \`throttle(20000)\` without flow control. floodgate: tcp input, file output per {host}/{app}, dedupe on, budgets off (-dedupe) or 64KiB/s burst 1MiB per source (-ratelimit), metrics off. sink: the harness's own receiver, one line per message, no parsing." \
			"${reports[@]}"
		first=no
	else
		"$FGB" table -md "$MD" -append "${reports[@]}"
	fi
done
[ "$first" = no ] || { log "no run produced a report"; exit 1; }
log "wrote $MD; reports, charts and daemon logs in $WORK"
