// Shared settings for the property and fuzz tests (test/fuzz/*.fuzz.test.ts).
// CI runs each property a bounded number of times; QM_FUZZ_RUNS=<n> runs every
// property n times instead (the long run: `QM_FUZZ_RUNS=100000 npm test`, or one
// file: `QM_FUZZ_RUNS=100000 node --import tsx --test test/fuzz/cdb.fuzz.test.ts`).
// QM_FUZZ_SEED=<n> replays a run (fast-check prints the seed of a failure).
// The default run uses a fixed seed, so CI is repeatable; the long run
// (QM_FUZZ_RUNS set) draws a fresh seed each time unless QM_FUZZ_SEED is given.
import assert from "node:assert/strict";
import fc from "fast-check";

const RUNS = Number(process.env.QM_FUZZ_RUNS ?? "") || 0;
const CI_SEED = 20261129;
const SEED = process.env.QM_FUZZ_SEED !== undefined ? Number(process.env.QM_FUZZ_SEED) : RUNS > 0 ? undefined : CI_SEED;

/** fast-check parameters: `def` runs in CI, QM_FUZZ_RUNS when set. */
export function params(def: number): fc.Parameters<unknown> {
  return { numRuns: RUNS > 0 ? RUNS : def, ...(SEED === undefined ? {} : { seed: SEED }) };
}

/**
 * Runs `f`; its result and the CPU time it took in ms. CPU time, not wall
 * time: a machine loaded by other work (load 20 on 2 cores was seen) stretches
 * wall time several times over, but a quadratic parser still shows.
 */
export function cpuTimed<T>(f: () => T): { value: T; ms: number } {
  const t0 = process.cpuUsage();
  const value = f();
  const d = process.cpuUsage(t0);
  return { value, ms: (d.user + d.system) / 1000 };
}

/** Runs `f` and fails when one call takes more than `limitMs` of CPU time (bounded time per input). */
export function timed<T>(f: () => T, limitMs = 500): T {
  const { value, ms } = cpuTimed(f);
  assert.ok(ms < limitMs, `one input took ${ms.toFixed(0)} ms of CPU (limit ${limitMs})`);
  return value;
}

/** One char per byte, as qm keeps addresses and header text (core/lib/base/bytes.ts). */
export const byteString = (maxLength = 300): fc.Arbitrary<string> =>
  fc.uint8Array({ maxLength }).map((b) => String.fromCharCode(...b));

/** Strings built from the pieces parsers care about, so fuzzing reaches deep paths, not just the first check. */
export function tokens(pieces: readonly string[], maxLength = 30): fc.Arbitrary<string> {
  return fc.array(fc.oneof(fc.constantFrom(...pieces), byteString(4)), { maxLength }).map((a) => a.join(""));
}

/** Characters that break parsers: specials of RFC 5321/5322, line ends, NUL, 8-bit. */
export const HOSTILE = ["<", ">", "@", "%", "!", ":", ";", ",", '"', "\\", "[", "]", "(", ")", ".", "-", "+", "=", " ", "\t", "\r", "\n", "\r\n", "\0", "\x80", "\xff", "\xc3\xa9", "/", "..", "../"];
