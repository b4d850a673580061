#!/bin/sh
# Start-up: one small message through qm inject, through the sendmail link
# to qm, and through Postfix's sendmail, in one run on this machine; prints
# the median milliseconds per message and the ratio (target: qm no slower).
# The commands take turns, one run each per round (bench/interleave.mjs), so
# a machine that changes speed during the run weighs on all of them alike.
#   sh bench/startup.sh [N]        (default 100 rounds; needs root for Postfix)
# qm: $QM_BIN, else a fresh build (scripts/build.sh). Postfix runs from a
# private config and queue under a temp directory (no listener) and is
# stopped at the end; /etc/postfix and /usr/sbin/sendmail are not changed.
set -u
cd "$(dirname "$0")/.."
. bench/_postfix.sh
. bench/_qm.sh
N=${1:-100}
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
oneshot_setup startup
ln -s "$QM" "$W/sendmail"

set -- "QMHOME=$QMHOME $QM inject -- postmaster@example.test" "QMHOME=$QMHOME $W/sendmail -t -i"
[ $PF_OK = 1 ] && set -- "$@" "/usr/sbin/sendmail -C $PF/etc -t -i"
node bench/interleave.mjs "$N" "$MSG" "$@" > "$W/times.txt" || exit 111
sed 's/^/  /' "$W/times.txt" >&2
ms() { awk -v n="$1" 'NR == n { print $1 }' "$W/times.txt"; }
QM_MS=$(ms 1); SM_MS=$(ms 2); PF_MS=$([ $PF_OK = 1 ] && ms 3 || echo -)
awk '$3 != 0 { bad = 1; print "startup: " $3 " runs failed: " $0 > "/dev/stderr" } END { exit bad }' "$W/times.txt" || exit 111

echo "one small message, median ms per message ($N rounds, interleaved):"
echo "  qm inject:                     $QM_MS"
echo "  sendmail -t (link to qm):      $SM_MS"
echo "  Postfix sendmail -t:           $PF_MS"
if [ "$PF_MS" != - ]; then
  echo "  ratio Postfix/qm inject:       $(calc "$PF_MS / $QM_MS" 2)   (>= 1.00 means qm is no slower)"
  echo "  ratio Postfix/qm sendmail:     $(calc "$PF_MS / $SM_MS" 2)"
fi
