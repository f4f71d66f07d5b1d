#!/usr/bin/env bash
# floodgate's test command, the one the README gives and CI runs.
#
# The end-to-end tests start real peers on loopback: logger (bsdutils) and
# rsyslogd, and tmux as the terminal `floodgate top` is tested in. Where
# they are missing this installs them from Debian first (as root, or with
# sudo), so a fresh machine needs nothing else. Then it
# runs every test with the race detector and a few seconds of native
# fuzzing at each parse boundary.
set -euo pipefail
cd "$(dirname "$0")"

need=()
[ -x /usr/sbin/rsyslogd ] || command -v rsyslogd >/dev/null 2>&1 || need+=(rsyslog)
command -v logger >/dev/null 2>&1 || need+=(bsdutils)
command -v tmux >/dev/null 2>&1 || need+=(tmux) # `floodgate top` in a real terminal
if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "test.sh: installing ${need[*]} from Debian for the end-to-end tests" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

go test -race -count=1 -timeout 8m ./...

# A short fuzz smoke run of every parse boundary: PACKAGE FUZZ-TARGET.
fuzztime=${FUZZTIME:-4s}
while read -r pkg target; do
  [ -n "$pkg" ] || continue
  if ! grep -q "func ${target}(" "$pkg"/*_test.go 2>/dev/null; then
    echo "test.sh: fuzz target $target not found in $pkg" >&2
    exit 1
  fi
  go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$pkg" >/dev/null ||
    { echo "test.sh: fuzzing $pkg $target failed" >&2; go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$pkg"; exit 1; }
  echo "fuzz ok: $pkg $target ($fuzztime)"
done <<'TARGETS'
relay/input FuzzFrame
relay/parse FuzzParse
relay/parse FuzzFastPath
relay/parse FuzzFastPath5424
relay/parse FuzzVisible
relay/output/format FuzzJSON
relay/output FuzzPath
dedupe FuzzTemplate
dedupe FuzzEngine
TARGETS
