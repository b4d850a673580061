#!/bin/sh
# Builds the standalone qm with bun: one file holding the runtime and the
# program as bytecode (no parsing at start-up), split into chunks so that a
# command loads only its own modules (qm inject never loads the SMTP server
# or the MIME parser). npm run build, install.sh, the tests and the benchmarks
# all build through here.
#   sh scripts/build.sh [OUT]        (default dist/qm)
set -eu
OUT=${1:-dist/qm}
case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
cd "$(dirname "$0")/.."
exec node_modules/.bin/bun build --compile --minify --bytecode --splitting --format=esm cli/qm.ts --outfile "$OUT"
