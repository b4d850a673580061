#!/bin/sh
# Issue 5 benchmark (not a test): Postfix's smtp-source against `qm smtpd --listen` and against a
# private Postfix smtpd, side by side in one run, each queuing for real (qm: in-process enqueue into
# todo/ as the queue owner, no qm send; Postfix: cleanup into the hold queue, nothing delivered).
# Then the listener's memory while one 100 MB message arrives.
# As root the queue is given to nobody and smtpd runs --user nobody: the queue owner, so it queues
# in-process. Run as a user that does not own the queue (qmaild in an install), smtpd writes
# maildrop/ instead (about 15% fewer messages/s here, and qm send enqueues them again later).
# Usage: sh bench/smtpd.sh [messages] [sessions] [bytes]      (QM_BIN=path: binary to measure; ROUNDS=2)
# Prints RESULT lines: RESULT <name> qm=<v> postfix=<v> unit=<u> ratio=<qm/postfix>
set -e
cd "$(dirname "$0")/.."
. bench/_postfix.sh
M=${1:-5000}; S=${2:-20}; L=${3:-2048}; BIG=${BIG:-104857600}
QP=${QM_PORT:-2625}; PP=${POSTFIX_PORT:-2626}
. bench/_qm.sh
QM=$(qm_binary "$(mktemp -d)") || exit 111
pf_install || { echo "postfix missing: smtpd benchmark skipped" >&2; exit 0; }
T=$(mktemp -d); chmod 755 "$T"
H=$T/qm; P=$T/postfix
QMHOME=$H "$QM" init --me example.test >/dev/null 2>&1
USERARG=""
if [ "$(id -u)" = 0 ]; then chown -R nobody "$H/queue"; USERARG="--user nobody"; fi
echo 0 > "$H/control/rcptcheck"
QMHOME=$H "$QM" smtpd --listen 127.0.0.1:$QP --max 100 --max-per-ip 100 $USERARG 2>"$T/qm.log" &
QPID=$!
cleanup() { kill $QPID 2>/dev/null || true; pf_stop "$P"; rm -rf "$T"; }
trap cleanup EXIT
pf_start "$P" "$PP" "relay_domains = example.test
default_process_limit = 100
smtpd_end_of_data_restrictions = check_client_access static:HOLD
message_size_limit = 0
mailbox_size_limit = 0" ""
i=0; while [ $i -lt 100 ] && ! ss -ltn | grep -q "127.0.0.1:$QP "; do sleep 0.1; i=$((i + 1)); done

# peak RSS (KiB) of a process tree, sampled every 0.1 s into a file until killed
pfpids() { m=$(head -1 "$P/spool/pid/master.pid" 2>/dev/null | tr -d ' '); echo "$m $(pgrep -P "$m" | tr '\n' ' ')"; }
peak() { max=0; while :; do r=$(ps -o rss= -p "$(eval "$1" | tr ' ' ',' | sed 's/,*$//')" 2>/dev/null | awk '{s+=$1} END {print s+0}'); [ "$r" -gt "$max" ] && max=$r && echo $max > "$2"; sleep 0.1; done; }
now() { date +%s.%N; }
rate() { echo "scale=1; $1 / ($3 - $2)" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
qcount() { find "$H/queue/todo" -type f | wc -l; }

# 1. throughput: ROUNDS rounds of Postfix then qm, same client, same sizes; the rates are over all rounds,
#    so a burst of load from elsewhere on the machine hits both sides alike
peak "echo $QPID" "$T/qm.peak" & MP1=$!
peak pfpids "$T/pf.peak" & MP2=$!
PT=0; QT=0; r=0
while [ $r -lt "${ROUNDS:-2}" ]; do
  a=$(now); smtp-source -s "$S" -m "$M" -l "$L" -f bench@example.test -t postmaster@example.test 127.0.0.1:$PP; b=$(now)
  c=$(now); smtp-source -s "$S" -m "$M" -l "$L" -f bench@example.test -t postmaster@example.test 127.0.0.1:$QP; d=$(now)
  PT=$(echo "$PT + $b - $a" | bc); QT=$(echo "$QT + $d - $c" | bc); r=$((r + 1))
done
kill $MP1 $MP2 2>/dev/null || true
QN=$(qcount); PN=$(pf_queued "$P")
[ "$QN" -ge $((M * r)) ] || echo "warning: qm queued $QN of $((M * r))" >&2
[ "$PN" -ge $((M * r)) ] || echo "warning: postfix queued $PN of $((M * r))" >&2
QR=$(echo "scale=1; $QN / $QT" | bc); PR=$(echo "scale=1; $PN / $PT" | bc)
echo "RESULT smtpd_accept qm=$QR postfix=$PR unit=msg/s ratio=$(ratio "$QR" "$PR")"
QM1=$(cat "$T/qm.peak"); PM1=$(cat "$T/pf.peak")
echo "RESULT smtpd_rss_run qm=$((QM1 / 1024)) postfix=$((PM1 / 1024)) unit=MB ratio=$(ratio "$QM1" "$PM1")"

# 2. one big message, one session
echo 0 > "$T/qm.peak"; echo 0 > "$T/pf.peak"
peak "echo $QPID" "$T/qm.peak" & MP1=$!
peak pfpids "$T/pf.peak" & MP2=$!
smtp-source -s 1 -m 1 -l "$BIG" -f bench@example.test -t postmaster@example.test 127.0.0.1:$PP
smtp-source -s 1 -m 1 -l "$BIG" -f bench@example.test -t postmaster@example.test 127.0.0.1:$QP
sleep 0.3; kill $MP1 $MP2 2>/dev/null || true
[ "$(qcount)" -gt "$QN" ] || echo "warning: qm did not queue the big message" >&2
QM2=$(cat "$T/qm.peak"); PM2=$(cat "$T/pf.peak")
echo "RESULT smtpd_rss_big qm=$((QM2 / 1024)) postfix=$((PM2 / 1024)) unit=MB ratio=$(ratio "$QM2" "$PM2")"
