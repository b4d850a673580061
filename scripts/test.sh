#!/bin/sh
# The whole test suite: node:test through tsx. Node 20's `node --test test/`
# finds no .ts files, so the files are listed explicitly.
set -e
cd "$(dirname "$0")/.."
sh scripts/install-test-deps.sh
files=$(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=2 $files
