#!/bin/sh
# QMQP hand-off from a null client to a hub, beside SMTP to the same hub (issue 9 benchmark; not a test).
# Usage: sh bench/qmqp.sh [messages] [sessions] [bytes]
# Three figures, all into the same hub queue on loopback:
#   1. qmqp-source (bench/qmqp-source.ts) -> qm qmqpd --listen: the protocol, S connections at once
#   2. smtp-source (postfix) -> qm smtpd --listen: the same, over SMTP
#   3. qm inject on a QMQP null client, one process per message (what mini-qmail costs a sender)
set -e
cd "$(dirname "$0")/.."
M=${1:-2000}; S=${2:-20}; L=${3:-2048}; N=${INJECTS:-50}
QP=${QMQP_PORT:-6280}; SP=${SMTP_PORT:-2526}
. bench/_qm.sh
QM=$(qm_binary "$(mktemp -d)") || exit 111
H=$(mktemp -d)/hub
QMHOME=$H "$QM" init --me hub.test >/dev/null
chmod 755 "$(dirname "$H")"
USERARG=""
if [ "$(id -u)" = 0 ]; then chown -R nobody "$H/queue"; USERARG="--user nobody"; fi
echo 0 > "$H/control/rcptcheck" 2>/dev/null || true
QMHOME=$H "$QM" qmqpd --listen 127.0.0.1:$QP --max 100 $USERARG 2>/dev/null &
QPID=$!
QMHOME=$H "$QM" smtpd --listen 127.0.0.1:$SP --max 100 --max-per-ip 100 $USERARG 2>/dev/null &
SPID=$!
trap 'kill $QPID $SPID 2>/dev/null' EXIT
sleep 2
count() { find "$H/queue/todo" -type f | wc -l; }

node --import tsx bench/qmqp-source.ts 127.0.0.1:$QP "$M" "$S" "$L"
echo "  qm qmqpd rss $(ps -o rss= -p $QPID) KiB; queued $(count)"

if command -v smtp-source >/dev/null; then
  B=$(count)
  START=$(date +%s.%N)
  smtp-source -s "$S" -m "$M" -l "$L" -f bench@example.test -t postmaster@hub.test 127.0.0.1:$SP
  END=$(date +%s.%N)
  echo "smtp-source: $M messages in $(echo "$END - $START" | bc) s: $(echo "$M / ($END - $START)" | bc) msg/s"
  echo "  qm smtpd rss $(ps -o rss= -p $SPID) KiB; queued $(( $(count) - B ))"
else
  echo "smtp-source not installed (Debian package postfix): SMTP figure skipped"
fi

C=$(mktemp -d)/client
QMHOME=$C "$QM" init --me client.test >/dev/null
echo "127.0.0.1:$QP" > "$C/control/qmqpservers"
B=$(count)
START=$(date +%s.%N)
i=0
while [ $i -lt "$N" ]; do
  printf 'Subject: bench %s\n\nbody\n' "$i" | QMHOME=$C "$QM" inject -- postmaster@hub.test
  i=$((i + 1))
done
END=$(date +%s.%N)
echo "qm inject via QMQP, one process a message: $N in $(echo "$END - $START" | bc) s: $(echo "$N / ($END - $START)" | bc) msg/s; queued $(( $(count) - B )); client queue $(find "$C/queue/todo" -type f | wc -l)"
