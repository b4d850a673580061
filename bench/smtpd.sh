#!/bin/sh
# Postfix's smtp-source against `qm smtpd --listen` (issue 5 benchmark; not a test).
# Usage: sh bench/smtpd.sh [messages] [sessions]   (needs smtp-source from the postfix package)
set -e
cd "$(dirname "$0")/.."
M=${1:-5000}; S=${2:-20}; PORT=${PORT:-2525}
command -v smtp-source >/dev/null || { echo "smtp-source not installed (Debian package postfix)" >&2; exit 1; }
H=$(mktemp -d)/qm
QMHOME=$H node --import tsx cli/qm.ts init --me example.test >/dev/null
chmod 755 "$(dirname "$H")"
USERARG=""
if [ "$(id -u)" = 0 ]; then chown -R nobody "$H/queue"; USERARG="--user nobody"; fi
echo 0 > "$H/control/rcptcheck"
QMHOME=$H node --import tsx cli/qm.ts smtpd --listen 127.0.0.1:$PORT --max 100 --max-per-ip 100 $USERARG 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null' EXIT
sleep 3
START=$(date +%s.%N)
smtp-source -s "$S" -m "$M" -l 2048 -f bench@example.test -t postmaster@example.test 127.0.0.1:$PORT
END=$(date +%s.%N)
echo "qm smtpd: $M messages in $(echo "$END - $START" | bc) s: $(echo "$M / ($END - $START)" | bc) msg/s; rss $(ps -o rss= -p $PID) KiB"
