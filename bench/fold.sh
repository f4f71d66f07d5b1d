#!/usr/bin/env bash
# fold.sh: how much floodgate folds each kind of flood, offline.
#
# Generates bench/gen's floods (floodgate-bench gen), replays each through
# `floodgate replay` with dedupe on and budgets off, writing the
# traditional format to one file, and prints a Markdown table: messages
# and bytes in, records and bytes out, the two ratios, and the share of
# summaries among the records. The capture kind is bench/gen's two-hour
# mixed capture of 18 hosts (its mix is in NewCapture's doc).
#
# Environment: KINDS (default: capture and every kind of its mix), N
# (messages per kind, 200000), NCAPTURE (messages of the capture, 1450000),
# SEED (1), WORK (bench/out/fold).
set -euo pipefail

top=$(git rev-parse --show-toplevel)
cd "$top"
KINDS=${KINDS:-capture incident web kubelet ufw kafka celery systemd ids sshd java python nearmiss background chat}
N=${N:-200000}
NCAPTURE=${NCAPTURE:-1450000}
SEED=${SEED:-1}
WORK=${WORK:-bench/out/fold}
mkdir -p "$WORK"

go build -o "$WORK/floodgate" ./cmd/floodgate
go build -o "$WORK/floodgate-bench" ./bench/cmd/floodgate-bench
cat >"$WORK/fold.toml" <<EOF
[[output]]
type = "file"
path = "$WORK/unused/{host}/{app}.log"
format = "traditional"

[ratelimit]
enabled = false

[metrics]
address = ""
EOF

echo "| kind | messages | bytes in | records | bytes out | fewer records | fewer bytes | summaries |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for kind in $KINDS; do
	n=$N
	[ "$kind" = capture ] && n=$NCAPTURE
	"$WORK/floodgate-bench" gen -kind "$kind" -n "$n" -seed "$SEED" >"$WORK/$kind.log" 2>/dev/null
	rm -f "$WORK/$kind.out"
	"$WORK/floodgate" replay -q -config "$WORK/fold.toml" -o "$WORK/$kind.out" "$WORK/$kind.log"
	msgs=$(wc -l <"$WORK/$kind.log")
	in=$(wc -c <"$WORK/$kind.log")
	recs=$(wc -l <"$WORK/$kind.out")
	out=$(wc -c <"$WORK/$kind.out")
	sums=$(grep -c ': \[floodgate kind=' "$WORK/$kind.out" || true)
	awk -v k="$kind" -v m="$msgs" -v i="$in" -v r="$recs" -v o="$out" -v s="$sums" 'BEGIN {
		printf "| %s | %d | %.1f MiB | %d | %.2f MiB | %.1fx | %.1fx | %.0f%% |\n", k, m, i/1048576, r, o/1048576, m/r, i/o, 100*s/r
	}'
done
