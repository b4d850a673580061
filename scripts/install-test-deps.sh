#!/bin/sh
# Installs the Debian packages listed in scripts/apt-packages.txt (root only;
# elsewhere the tests that need them skip with a message).
cd "$(dirname "$0")/.."
pkgs=$(grep -v '^#' scripts/apt-packages.txt | tr '\n' ' ')
for p in $pkgs; do
  case "$p" in
    *[!a-z0-9.+-]*|[!a-z0-9]*) echo "scripts/apt-packages.txt: not a package name: $p" >&2; exit 1 ;;
  esac
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  missing=""
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || echo "warning: apt-get could not install:$missing" >&2
  fi
else
  echo "note: not root or no apt-get; tests needing$pkgs may skip" >&2
fi
