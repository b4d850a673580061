#!/bin/sh
# Issue 6 benchmark (not a test): N messages x 5 recipients to a domain routed to Postfix's smtp-sink
# on loopback, the whole path timed from the first injection to the last recipient accepted:
#   qm:      qm inject (one process a message) -> qm send -> qm rspawn -> smtp-sink  (control/smtproutes)
#   Postfix: sendmail -> postdrop -> pickup -> cleanup -> qmgr -> smtp -> smtp-sink (relayhost)
# Both with the same remote concurrency (20), the same injection parallelism, one after the other.
# remote_peak_slots: qm send's busiest "status: remote n/20" (concurrencyremote reached when n = 20);
# for Postfix the configured limit. qm rspawn shares one SMTP transaction among the recipients of a
# message that qm send starts together, so connections stay below slots, as with Postfix.
# Usage: sh bench/remote.sh [messages] [inject-parallelism]     (QM_BIN=path: binary to measure)
# Prints RESULT lines: RESULT <name> qm=<v> postfix=<v> unit=<u> ratio=<qm/postfix>
set -e
cd "$(dirname "$0")/.."
. bench/_postfix.sh
N=${1:-1000}; J=${2:-4}; C=${CONCURRENCY:-20}; SINK=${SINK_PORT:-2627}; LIMIT=${LIMIT:-300}
. bench/_qm.sh
QM=$(qm_binary "$(mktemp -d)") || exit 111
pf_install || { echo "postfix missing: remote benchmark skipped" >&2; exit 0; }
T=$(mktemp -d); chmod 755 "$T"
H=$T/qm; P=$T/postfix
RCPTS="r1@far.test r2@far.test r3@far.test r4@far.test r5@far.test"
WANT=$((N * 5))
i=0; { printf 'From: bench@client.test\nSubject: remote bench\n\n'; while [ $i -lt 20 ]; do echo "line $i of a message body of about one kilobyte, as mail goes ........"; i=$((i + 1)); done; } > "$T/msg"
SINKARGS=""; [ "$(id -u)" = 0 ] && SINKARGS="-u nobody"
smtp-sink $SINKARGS 127.0.0.1:$SINK 256 &
SINKPID=$!
SENDPID=""
cleanup() { [ -n "$SENDPID" ] && kill $SENDPID 2>/dev/null; kill $SINKPID 2>/dev/null; pf_stop "$P"; sleep 0.2; rm -rf "$T"; }
trap cleanup EXIT

now() { date +%s.%N; }
ratio() { [ "$2" = 0 ] && echo 0 || echo "scale=2; $1 / $2" | bc; }
conns() { ss -Htn state established "( sport = :$SINK )" 2>/dev/null | wc -l; }
# peak of conns() every 50 ms into a file until killed
peakconns() { max=0; while :; do c=$(conns); [ "$c" -gt "$max" ] && max=$c && echo "$max" > "$1"; sleep 0.05; done; }
# waits until `$1` prints at least WANT (bounded by LIMIT seconds); prints the time it got there
waitfor() { s=$(date +%s); while [ "$(eval "$1")" -lt "$WANT" ]; do [ $(( $(date +%s) - s )) -gt "$LIMIT" ] && { echo "timeout: $(eval "$1") of $WANT" >&2; break; }; sleep 0.05; done; now; }
count() { n=$(grep -c -- "$1" "$2" 2>/dev/null || true); echo "${n:-0}"; }
inject() { seq 1 "$N" | xargs -P "$J" -I{} sh -c "$1"; }

# Each side: injection with its queue manager stopped (timed), then the queue manager started and
# timed until every recipient is accepted by smtp-sink; whole path = N / (inject + delivery time).
# Postfix
pf_start "$P" "" "relayhost = [127.0.0.1]:$SINK
default_destination_concurrency_limit = $C
smtp_destination_concurrency_limit = $C
default_process_limit = $((C + 10))
relay_domains =
smtp_tls_security_level = none"
pf_stop "$P"
a=$(now)
inject "sendmail -C '$P/etc' -f bench@client.test $RCPTS < '$T/msg'"
ai=$(now)
echo 0 > "$T/pf.peak"; peakconns "$T/pf.peak" & PK=$!
pf_resume "$P"
a2=$(now)
b=$(waitfor "count ' status=sent ' '$P/maillog'")
kill $PK 2>/dev/null || true
PSENT=$(count ' status=sent ' "$P/maillog")
pf_stop "$P"

# qm
QMHOME=$H "$QM" init --me client.test >/dev/null 2>&1
echo ":127.0.0.1:$SINK" > "$H/control/smtproutes"
echo "$C" > "$H/control/concurrencyremote"
c=$(now)
inject "QMHOME='$H' '$QM' inject -- $RCPTS < '$T/msg'"
ci=$(now)
echo 0 > "$T/qm.peak"; peakconns "$T/qm.peak" & PK=$!
c2=$(now)
QMHOME=$H "$QM" send > "$T/send.log" 2>&1 &
SENDPID=$!
d=$(waitfor "count ': success: ' '$T/send.log'")
kill $PK 2>/dev/null || true
QSENT=$(count ': success: ' "$T/send.log")
QSLOTS=$(grep -o "remote [0-9]*/" "$T/send.log" | tr -dc '0-9\n' | sort -n | tail -1)

[ "$QSENT" -ge "$WANT" ] || echo "warning: qm delivered $QSENT of $WANT" >&2
[ "$PSENT" -ge "$WANT" ] || echo "warning: postfix delivered $PSENT of $WANT" >&2
per() { echo "scale=1; $N / ($2 - $1)" | bc; }
QW=$(echo "scale=1; $N / ($ci - $c + $d - $c2)" | bc); PW=$(echo "scale=1; $N / ($ai - $a + $b - $a2)" | bc)
echo "RESULT remote_whole_path qm=$QW postfix=$PW unit=msg/s ratio=$(ratio "$QW" "$PW")"
QI=$(per "$c" "$ci"); PI=$(per "$a" "$ai")
echo "RESULT remote_inject qm=$QI postfix=$PI unit=msg/s ratio=$(ratio "$QI" "$PI")"
QD=$(per "$c2" "$d"); PD=$(per "$a2" "$b")
echo "RESULT remote_delivery qm=$QD postfix=$PD unit=msg/s ratio=$(ratio "$QD" "$PD")"
QC=$(cat "$T/qm.peak"); PC=$(cat "$T/pf.peak")
echo "RESULT remote_peak_connections qm=$QC postfix=$PC unit=connections ratio=$(ratio "$QC" "$PC")"
echo "RESULT remote_peak_slots qm=${QSLOTS:-0} postfix=$C unit=deliveries ratio=$(ratio "${QSLOTS:-0}" "$C")"
