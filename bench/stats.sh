#!/bin/sh
# qm stats' speed: a generated log of N lines (bench/stats-log.ts: ISO
# stamps, injected and SMTP mail, local and remote deliveries), read plain
# and gzip'd by the standalone qm; prints the seconds and lines a second.
# Target (issue 22): a million lines in under 10 s, and the message count
# the generator wrote. Exit 1 when either is missed.
#   sh bench/stats.sh [N]    (default 1000000; qm: $QM_BIN, else a fresh build)
set -u
cd "$(dirname "$0")/.."
N=${1:-1000000}
W=$(mktemp -d /tmp/qm-bench-stats-XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM
QM=${QM_BIN:-}
if [ -z "$QM" ]; then QM=$W/qm; sh scripts/build.sh "$QM" >/dev/null || exit 111; fi
node --import tsx bench/stats-log.ts "$N" > "$W/current" 2> "$W/made" || exit 111
gzip -k "$W/current"
LINES=$(wc -l < "$W/current")
now() { date +%s.%N; }
run() { # run LABEL FILE: seconds for qm stats --json FILE
  s=$(now)
  "$QM" stats --json "$2" > "$W/out.json" || { echo "stats: qm stats failed on $1" >&2; exit 111; }
  e=$(now)
  awk -v s="$s" -v e="$e" -v n="$LINES" -v l="$1" 'BEGIN { printf "  %-10s %6.2f s  %9.0f lines/s\n", l, e - s, n / (e - s) }'
  awk -v s="$s" -v e="$e" 'BEGIN { exit !(e - s < 10) }' || FAIL=1
}
FAIL=0
echo "qm stats on $LINES lines ($(du -h "$W/current" | cut -f1) plain, $(du -h "$W/current.gz" | cut -f1) gzip'd):"
run plain "$W/current"
run gzip "$W/current.gz"
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const made = Number(process.argv[2]); console.log(`  counted: ${r.messages.in} messages in (the log holds ${made}), ${r.messages.out} done, ${r.deliveries.local.success + r.deliveries.remote.success} successful deliveries`); process.exit(r.messages.in === made ? 0 : 1)' "$W/out.json" "$(cat "$W/made")" || FAIL=1
[ $FAIL = 0 ] || { echo "stats: over the 10 s target, or a wrong count" >&2; exit 1; }
