#!/bin/sh
# Start-up: one small message through `dist/qm inject`, through the sendmail
# link to dist/qm, and through Postfix's sendmail, in one run on this machine;
# prints milliseconds per message and the ratio (target: qm no slower).
# Uses hyperfine (Debian package) when present, else a timed loop of N runs.
#   sh bench/startup.sh [N]        (default 100; needs root for Postfix)
# Postfix runs from a private config and queue under a temp directory (no
# listener) and is stopped at the end; /etc/postfix and /usr/sbin/sendmail
# are not changed.
set -u
cd "$(dirname "$0")/.."
. bench/_postfix.sh
N=${1:-100}
W=$(mktemp -d /tmp/qm-startup-XXXXXX)
chmod 755 "$W"
PF=$W/pf
cleanup() { [ -d "$PF/etc" ] && pf_stop "$PF"; rm -rf "$W"; }
trap cleanup EXIT INT TERM
say() { printf 'startup: %s\n' "$*" >&2; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
now() { date +%s.%N; }

[ -x dist/qm ] || npm run build >/dev/null 2>&1 || { say "npm run build failed"; exit 111; }
QM=$(pwd)/dist/qm
ln -s "$QM" "$W/sendmail"
export QMHOME=$W/qm
"$QM" init --me example.test >/dev/null 2>&1 || { say "qm init failed"; exit 111; }
MSG=$W/msg.txt
printf 'From: bench@example.test\nTo: postmaster@example.test\nSubject: startup\n\nOne small message.\n' > "$MSG"

PF_OK=1
pf_install && pf_start "$PF" "" "relay_domains = example.test
defer_transports = smtp relay local virtual" "" || { PF_OK=0; say "Postfix is not available: qm figures only"; }

QM_CMD="$QM inject -- postmaster@example.test < $MSG"
SM_CMD="$W/sendmail -t -i < $MSG"
PF_CMD="/usr/sbin/sendmail -C $PF/etc -t -i < $MSG"

if command -v hyperfine >/dev/null; then
  set -- "$QM_CMD" "$SM_CMD"
  [ $PF_OK = 1 ] && set -- "$@" "$PF_CMD"
  hyperfine --warmup 5 --runs "$N" --style basic --export-csv "$W/times.csv" "$@" >&2 || exit 111
  ms() { awk -F, -v n="$1" 'NR == n + 1 { printf "%.2f", $2 * 1000 }' "$W/times.csv"; }
  QM_MS=$(ms 1); SM_MS=$(ms 2); PF_MS=$([ $PF_OK = 1 ] && ms 3 || echo -)
else
  loop() { t0=$(now); i=0; while [ $i -lt "$N" ]; do sh -c "$1" || say "failed: $1"; i=$((i + 1)); done; calc "($(now) - $t0) * 1000 / $N" 2; }
  QM_MS=$(loop "$QM_CMD"); SM_MS=$(loop "$SM_CMD"); PF_MS=$([ $PF_OK = 1 ] && loop "$PF_CMD" || echo -)
fi

echo "one small message, ms per message ($N runs):"
echo "  qm inject (dist/qm):           $QM_MS"
echo "  sendmail -t (link to dist/qm): $SM_MS"
echo "  Postfix sendmail -t:           $PF_MS"
if [ "$PF_MS" != - ]; then
  echo "  ratio Postfix/qm inject:       $(calc "$PF_MS / $QM_MS" 2)   (>= 1.00 means qm is no slower)"
  echo "  ratio Postfix/qm sendmail:     $(calc "$PF_MS / $SM_MS" 2)"
fi
