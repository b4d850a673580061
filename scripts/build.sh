#!/bin/sh
# Builds the standalone qm with bun: one file holding the runtime and the
# program as bytecode (no parsing at start-up), split into chunks so that a
# command loads only its own modules (qm inject never loads the SMTP server
# or the MIME parser). npm run build, install.sh, the tests and the benchmarks
# all build through here.
#
# No autoloading: a standalone bun program would otherwise read .env and
# bunfig.toml from its working directory (and scan every directory above it)
# at each start. For qm, run by root from any directory, that would let a
# file in the directory set the environment (QMAILQUEUE names the program
# that queues mail) or preload code; and the scan cost ~1-4 ms per start.
#
# --smol: a smaller heap to start with; one `qm inject` (a process per
# message) starts ~0.8 ms sooner. The daemons measured no slower (bench/).
#   sh scripts/build.sh [OUT [ENTRY]]   (default dist/qm from cli/qm.ts;
#                                        bench/floor.sh builds bench/floor.ts alike)
set -eu
OUT=${1:-dist/qm}
ENTRY=${2:-cli/qm.ts}
case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
cd "$(dirname "$0")/.."
exec node_modules/.bin/bun build --compile --minify --bytecode --splitting --format=esm \
  --compile-exec-argv=--smol --no-compile-autoload-dotenv --no-compile-autoload-bunfig --no-compile-autoload-tsconfig --no-compile-autoload-package-json \
  "$ENTRY" --outfile "$OUT"
