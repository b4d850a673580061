#!/bin/sh
# npm run bench: every side-by-side benchmark of the issues, qm beside a
# private Postfix (Debian's package, installed here when missing) on the same
# machine in one run; writes bench/RESULTS.md. Not a test; needs root for
# Postfix and for deliveries as nobody.
#   BENCH_QUICK=1          small sizes (a smoke run, minutes)
#   BENCH_DRAIN="1000 10000 100000"   queue sizes for the growth figures
#   BENCH_E2E=2000 BENCH_SMTPD=5000 BENCH_REMOTE=1000 BENCH_STARTUP=100
#   BENCH_SMTPE2E=2000 BENCH_RELAY=5000 BENCH_RELAY100=1000   (issue 23 targets 1, 4)
#   BENCH_ONLY="smtpe2e relay"   run only these sections (of: startup smtpd e2e
#                          remote smtpe2e relay drain other); default all
#   BENCH_QM_CONTROL="concurrencyrecipient=0"   control files written into every qm home
#   BENCH_OUT=path         where the results go (default bench/RESULTS.md; the
#                          previous table found there is kept under the new one)
# Postfix runs from its own config_directory/queue_directory under a temp
# directory, on 127.0.0.1 high ports only, and is stopped at the end.
set -u
cd "$(dirname "$0")/.."
. bench/_postfix.sh
. bench/_qm.sh

if [ "${BENCH_QUICK:-}" = 1 ]; then D_DRAIN="1000 5000"; D_E2E=300; D_SMTPD=1000; D_REMOTE=200; D_START=30; D_SMTPE2E=300; D_RELAY=500; D_RELAY100=100; else D_DRAIN="1000 10000 100000"; D_E2E=2000; D_SMTPD=5000; D_REMOTE=1000; D_START=100; D_SMTPE2E=2000; D_RELAY=5000; D_RELAY100=1000; fi
DRAIN=${BENCH_DRAIN:-$D_DRAIN}; E2E=${BENCH_E2E:-$D_E2E}; SMTPD_M=${BENCH_SMTPD:-$D_SMTPD}; REMOTE_M=${BENCH_REMOTE:-$D_REMOTE}; START_N=${BENCH_STARTUP:-$D_START}
SMTPE2E_M=${BENCH_SMTPE2E:-$D_SMTPE2E}; RELAY_M=${BENCH_RELAY:-$D_RELAY}; RELAY100_M=${BENCH_RELAY100:-$D_RELAY100}
OUT=bench/RESULTS.md
[ -n "${BENCH_OUT:-}" ] && OUT=$BENCH_OUT
# only SECTION: true when BENCH_ONLY is unset or names SECTION (the section
# bodies are not indented under their `if only ...; then`, to keep diffs small)
only() { case " ${BENCH_ONLY:-$1} " in *" $1 "*) return 0 ;; esac; return 1; }

W=$(mktemp -d /tmp/qm-bench-XXXXXX)
chmod 755 "$W"
ROWS=$W/rows.md
NOTES=$W/notes.md
: > "$ROWS"; : > "$NOTES"
PIDS=""
PFDIRS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  for d in $PFDIRS; do pf_stop "$d"; done
}
trap 'cleanup; rm -rf "$W"' EXIT # the run's homes, Postfix and binary: RESULTS.md has what matters
trap 'exit 130' INT TERM # a trap that only cleaned up would let the run go on

