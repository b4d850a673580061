#!/bin/sh
# qm send alone: drain rate and memory with N messages already queued, and
# the end-to-end rate of messages injected one at a time while qm send runs.
# The side-by-side run with Postfix is bench/run.sh (npm run bench); this
# script is for working on the queue manager. Not a test; needs root (the
# deliveries go to the alias user's Maildir as uid 65534).
#   BENCH_DRAIN="1000 10000"  queue sizes      BENCH_E2E=500  injected messages
set -u
cd "$(dirname "$0")/.."
DRAIN=${BENCH_DRAIN:-"1000 10000"}
E2E=${BENCH_E2E:-500}
W=$(mktemp -d /tmp/qm-bench-send-XXXXXX)
chmod 755 "$W"
SEND=""
trap '[ -n "$SEND" ] && kill $SEND 2>/dev/null; rm -rf "$W"' EXIT INT TERM
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
count() { find "$1" -type f 2>/dev/null | wc -l; }
. bench/_qm.sh
QM=$(qm_binary "$W/bin") || exit 111
MSG=$W/msg.txt
{ printf 'From: bench@example.test\nTo: postmaster@example.test\nSubject: bench\n\n'; awk 'BEGIN { for (i = 0; i < 26; i++) { s = ""; for (j = 0; j < 76; j++) s = s "x"; print s } }'; } > "$MSG"
home() { h=$W/$1/qm; mkdir -p "$W/$1"; chmod 755 "$W/$1"; QMHOME=$h "$QM" init --me example.test >/dev/null 2>&1; echo "$h"; }

printf '| benchmark | qm | unit |\n|---|---|---|\n'
for N in $DRAIN; do
  H=$(home "drain$N")
  node --import tsx bench/fill.ts "$H" "$N" 2048 postmaster@example.test 16 >/dev/null
  t0=$(now)
  QMHOME=$H "$QM" send >/dev/null 2>&1 &
  SEND=$!
  RSS=0
  while [ "$(count "$H/alias/Maildir/new")" -lt "$N" ]; do
    r=$(ps -o rss= -p $SEND 2>/dev/null | awk '{ print int($1 / 1024) }'); [ -n "$r" ] && [ "$r" -gt "$RSS" ] && RSS=$r
    sleep 0.2
  done
  t1=$(now)
  kill $SEND; SEND=""
  printf '| drain %s queued into a Maildir | %s | msg/s |\n| qm send peak RSS, %s queued | %s | MB |\n' "$N" "$(calc "$N / ($t1 - $t0)")" "$N" "$RSS"
  rm -rf "$W/drain$N"
done
H=$(home e2e)
QMHOME=$H "$QM" send >/dev/null 2>&1 &
SEND=$!
sleep 1
t0=$(now); i=0
while [ $i -lt "$E2E" ]; do QMHOME=$H "$QM" inject -- postmaster@example.test < "$MSG"; i=$((i + 1)); done
while [ "$(count "$H/alias/Maildir/new")" -lt "$E2E" ]; do sleep 0.1; done
t1=$(now)
printf '| end to end, %s x 2 KB injected one at a time, to a Maildir | %s | msg/s |\n' "$E2E" "$(calc "$E2E / ($t1 - $t0)")"
