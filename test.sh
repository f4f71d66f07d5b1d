#!/usr/bin/env bash
# floodgate's test command, the one the README gives and CI runs.
#
# The end-to-end tests start real peers on loopback: logger (bsdutils),
# rsyslogd and rsyslogd with its TLS driver (rsyslog-gnutls), and tmux as
# the terminal `floodgate top` is tested in. Where they are missing this
# installs them from Debian first (as root, or with sudo), so a fresh
# machine needs nothing else. Then it
# runs every test with the race detector and a few seconds of native
# fuzzing at each parse boundary.
set -euo pipefail
cd "$(dirname "$0")"

need=()
[ -x /usr/sbin/rsyslogd ] || command -v rsyslogd >/dev/null 2>&1 || need+=(rsyslog)
# rsyslog's TLS driver, for the forward output's end-to-end tests over TLS.
compgen -G '/usr/lib/*/rsyslog/lmnsd_gtls.so' >/dev/null || need+=(rsyslog-gnutls)
command -v logger >/dev/null 2>&1 || need+=(bsdutils)
command -v tmux >/dev/null 2>&1 || need+=(tmux) # `floodgate top` in a real terminal
if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "test.sh: installing ${need[*]} from Debian for the end-to-end tests" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Optional peers: headless Chromium renders `floodgate report`'s page,
# promtool (Debian's prometheus) tests the alerting rules. Where they
# cannot be installed, their tests skip and say so.
opt=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || opt+=(chromium)
command -v promtool >/dev/null 2>&1 || opt+=(prometheus)
# systemd-analyze and logrotate check the unit and logrotate example in deploy/.
command -v systemd-analyze >/dev/null 2>&1 || opt+=(systemd)
[ -x /usr/sbin/logrotate ] || opt+=(logrotate)
if [ ${#opt[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "test.sh: installing ${opt[*]} from Debian for the report, alert and deploy tests" >&2
  { "${sudo[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${opt[@]}" >/dev/null; } ||
    echo "test.sh: could not install ${opt[*]}: the tests that need them will skip" >&2
fi

go test -race -count=1 -timeout 8m ./...

if command -v promtool >/dev/null 2>&1; then
  promtool check rules deploy/prometheus/alerts.yml
  promtool test rules deploy/prometheus/alerts_test.yml
else
  echo "test.sh: promtool missing (Debian package prometheus): alert rule tests skipped" >&2
fi

# A short fuzz smoke run of every parse boundary: PACKAGE FUZZ-TARGET.
fuzztime=${FUZZTIME:-4s}
while read -r pkg target; do
  [ -n "$pkg" ] || continue
  if ! grep -q "func ${target}(" "$pkg"/*_test.go 2>/dev/null; then
    echo "test.sh: fuzz target $target not found in $pkg" >&2
    exit 1
  fi
  # The run's own output is what tells a failure apart: a failing input
  # (written under the package's testdata/fuzz) or a worker that died.
  fuzzlog=$(mktemp)
  if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$pkg" >"$fuzzlog" 2>&1; then
    echo "test.sh: fuzzing $pkg $target failed:" >&2
    tail -40 "$fuzzlog" >&2
    rm -f "$fuzzlog"
    exit 1
  fi
  rm -f "$fuzzlog"
  echo "fuzz ok: $pkg $target ($fuzztime)"
done <<'TARGETS'
relay/input FuzzFrame
relay/parse FuzzParse
relay/parse FuzzFastPath
relay/parse FuzzFastPath5424
relay/parse FuzzVisible
relay/output/format FuzzJSON
relay/output/format FuzzText
relay/output FuzzPath
relay/output/forward FuzzQueueFrame
dedupe FuzzTemplate
dedupe FuzzEngine
TARGETS
