// Times short commands side by side: one run of each in turn, N rounds, so
// that a machine that slows down or speeds up during the run weighs on every
// command alike (runs of 100 of one command, then 100 of the other, do not).
// Each command gets INPUT on stdin, its stdout thrown away, its stderr kept.
// A pause after each run (GAP_MS, default 30) lets work a command leaves to
// daemons (Postfix's pickup and cleanup take over after its sendmail exits)
// finish before the next command starts, instead of landing on it.
//   node bench/interleave.mjs N INPUT 'VAR=value cmd arg...' 'cmd arg...' ...
// Words are split on spaces (no quoting); leading VAR=value words set the
// environment. Prints one line per command: median and mean ms per run, and
// the number of runs that failed.
import { spawnSync } from "node:child_process";
import { closeSync, openSync } from "node:fs";

const [n, input, ...specs] = process.argv.slice(2);
const rounds = Number(n);
if (!Number.isInteger(rounds) || rounds < 1 || !input || specs.length === 0) {
  process.stderr.write("usage: node bench/interleave.mjs N INPUT 'cmd args' ...\n");
  process.exit(100);
}

const commands = specs.map((spec) => {
  const words = spec.split(" ").filter((w) => w !== "");
  const env = { ...process.env };
  while (words.length > 1 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    const [k, ...v] = words.shift().split("=");
    env[k] = v.join("=");
  }
  return { spec, cmd: words[0], args: words.slice(1), env, times: [], failed: 0 };
});

const WARMUP = 3;
const GAP_MS = Number(process.env.GAP_MS ?? 30);
const pause = new Int32Array(new SharedArrayBuffer(4));
for (let round = 0; round < rounds + WARMUP; round++) {
  for (const c of commands) {
    const fd = openSync(input, "r");
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c.cmd, c.args, { stdio: [fd, "ignore", "inherit"], env: c.env });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    closeSync(fd);
    if (GAP_MS > 0) Atomics.wait(pause, 0, 0, GAP_MS);
    if (round < WARMUP) continue;
    if (r.status !== 0) c.failed++;
    c.times.push(ms);
  }
}

for (const c of commands) {
  const sorted = [...c.times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  process.stdout.write(`${median.toFixed(2)} ${mean.toFixed(2)} ${c.failed} ${c.spec}\n`);
}
