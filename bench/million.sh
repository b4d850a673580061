#!/bin/sh
# Issue 23 target 6: fill N messages (default 1 000 000) in-process, then
# drain them into one Maildir with qm send, and report the queue-run start-up
# time (qm send started until the first message is in the Maildir), the rate
# in each tenth of the drain, and qm send's peak RSS. qm only: Postfix cannot
# be filled to a million through SMTP inside a run's budget. Not a test;
# needs root (deliveries go to the alias user's Maildir as uid 65534), about
# 4 inodes and 10 KB of disk a message, and about an hour at a million.
#   BENCH_MILLION=1000000   messages      QM_BIN=path   the qm to measure
set -u
cd "$(dirname "$0")/.."
N=${BENCH_MILLION:-1000000}
W=$(mktemp -d /tmp/qm-bench-million-XXXXXX)
chmod 755 "$W"
SEND=""
trap '[ -n "$SEND" ] && kill $SEND 2>/dev/null && wait $SEND 2>/dev/null; rm -rf "$W"' EXIT INT TERM
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
# Entries in one directory, without sorting or stat (ls -f): a count of a
# million-entry Maildir costs about half a second, so it is taken rarely.
count() { ls -f "$1" 2>/dev/null | grep -vc '^\.\.\?$'; }
. bench/_qm.sh
QM=$(qm_binary "$W/bin") || exit 111
H=$W/home/qm
mkdir -p "$W/home"; chmod 755 "$W/home"
QMHOME=$H "$QM" init --me example.test >/dev/null 2>&1 || { echo "million: qm init failed" >&2; exit 111; }
NEW=$H/alias/Maildir/new

t0=$(now)
node --import tsx bench/fill.ts "$H" "$N" 2048 postmaster@example.test 16 >/dev/null || { echo "million: fill failed" >&2; exit 111; }
t1=$(now)
echo "filled $N in $(calc "$t1 - $t0") s: $(calc "$N / ($t1 - $t0)") msg/s"

t0=$(now)
QMHOME=$H "$QM" send >/dev/null 2>&1 &
SEND=$!
RSS=0
rss() { r=$(ps -o rss= -p $SEND 2>/dev/null | awk '{ print int($1 / 1024) }'); [ -n "$r" ] && [ "$r" -gt "$RSS" ] && RSS=$r; }
# Start-up: until the first file is in the Maildir (a readdir of a small
# directory, so it can be polled often).
while [ -z "$(ls -f "$NEW" | grep -v '^\.\.\?$' | head -1)" ]; do rss; sleep 0.05; done
t1=$(now)
echo "queue-run start-up with $N queued: $(calc "$t1 - $t0" 2) s to the first delivery"
# The drain, one line per tenth: rate over that tenth, and RSS so far.
STEP=$((N / 10)); [ "$STEP" -lt 1 ] && STEP=1
NEXT=$STEP; last=$t0; lastn=0; done=0
while [ "$done" -lt "$N" ]; do
  i=0
  while [ $i -lt 20 ]; do rss; sleep 0.5; i=$((i + 1)); done
  done=$(count "$NEW")
  if [ "$done" -ge "$NEXT" ] || [ "$done" -ge "$N" ]; then
    t=$(now)
    echo "delivered $done: $(calc "($done - $lastn) / ($t - $last)") msg/s over the last $((done - lastn)); qm send peak RSS $RSS MB"
    last=$t; lastn=$done
    while [ "$NEXT" -le "$done" ]; do NEXT=$((NEXT + STEP)); done
  fi
done
t1=$(now)
echo "drained $N in $(calc "$t1 - $t0") s: $(calc "$N / ($t1 - $t0)") msg/s overall; qm send peak RSS $RSS MB"