say() { printf 'bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
# row NAME QM POSTFIX UNIT ANCHOR HIGHER_IS_BETTER(1|0)
row() {
  if [ -n "$3" ] && [ "$3" != "-" ] && [ "$2" != "-" ]; then
    if [ "$6" = 1 ]; then r=$(calc "$2 / $3" 2); else r=$(calc "$3 / $2" 2); fi
  else r="-"; fi
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$r" "$5" >> "$ROWS"
  say "$1: qm $2, postfix $3 $4 (ratio $r)"
}
note() { printf '%s\n' "$*" >> "$NOTES"; }
count_files() { find "$1" -type f 2>/dev/null | wc -l; }
# wait_count DIR N TIMEOUT_S: until DIR holds N files; prints the time it was reached (or "timeout")
wait_count() {
  end=$(calc "$(now) + $3" 3)
  while :; do
    c=$(count_files "$1")
    [ "$c" -ge "$2" ] && { now; return 0; }
    [ "$(calc "($(now) > $end)" 0)" = 1 ] && { echo timeout; return 1; }
    sleep 0.2
  done
}
rss_max() { ps -o rss= -p "$1" 2>/dev/null | awk '{ print int($1 / 1024) }'; }

# --- qm, the standalone binary -------------------------------------------------
say "building the standalone qm"
QM=$(qm_binary "$W/bin") || exit 111
chmod 755 "$QM"
QMV=$("$QM" --version 2>/dev/null | head -1)

qm_home() { # qm_home NAME -> a fresh home (queue owned by nobody when root, so smtpd as nobody queues in-process)
  h=$W/$1/qm
  mkdir -p "$W/$1"; chmod 755 "$W/$1"
  QMHOME=$h "$QM" init --me example.test >/dev/null 2>&1
  echo 0 > "$h/control/rcptcheck"
  printf 'sink.test:127.0.0.1:%s\n' "$SINK_PORT" > "$h/control/smtproutes"
  for c in ${BENCH_QM_CONTROL:-}; do printf '%s\n' "${c#*=}" > "$h/control/${c%%=*}"; done
  echo "$h"
}
MSG=$W/msg.txt
{ printf 'From: bench@example.test\nTo: postmaster@example.test\nSubject: bench\n\n'; awk 'BEGIN { for (i = 0; i < 26; i++) { s = ""; for (j = 0; j < 76; j++) s = s "x"; print s } }'; } > "$MSG"

# --- Postfix -------------------------------------------------------------------
PF_OK=1
pf_install || { PF_OK=0; say "postfix could not be installed: qm figures only"; }
command -v smtp-source >/dev/null || PF_OK=0
BASE=$((20000 + $$ % 10000 * 3)) # ports that another run or a test is unlikely to hold
SINK_PORT=${SINK_PORT:-$BASE}
PF_SMTPD_PORT=${PF_PORT:-$((BASE + 1))}
QM_SMTPD_PORT=${QM_PORT:-$((BASE + 2))}
if command -v smtp-sink >/dev/null; then
  smtp-sink -c -u nobody 127.0.0.1:$SINK_PORT 1000 >"$W/sink.out" 2>&1 &
  PIDS="$PIDS $!"
fi
PF=$W/pf
VMAIL=$PF/vmail
if [ $PF_OK = 1 ]; then
  mkdir -p "$VMAIL"; chown 65534:65534 "$VMAIL"
  pf_start "$PF" "$PF_SMTPD_PORT" "virtual_mailbox_domains = vbench.test
virtual_mailbox_base = $VMAIL
virtual_mailbox_maps = inline:{ {u@vbench.test = box/} }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
transport_maps = inline:{ {sink.test = smtp:[127.0.0.1]:$SINK_PORT} }
smtp_destination_concurrency_limit = 20
default_destination_concurrency_limit = 20" "virtual   unix  -       n       n       -       -       virtual" || PF_OK=0
  PFDIRS="$PF"
fi
pf_sendmail() { /usr/sbin/sendmail -C "$PF/etc" "$@" 2>/dev/null; }
pf_defer() { postconf -c "$PF/etc" -e "defer_transports = $1" >/dev/null; postfix -c "$PF/etc" reload >/dev/null 2>&1; sleep 1; }
pf_wait_empty() { # pf_wait_empty TIMEOUT -> time the queue emptied
  end=$(calc "$(now) + $1" 3)
  while [ "$(pf_queued "$PF")" -gt 0 ]; do [ "$(calc "($(now) > $end)" 0)" = 1 ] && { echo timeout; return 1; }; sleep 0.2; done
  now
}

# --- 1. start-up: one small message through qm inject / Postfix's sendmail (issue 7) ---
# Two ways: back to back (START_N in a row for each side, as a batch of mail
# goes out), and cold (the two taking turns with a 30 ms pause after each run,
# as sendmail is mostly called: once now and then; bench/interleave.mjs).
if only startup; then
say "start-up: $START_N x qm inject, then $START_N x Postfix sendmail, back to back"
H=$(qm_home startup)
t0=$(now); i=0
while [ $i -lt "$START_N" ]; do QMHOME=$H "$QM" inject -- postmaster@example.test < "$MSG" || say "inject failed"; i=$((i + 1)); done
t1=$(now)
QM_START=$(calc "($t1 - $t0) * 1000 / $START_N")
PF_START=-
if [ $PF_OK = 1 ]; then
  pf_defer "smtp relay virtual"
  t0=$(now); i=0
  while [ $i -lt "$START_N" ]; do pf_sendmail -f bench@bench.test u@vbench.test < "$MSG"; i=$((i + 1)); done
  t1=$(now)
  PF_START=$(calc "($t1 - $t0) * 1000 / $START_N")
fi
row "inject one message (sendmail start-up), back to back, ms/message, $START_N in a row" "$QM_START" "$PF_START" ms "target: no slower than Postfix" 0
say "start-up: $START_N rounds of qm inject and Postfix sendmail taking turns, 30 ms apart"
set -- "QMHOME=$H $QM inject -- postmaster@example.test"
[ $PF_OK = 1 ] && set -- "$@" "/usr/sbin/sendmail -C $PF/etc -f bench@bench.test u@vbench.test"
GAP_MS=30 node bench/interleave.mjs "$START_N" "$MSG" "$@" > "$W/startup.txt" || say "start-up timing failed"
QM_COLD=$(awk 'NR == 1 { print $1 }' "$W/startup.txt")
PF_COLD=$([ $PF_OK = 1 ] && awk 'NR == 2 { print $1 }' "$W/startup.txt" || echo -)
awk '$3 != 0 { print "bench: start-up: " $3 " runs failed: " $0 > "/dev/stderr" }' "$W/startup.txt"
row "inject one message (sendmail start-up), cold: taking turns 30 ms apart, median ms, $START_N rounds" "$QM_COLD" "$PF_COLD" ms "target: no slower than Postfix" 0
fi # startup

# --- 2. SMTP server: smtp-source -s 20 -m M -l 2048, queuing for real (issue 5) ---
if only smtpd; then
say "smtpd: smtp-source -s 20 -m $SMTPD_M -l 2048"
H=$(qm_home smtpd)
USERARG=""
if [ "$(id -u)" = 0 ]; then chown -R nobody "$H/queue"; USERARG="--user nobody"; fi
QMHOME=$H "$QM" smtpd --listen 127.0.0.1:$QM_SMTPD_PORT --max 100 --max-per-ip 100 $USERARG 2>/dev/null &
SPID=$!; PIDS="$PIDS $SPID"
sleep 1
t0=$(now)
smtp-source -s 20 -m "$SMTPD_M" -l 2048 -f bench@example.test -t postmaster@example.test 127.0.0.1:$QM_SMTPD_PORT 2>>"$W/smtpd.err"
t1=$(now)
QM_SMTPD=$(calc "$SMTPD_M / ($t1 - $t0)")
QM_SMTPD_RSS=$(rss_max $SPID)
QM_SMTPD_Q=$(count_files "$H/queue/todo")
kill $SPID 2>/dev/null
PF_SMTPD=-
if [ $PF_OK = 1 ]; then
  pf_defer "smtp relay virtual"
  b=$(pf_queued "$PF")
  t0=$(now)
  smtp-source -s 20 -m "$SMTPD_M" -l 2048 -f bench@bench.test -t postmaster@example.test 127.0.0.1:$PF_SMTPD_PORT 2>>"$W/smtpd.err"
  t1=$(now)
  PF_SMTPD=$(calc "$SMTPD_M / ($t1 - $t0)")
  note "- smtpd: qm queued $QM_SMTPD_Q of $SMTPD_M (listener RSS ${QM_SMTPD_RSS} MB after the run); Postfix queued $(( $(pf_queued "$PF") - b ))."
fi
row "SMTP server, smtp-source -s 20 -m $SMTPD_M -l 2048, msg/s" "$QM_SMTPD" "$PF_SMTPD" msg/s "Postfix ~730 msg/s on the issue's machine; target >= Postfix" 1
fi # smtpd

# Postfix's queue is emptied between benchmarks: the deferred mail is deleted.
pf_clear() { [ $PF_OK = 1 ] && postsuper -c "$PF/etc" -d ALL >/dev/null 2>&1; }
pf_clear

# --- 3. end to end, local: E2E messages of ~2 KB injected and delivered to a Maildir (issue 3) ---
if only e2e; then
say "end to end local: $E2E messages, one injector"
H=$(qm_home e2e)
QMHOME=$H "$QM" send >/dev/null 2>&1 &
SEND=$!; PIDS="$PIDS $SEND"
sleep 1
t0=$(now); i=0
while [ $i -lt "$E2E" ]; do QMHOME=$H "$QM" inject -- postmaster@example.test < "$MSG"; i=$((i + 1)); done
t1=$(wait_count "$H/alias/Maildir/new" "$E2E" 600)
QM_E2E=$( [ "$t1" = timeout ] && echo - || calc "$E2E / ($t1 - $t0)")
kill $SEND 2>/dev/null
PF_E2E=-
if [ $PF_OK = 1 ]; then
  pf_defer ""
  rm -rf "$VMAIL/box"
  t0=$(now); i=0
  while [ $i -lt "$E2E" ]; do pf_sendmail -f bench@bench.test u@vbench.test < "$MSG"; i=$((i + 1)); done
  t1=$(wait_count "$VMAIL/box/new" "$E2E" 600)
  PF_E2E=$( [ "$t1" = timeout ] && echo - || calc "$E2E / ($t1 - $t0)")
fi
row "end to end local, $E2E x 2 KB injected one at a time and delivered to a Maildir, msg/s" "$QM_E2E" "$PF_E2E" msg/s "Postfix ~140 msg/s on the issue's machine; target >= Postfix" 1
fi # e2e

# --- 4. remote: REMOTE_M messages x 5 recipients routed to smtp-sink (issue 6) ---
if only remote; then
say "remote: $REMOTE_M messages x 5 recipients to smtp-sink"
RC="a@sink.test b@sink.test c@sink.test d@sink.test e@sink.test"
H=$(qm_home remote)
QMHOME=$H "$QM" send >/dev/null 2>&1 &
SEND=$!; PIDS="$PIDS $SEND"
sleep 1
t0=$(now); i=0
# shellcheck disable=SC2086
while [ $i -lt "$REMOTE_M" ]; do QMHOME=$H "$QM" inject -- $RC < "$MSG"; i=$((i + 1)); done
end=$(calc "$(now) + 600" 3)
while [ "$(count_files "$H/queue/info")" -gt 0 ] || [ "$(count_files "$H/queue/todo")" -gt 0 ]; do [ "$(calc "($(now) > $end)" 0)" = 1 ] && break; sleep 0.2; done
t1=$(now)
QM_REMOTE=$(calc "$REMOTE_M / ($t1 - $t0)")
kill $SEND 2>/dev/null
PF_REMOTE=-
if [ $PF_OK = 1 ]; then
  t0=$(now); i=0
  # shellcheck disable=SC2086
  while [ $i -lt "$REMOTE_M" ]; do pf_sendmail -f bench@bench.test $RC < "$MSG"; i=$((i + 1)); done
  t1=$(pf_wait_empty 600)
  PF_REMOTE=$( [ "$t1" = timeout ] && echo - || calc "$REMOTE_M / ($t1 - $t0)")
fi
row "remote, $REMOTE_M messages x 5 recipients to smtp-sink, whole path, msg/s" "$QM_REMOTE" "$PF_REMOTE" msg/s "target >= Postfix, concurrencyremote reached" 1
fi # remote

# Sections 5 and 6 run qm as an install.sh install does: a listener with
# --max 100 --max-per-ip 100 that, as root, runs as another user than the
# queue's owner but in the queue's group (daemon over a queue owned by
# nobody:daemon, as qmaild over qmailq:qmail), so it hands each message to
# `qm queued` as `qm start` arranges; `qm send` runs behind it.
# qm_listen HOME: starts qm send, qm queued and the listener on QM_SMTPD_PORT (LPID, SEND, QPID)
qm_listen() {
  USERARG=""
  QPID=""
  touch "$W/listener.err"; LERR_AT=$(wc -l < "$W/listener.err")
  if [ "$(id -u)" = 0 ]; then
    chown -R nobody:daemon "$1/queue"; USERARG="--user daemon"
    QMHOME=$1 "$QM" queued 2>>"$W/listener.err" &
    QPID=$!; PIDS="$PIDS $QPID"
  fi
  QMHOME=$1 "$QM" send >/dev/null 2>&1 &
  SEND=$!; PIDS="$PIDS $SEND"
  # shellcheck disable=SC2086
  QMHOME=$1 "$QM" smtpd --listen 127.0.0.1:$QM_SMTPD_PORT --max 100 --max-per-ip 100 $USERARG 2>>"$W/listener.err" &
  LPID=$!; PIDS="$PIDS $LPID"
  i=0
  while [ $i -lt 50 ] && ! ss -ltn 2>/dev/null | grep -q "127.0.0.1:$QM_SMTPD_PORT "; do sleep 0.1; i=$((i + 1)); done
  sleep 1
}
qm_unlisten() { # stops what qm_listen started and waits (10 s at most) for them, so the port is free again
  kill "$LPID" "$SEND" $QPID 2>/dev/null
  i=0
  while [ $i -lt 100 ] && { kill -0 "$LPID" 2>/dev/null || kill -0 "$SEND" 2>/dev/null || { [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; }; }; do sleep 0.1; i=$((i + 1)); done
  kill -9 "$LPID" "$SEND" $QPID 2>/dev/null; wait "$LPID" "$SEND" $QPID 2>/dev/null
}
LISTEN_NOTE="qm ran \`qm send\`$([ "$(id -u)" = 0 ] && echo ', `qm queued`') and \`qm smtpd --listen 127.0.0.1:PORT --max 100 --max-per-ip 100$([ "$(id -u)" = 0 ] && echo ' --user daemon')\` $([ "$(id -u)" = 0 ] && echo 'over a queue owned by nobody:daemon, so the listener, not the queue owner but in its group, handed each message to qm queued, which wrote it into the queue, as qm start runs a listener as qmaild on an install.sh install' || echo 'as the invoking user, which owns the queue, so the listener queued in-process')"
# via_maildrop: how many messages the listener of the last qm_listen put into maildrop/ rather than handing them to qm queued
via_maildrop() { tail -n +$((LERR_AT + 1)) "$W/listener.err" | grep -c ' accepted .* maildrop/'; }
# qm_wait_empty HOME TIMEOUT_S -> the time info/, todo/ and maildrop/ were empty (or "timeout")
qm_wait_empty() {
  end=$(calc "$(now) + $2" 3)
  while [ "$(count_files "$1/queue/info")" -gt 0 ] || [ "$(count_files "$1/queue/todo")" -gt 0 ] || [ "$(count_files "$1/queue/maildrop")" -gt 0 ]; do
    [ "$(calc "($(now) > $end)" 0)" = 1 ] && { echo timeout; return 1; }
    sleep 0.2
  done
  now
}
# smtp-sink -c writes "sess=N quit=N mesg=N" + CR after each "." (and session end):
# sink_msgs is the number of messages it has received since it started.
sink_msgs() { tr '\r' '\n' < "$W/sink.out" 2>/dev/null | awk -F'mesg=' 'NF > 1 { n = $2 + 0 } END { print n + 0 }'; }
# wait_sink N TIMEOUT_S -> the time smtp-sink had received N in all (or "timeout")
wait_sink() {
  end=$(calc "$(now) + $2" 3)
  while [ "$(sink_msgs)" -lt "$1" ]; do
    [ "$(calc "($(now) > $end)" 0)" = 1 ] && { echo timeout; return 1; }
    sleep 0.2
  done
  now
}
# rate M T0 T1 -> M / (T1 - T0), or - when T1 is "timeout"
rate() { [ "$3" = timeout ] && echo - || calc "$1 / ($3 - $2)"; }

# --- 5. SMTP to Maildir, end to end: smtp-source -s 20 -m M -l 2048 until M are delivered (issue 23 target 1) ---
if only smtpe2e; then
say "SMTP to Maildir: smtp-source -s 20 -m $SMTPE2E_M -l 2048, until delivered"
H=$(qm_home smtpe2e)
qm_listen "$H"
t0=$(now)
smtp-source -s 20 -m "$SMTPE2E_M" -l 2048 -f bench@example.test -t postmaster@example.test 127.0.0.1:$QM_SMTPD_PORT 2>>"$W/smtpe2e.err"
ta=$(now)
t1=$(wait_count "$H/alias/Maildir/new" "$SMTPE2E_M" 600)
QM_SE=$(rate "$SMTPE2E_M" "$t0" "$t1"); QM_SE_ACC=$(calc "$SMTPE2E_M / ($ta - $t0)"); QM_SE_MD=$(via_maildrop)
[ "$t1" = timeout ] && note "- SMTP to Maildir: qm delivered only $(count_files "$H/alias/Maildir/new") of $SMTPE2E_M in 600 s."
qm_unlisten
rm -rf "$W/smtpe2e"
PF_SE=-; PF_SE_ACC=-
if [ $PF_OK = 1 ]; then
  pf_clear; pf_defer ""
  rm -rf "$VMAIL/box"
  t0=$(now)
  smtp-source -s 20 -m "$SMTPE2E_M" -l 2048 -f bench@bench.test -t u@vbench.test 127.0.0.1:$PF_SMTPD_PORT 2>>"$W/smtpe2e.err"
  ta=$(now)
  t1=$(wait_count "$VMAIL/box/new" "$SMTPE2E_M" 600)
  PF_SE=$(rate "$SMTPE2E_M" "$t0" "$t1"); PF_SE_ACC=$(calc "$SMTPE2E_M / ($ta - $t0)")
  [ "$t1" = timeout ] && note "- SMTP to Maildir: Postfix delivered only $(count_files "$VMAIL/box/new") of $SMTPE2E_M in 600 s."
fi
note "- SMTP to Maildir: acceptance (until smtp-source returned) qm $QM_SE_ACC msg/s, Postfix $PF_SE_ACC msg/s; the row times from the start until the last file is in the Maildir; qm's listener put $QM_SE_MD of $SMTPE2E_M into maildrop/. $LISTEN_NOTE."
row "SMTP to Maildir, end to end, smtp-source -s 20 -m $SMTPE2E_M -l 2048 until all are in the Maildir, msg/s" "$QM_SE" "$PF_SE" msg/s "issue 23 target 1: >= 1.5x" 1
fi # smtpe2e

# --- 6. relay path: smtp-source -s 20 into the listener, out through remote to smtp-sink (issue 23 target 4) ---
# relay_run M LENGTH: sets QM_RL and PF_RL (msg/s, until smtp-sink has them all) and writes the notes
relay_run() {
  say "relay path: smtp-source -s 20 -m $1 -l $2, out to smtp-sink"
  H=$(qm_home "relay$2")
  # a relay host lets its own clients relay: RELAYCLIENT for 127.0.0.1 in the rules
  echo '127.0.0.1:allow,RELAYCLIENT=""' > "$H/control/smtprules"
  qm_listen "$H"
  b=$(sink_msgs)
  t0=$(now)
  smtp-source -s 20 -m "$1" -l "$2" -f bench@example.test -t u@sink.test 127.0.0.1:$QM_SMTPD_PORT 2>>"$W/relay.err"
  ta=$(now)
  t1=$(wait_sink $((b + $1)) 900)
  te=$(qm_wait_empty "$H" 120)
  QM_RL=$(rate "$1" "$t0" "$t1")
  note "- relay path, $1 x $2 bytes: qm accepted at $(calc "$1 / ($ta - $t0)") msg/s ($(via_maildrop) through maildrop/); smtp-sink had $(( $(sink_msgs) - b )) of $1 $(calc "$t1 - $t0" 2) s after the start; the queue was empty (info/, todo/, maildrop/) at $( [ "$te" = timeout ] && echo timeout || calc "$te - $t0" 2) s."
  qm_unlisten
  rm -rf "$W/relay$2"
  PF_RL=-
  if [ $PF_OK = 1 ]; then
    pf_clear; pf_defer ""
    b=$(sink_msgs)
    t0=$(now)
    smtp-source -s 20 -m "$1" -l "$2" -f bench@bench.test -t u@sink.test 127.0.0.1:$PF_SMTPD_PORT 2>>"$W/relay.err"
    ta=$(now)
    t1=$(wait_sink $((b + $1)) 900)
    te=$(pf_wait_empty 120)
    PF_RL=$(rate "$1" "$t0" "$t1")
    note "- relay path, $1 x $2 bytes: Postfix accepted at $(calc "$1 / ($ta - $t0)") msg/s; smtp-sink had $(( $(sink_msgs) - b )) of $1 $(calc "$t1 - $t0" 2) s after the start; its queue was empty at $( [ "$te" = timeout ] && echo timeout || calc "$te - $t0" 2) s."
  fi
}
if only relay && [ -n "$(command -v smtp-sink)" ]; then
relay_run "$RELAY_M" 2048
row "relay path, smtp-source -s 20 -m $RELAY_M -l 2048 through the listener and remote to smtp-sink, msg/s" "$QM_RL" "$PF_RL" msg/s "issue 23 target 4: >= 1.5x" 1
relay_run "$RELAY100_M" 102400
row "relay path, smtp-source -s 20 -m $RELAY100_M -l 102400 through the listener and remote to smtp-sink, msg/s" "$QM_RL" "$PF_RL" msg/s "issue 23 target 4: >= 1.5x" 1
CORES=$(nproc)
per_core() { [ "$1" = - ] && echo - || calc "$1 * 3600 / $CORES" 0; }
QM_PH=$(per_core "$QM_RL"); PF_PH=$(per_core "$PF_RL")
note "- relay path, 100 KB: per hour per core ($CORES cores, shared with smtp-source and smtp-sink) qm $QM_PH, Postfix $PF_PH; KumoMTA publishes about 3.3 million 100 KB messages an hour on 8 cores, durably spooled (~412 500/hour/core): qm is at $( [ "$QM_PH" = - ] && echo - || calc "$QM_PH / 412500 * 100" 1)% of it, Postfix at $( [ "$PF_PH" = - ] && echo - || calc "$PF_PH / 412500 * 100" 1)%."
note "- relay path: recipient u@sink.test, routed by qm's control/smtproutes and Postfix's transport_maps to smtp-sink on loopback; qm's listener relays for 127.0.0.1 through control/smtprules (\`127.0.0.1:allow,RELAYCLIENT=\"\"\`, as a relay host lets its own clients relay); Postfix relays for mynetworks (127.0.0.0/8). Timed from the start until smtp-sink counted every message (smtp-sink -c). $LISTEN_NOTE."
elif only relay; then
  say "relay path: no smtp-sink here, skipped"
fi # relay

# --- 7. growth: inject with N queued, then drain N into a Maildir (issue 3, issue 8) ---
only drain || DRAIN=""
for N in $DRAIN; do
  say "growth: $N queued"
  H=$(qm_home "drain$N")
  fill=$(node --import tsx bench/fill.ts "$H" "$N" 2048 postmaster@example.test 16) || note "- drain $N: bench/fill.ts could not queue every message."
  note "- drain $N: $(echo "$fill" | awk '{ print $1 }') messages queued; queue filled in-process (bench/fill.ts, submit()) at $(echo "$fill" | awk '{ printf "%.0f", $1 / $2 }') msg/s."
  t0=$(now); i=0
  while [ $i -lt 50 ]; do QMHOME=$H "$QM" inject -- postmaster@example.test < "$MSG"; i=$((i + 1)); done
  t1=$(now)
  QM_INJ=$(calc "($t1 - $t0) * 1000 / 50")
  TOTAL=$((N + 50))
  t0=$(now)
  QMHOME=$H "$QM" send >/dev/null 2>&1 &
  SEND=$!; PIDS="$PIDS $SEND"
  RSS=0
  end=$(calc "$(now) + 3600" 3)
  while [ "$(count_files "$H/alias/Maildir/new")" -lt "$TOTAL" ]; do
    r=$(rss_max $SEND); [ -n "$r" ] && [ "$r" -gt "$RSS" ] && RSS=$r
    [ "$(calc "($(now) > $end)" 0)" = 1 ] && break
    # the queue is empty: stop and count what arrived
    [ "$(count_files "$H/queue/info")" -eq 0 ] && [ "$(count_files "$H/queue/todo")" -eq 0 ] && break
    sleep 0.5
  done
  t1=$(now)
  GOT=$(count_files "$H/alias/Maildir/new")
  QM_DRAIN=$(calc "$GOT / ($t1 - $t0)")
  [ "$GOT" -lt "$TOTAL" ] && note "- drain $N: ONLY $GOT of $TOTAL messages reached the Maildir although the queue emptied (to investigate)."
  kill $SEND 2>/dev/null
  note "- drain $N: qm send peaked at ${RSS} MB RSS (target < 200 MB)."
  PF_DRAIN=-; PF_INJ=-
  if [ $PF_OK = 1 ] && [ "$N" -le 10000 ]; then
    pf_clear; pf_defer "virtual"; rm -rf "$VMAIL/box"
    smtp-source -s 20 -m "$N" -l 2048 -f bench@bench.test -t u@vbench.test 127.0.0.1:$PF_SMTPD_PORT 2>>"$W/drain.err"
    t0=$(now); i=0
    while [ $i -lt 50 ]; do pf_sendmail -f bench@bench.test u@vbench.test < "$MSG"; i=$((i + 1)); done
    t1=$(now)
    PF_INJ=$(calc "($t1 - $t0) * 1000 / 50")
    sleep 2
    t0=$(now)
    pf_defer ""; postqueue -c "$PF/etc" -f >/dev/null 2>&1
    t1=$(wait_count "$VMAIL/box/new" "$TOTAL" 1800)
    PF_DRAIN=$( [ "$t1" = timeout ] && echo - || calc "$TOTAL / ($t1 - $t0)")
  fi
  row "inject one message with $N queued, ms/message" "$QM_INJ" "$PF_INJ" ms "flat as the queue grows" 0
  row "drain $N queued messages into a Maildir, msg/s" "$QM_DRAIN" "$PF_DRAIN" msg/s "Postfix ~750 msg/s on the issue's machine; qm flat as the queue grows" 1
  rm -rf "$W/drain$N"
done

# --- other parts' own scripts ----------------------------------------------------
# Each brings its own Postfix and ports: ours is stopped first.
cleanup; PIDS=""; PFDIRS=""
OTHER=$W/other.md
: > "$OTHER"
only other && for s in "bench/memory.sh 10" "bench/startup.sh 50" "bench/floor.sh 100" "bench/remote.sh ${BENCH_OTHER_REMOTE:-300}" "bench/qmqp.sh" "bench/stats.sh"; do
  [ -f "${s%% *}" ] || continue
  say "running $s"
  # shellcheck disable=SC2086
  { echo "### sh $s"; echo; echo '```'; QM_BIN=$QM timeout 900 sh $s 2>&1 | grep -v "warning:" | tail -20; echo '```'; echo; } >> "$OTHER"
done

# --- RESULTS.md ------------------------------------------------------------------
PFV=$(postconf -d mail_version 2>/dev/null | sed 's/.*= //')
# The previous run's table (the first one in $OUT) and its date, kept under the new one.
PREV=$W/prev.md; PREV_DATE=""
: > "$PREV"
if [ -f "$OUT" ]; then
  PREV_DATE=$(sed -n 's/^Written by .* on \([0-9-]* [0-9:]* UTC\)\..*/\1/p' "$OUT" | head -1)
  awk '/^\| benchmark \|/ { on = 1 } on && /^$/ { exit } on { print }' "$OUT" > "$PREV"
fi
{
  echo "# Benchmarks"
  echo
  echo "Written by \`npm run bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'). qm and a private Postfix"
  echo "instance ran on the same machine in the same run. Ratio: qm's figure against Postfix's, above 1 means qm"
  echo "is better (higher rate, or fewer ms). The anchor column quotes the figure or target the issues give."
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(free -m | awk '/Mem:/ { print $2 }') MB memory,"
  echo "kernel $(uname -r), Node $(node --version), qm $QMV (scripts/build.sh: bun build --compile, bytecode, code splitting, --smol), Postfix ${PFV:-not available},"
  echo "file system of /tmp: $(df -T /tmp | awk 'NR == 2 { print $2 }')."
  echo
  echo "| benchmark | qm | Postfix | unit | ratio | anchor |"
  echo "|---|---|---|---|---|---|"
  cat "$ROWS"
  echo
  echo "Notes:"
  echo
  cat "$NOTES"
  echo "- Postfix delivers to the Maildir with virtual(8) as uid 65534; qm delivers to the alias user's Maildir"
  echo "  (postmaster) through lspawn and a local worker as uid 65534. The remote path goes to smtp-sink on loopback."
  echo "- Postfix's drain: N messages queued through its smtpd with the virtual transport deferred, then released"
  echo "  with \`postqueue -f\`. qm's drain: N messages queued in-process, then \`qm send\` started. The 100k drain"
  echo "  is run for qm only (filling Postfix through SMTP would take the run past its budget)."
  echo
  if [ -s "$PREV" ]; then echo "### Previous run (${PREV_DATE:-date unknown})"; echo; cat "$PREV"; echo; fi
  if [ -s "$OTHER" ]; then echo "## Other parts' benchmark scripts"; echo; cat "$OTHER"; fi
} > "$OUT"
say "wrote $OUT"
