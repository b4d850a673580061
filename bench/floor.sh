#!/bin/sh
# Where `qm inject`'s start-up goes: the bun runtime alone, the runtime making
# inject's system calls with one fsync (as Postfix's postdrop) and with the
# fsyncs qm queue makes (bench/floor.ts), qm inject itself and Postfix's
# sendmail, taking turns (bench/interleave.mjs, 30 ms apart); median ms.
#   sh bench/floor.sh [N]        (default 100 rounds; needs root for Postfix)
set -u
cd "$(dirname "$0")/.."
. bench/_postfix.sh
. bench/_qm.sh
N=${1:-100}
oneshot_setup floor
sh scripts/build.sh "$W/floor" bench/floor.ts >/dev/null 2>&1 || { echo "floor: build failed" >&2; exit 111; }
set -- "$W/floor hello" "QMHOME=$QMHOME $W/floor one" "QMHOME=$QMHOME $W/floor all" "QMHOME=$QMHOME $QM inject -- postmaster@example.test"
[ $PF_OK = 1 ] && set -- "$@" "/usr/sbin/sendmail -C $PF/etc -t -i"
GAP_MS=30 node bench/interleave.mjs "$N" "$MSG" "$@" > "$W/times.txt" || exit 111
echo "median ms per run ($N rounds, taking turns):"
awk 'BEGIN { split("runtime alone (floor hello)|syscalls, 1 fsync (floor one)|syscalls, qm fsyncs (floor all)|qm inject|Postfix sendmail -t", l, "|") }
  { printf "  %-34s %s\n", l[NR], $1 }' "$W/times.txt"
