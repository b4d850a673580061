#!/bin/sh
# Installs qm: builds the standalone binary, installs it with its man pages
# and sendmail links, creates the system users (as root) and the home.
#   PREFIX   where to install (default /usr/local)
#   QMHOME   the home to create (default /var/qm)
#   QM_ME    this host's name for control/me (default: the system host name)
#   --system-sendmail   also link /usr/sbin/sendmail and /usr/lib/sendmail to qm
set -eu
cd "$(dirname "$0")"
PREFIX=${PREFIX:-/usr/local}
QMHOME=${QMHOME:-/var/qm}
export QMHOME
system_sendmail=no
for a in "$@"; do
  case $a in
    --system-sendmail) system_sendmail=yes ;;
    *) echo "install.sh: fatal: unknown option $a (known: --system-sendmail)" >&2; exit 100 ;;
  esac
done

say() { printf 'install.sh: %s\n' "$*" >&2; }

say "installing dependencies (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
say "building dist/qm"
npm run --silent build >/dev/null

say "installing into $PREFIX"
mkdir -p "$PREFIX/bin" "$PREFIX/sbin"
cp dist/qm "$PREFIX/bin/qm.new" && chmod 0755 "$PREFIX/bin/qm.new" && mv -f "$PREFIX/bin/qm.new" "$PREFIX/bin/qm"
ln -sf ../bin/qm "$PREFIX/sbin/sendmail"
ln -sf qm "$PREFIX/bin/mailq"
ln -sf qm "$PREFIX/bin/newaliases"
for page in man/*.[1-9]; do
  [ -e "$page" ] || continue
  section=${page##*.}
  mkdir -p "$PREFIX/share/man/man$section"
  cp "$page" "$PREFIX/share/man/man$section/"
done
command -v mandb >/dev/null 2>&1 && mandb -q "$PREFIX/share/man" >/dev/null 2>&1 || true
if [ "$system_sendmail" = yes ]; then
  for link in /usr/sbin/sendmail /usr/lib/sendmail; do
    if [ -e "$link" ] && [ ! -L "$link" ]; then mv "$link" "$link.before-qm"; say "kept the old $link as $link.before-qm"; fi
    ln -sf "$PREFIX/bin/qm" "$link"
  done
fi

if [ "$(id -u)" = 0 ]; then
  # One system user per part (docs/architecture.md §2), all in group qmail.
  getent group qmail >/dev/null || groupadd --system qmail
  for u in qmaild qmailq qmailr; do
    getent passwd "$u" >/dev/null || useradd --system --gid qmail --home-dir "$QMHOME" --no-create-home --shell /usr/sbin/nologin "$u"
  done
  getent passwd alias >/dev/null || useradd --system --gid qmail --home-dir "$QMHOME/alias" --no-create-home --shell /usr/sbin/nologin alias
fi

"$PREFIX/bin/qm" init ${QM_ME:+--me "$QM_ME"}
say "done: $PREFIX/bin/qm, home $QMHOME; start it with: qm start (systemd units and a cron line: contrib/)"
