#!/bin/sh
# The test suite: node:test through tsx. Node 20's `node --test test/` finds
# no .ts files, so the files are listed explicitly.
#   sh scripts/test.sh          every test (as root, first installs the Debian
#                               packages the tests drive: scripts/apt-packages.txt)
#   sh scripts/test.sh unit     test/lib, test/io and test/fuzz only (~20 s)
#
# Bounded: --test-timeout stops a test that outlives 10 minutes (on Node 20 it
# bounds each test file's process as a whole; the slowest file, the fault
# test, takes about 2.5 minutes on a loaded 2-core machine), and every test
# that starts processes carries a timeout of its own (test/bounded.test.ts).
# No --test-force-exit: with --test-concurrency above 1 it silently drops
# test verdicts, and a failure may be among them (nodejs/node#64833; seen here: a run reported
# 13 fewer tests and exit 0). A file that leaks a child process hangs until
# --test-timeout instead, and fails.
#
# Clean: the standalone qm that the tests starting many processes use
# (fastQm() in test/support/qm.ts) is built once here and removed on exit;
# each test file removes the homes and directories it made when it exits.
set -eu
cd "$(dirname "$0")/.."
run() {
  node --import tsx --test --test-concurrency=2 --test-timeout=600000 "$@"
}
if [ "${1:-}" = unit ]; then
  run $(find test/lib test/io test/fuzz -name '*.test.ts' | sort)
  exit
fi
sh scripts/install-test-deps.sh
files=$(find test -name '*.test.ts' | sort)
if [ -z "${QM_BIN:-}" ] && [ -z "${QM_TEST_BIN:-}" ]; then
  bin=$(mktemp -d "${TMPDIR:-/tmp}/qm-bin-XXXXXX")
  trap 'rm -rf "$bin"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  chmod 755 "$bin" # deliveries run the binary as other users (nobody)
  if sh scripts/build.sh "$bin/qm"; then
    export QM_TEST_BIN="$bin/qm"
  else
    echo "warning: scripts/build.sh failed; tests that need the standalone qm build their own" >&2
  fi
fi
run $files
