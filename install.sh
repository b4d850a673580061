#!/bin/sh
# Installs qm: builds the standalone binary, installs it with its man pages
# and sendmail links, creates the system users (as root) and the home.
#   PREFIX   where to install (default /usr/local)
#   QMHOME   the home to create (default /var/qm)
#   QM_ME    this host's name for control/me (default: the system host name)
#   SENDMAIL_LINKS   the system's sendmail paths (default /usr/sbin/sendmail /usr/lib/sendmail)
#   --system-sendmail   also make qm the system's sendmail: link SENDMAIL_LINKS to
#                       qm, keeping a file that was there as NAME.before-qm
#   --uninstall         remove what install.sh installed (binary, links, man pages;
#                       the system sendmail links, putting NAME.before-qm back);
#                       the home with its queue and mail stays
#   --uninstall --purge also remove the home $QMHOME (the queue, alias/ mail)
#                       and the system users and group
set -eu
cd "$(dirname "$0")"
PREFIX=${PREFIX:-/usr/local}
QMHOME=${QMHOME:-/var/qm}
SENDMAIL_LINKS=${SENDMAIL_LINKS:-/usr/sbin/sendmail /usr/lib/sendmail}
export QMHOME
system_sendmail=no
uninstall=no
purge=no
for a in "$@"; do
  case $a in
    --system-sendmail) system_sendmail=yes ;;
    --uninstall) uninstall=yes ;;
    --purge) purge=yes ;;
    *) echo "install.sh: fatal: unknown option $a (known: --system-sendmail, --uninstall, --purge)" >&2; exit 100 ;;
  esac
done
if [ "$purge" = yes ] && [ "$uninstall" = no ]; then echo "install.sh: fatal: --purge goes with --uninstall" >&2; exit 100; fi

say() { printf 'install.sh: %s\n' "$*" >&2; }

# A link (or file) NAME that is qm's: a symbolic link to PREFIX/bin/qm or to qm beside it.
is_qm_link() {
  [ -L "$1" ] || return 1
  case $(readlink "$1") in "$PREFIX/bin/qm" | ../bin/qm | qm) return 0 ;; esac
  return 1
}

if [ "$uninstall" = yes ]; then
  for link in $SENDMAIL_LINKS; do
    if is_qm_link "$link"; then
      rm -f "$link"
      if [ -e "$link.before-qm" ] || [ -L "$link.before-qm" ]; then mv "$link.before-qm" "$link"; say "put the old $link back"; fi
    fi
  done
  for link in "$PREFIX/sbin/sendmail" "$PREFIX/bin/mailq" "$PREFIX/bin/newaliases"; do
    if is_qm_link "$link"; then rm -f "$link"; fi
  done
  rm -f "$PREFIX/bin/qm"
  for page in man/*.[1-9]; do
    [ -e "$page" ] || continue
    rm -f "$PREFIX/share/man/man${page##*.}/${page##*/}"
  done
  if [ "$purge" = yes ]; then
    rm -rf "$QMHOME"
    if [ "$(id -u)" = 0 ]; then
      for u in qmaild qmailq qmailr alias; do getent passwd "$u" >/dev/null && userdel "$u"; done
      getent group qmail >/dev/null && groupdel qmail
    fi
    say "removed qm from $PREFIX, and the home $QMHOME with its queue and mail"
  else
    say "removed qm from $PREFIX; the home $QMHOME (queue, mail in alias/) stays: install.sh --uninstall --purge removes it"
  fi
  exit 0
fi

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
  for link in $SENDMAIL_LINKS; do
    if { [ -e "$link" ] || [ -L "$link" ]; } && ! is_qm_link "$link" && [ ! -e "$link.before-qm" ]; then
      mv "$link" "$link.before-qm"
      say "kept the old $link as $link.before-qm"
    fi
    mkdir -p "$(dirname "$link")"
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
