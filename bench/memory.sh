#!/bin/sh
# Idle memory of the whole running system (issue 14): PSS summed over
# `qm start` and every process under it, beside a private Postfix's resident
# processes (master and what it keeps running: qmgr, pickup, ...), measured in
# the same run after both have sat idle for IDLE seconds. PSS (proportional set
# size, /proc/PID/smaps_rollup) counts a page shared by n processes as 1/n, so
# the sum is what the system really costs; RSS summed is printed beside it.
#   sh bench/memory.sh [IDLE_SECONDS]        needs root (qm start drops to users; Postfix)
set -u
cd "$(dirname "$0")/.."
. bench/_postfix.sh
. bench/_qm.sh
IDLE=${1:-10}
[ "$(id -u)" = 0 ] || { echo "memory: needs root" >&2; exit 111; }
W=$(mktemp -d /tmp/qm-memory-XXXXXX)
chmod 755 "$W"
PF=$W/pf
QPID=""
cleanup() {
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
  [ -d "$PF/etc" ] && pf_stop "$PF"
  rm -rf "$W"
}
trap cleanup EXIT INT TERM
QM=$(qm_binary "$W/bin") || exit 111
BASE=$((30000 + $$ % 10000 * 2))

# the process PID and all its descendants
tree() {
  echo "$1"
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done
}
# kB of PSS and RSS summed over the pids on stdin: "PSS RSS N"
sum_mem() {
  n=0; pss=0; rss=0
  while read -r p; do
    f=/proc/$p/smaps_rollup
    [ -r "$f" ] || continue
    a=$(awk '/^Pss:/ { print $2 }' "$f"); b=$(awk '/^Rss:/ { print $2 }' "$f")
    pss=$((pss + ${a:-0})); rss=$((rss + ${b:-0})); n=$((n + 1))
  done
  echo "$pss $rss $n"
}
names() { while read -r p; do tr '\0' ' ' < /proc/"$p"/cmdline 2>/dev/null | cut -c1-60; echo; done; }

# qm: a fresh home, qm start with its SMTP listener on loopback, smtpd as nobody
H=$W/qm
QMHOME=$H "$QM" init --me example.test >/dev/null 2>&1 || { echo "memory: qm init failed" >&2; exit 111; }
QMHOME=$H "$QM" start --listen 127.0.0.1:$BASE --smtpd-user nobody > "$W/qm.log" 2>&1 &
QPID=$!
sleep "$IDLE"
QMT=$(tree "$QPID" | sort -u)
QMM=$(echo "$QMT" | sum_mem)
echo "$QMT" | names | sed 's/^/qm process: /' >&2

PFM="- - 0"
if pf_install && pf_start "$PF" "$((BASE + 1))" "" ""; then
  sleep "$IDLE"
  MPID=$(head -1 "$PF/spool/pid/master.pid" 2>/dev/null | tr -d ' ')
  if [ -n "$MPID" ]; then
    PFT=$(tree "$MPID" | sort -u)
    PFM=$(echo "$PFT" | sum_mem)
    echo "$PFT" | names | sed 's/^/postfix process: /' >&2
  fi
fi
set -- $QMM $PFM
echo "idle PSS summed: qm $(($1 / 1024)) MB in $3 processes (RSS $(($2 / 1024)) MB); postfix $( [ "$4" = - ] && echo - || echo $(($4 / 1024)) ) MB in $6 processes (RSS $( [ "$5" = - ] && echo - || echo $(($5 / 1024)) ) MB)"
[ "$4" != - ] && awk -v q="$1" -v p="$4" 'BEGIN { printf "ratio qm/postfix (PSS): %.2f (target <= 3)\n", q / p }'
