import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fastQm, makeHome } from "../support/qm.ts";

const RUNS = 200;

function message(i: number): Buffer {
  const size = (i * 7919) % 400_000; // 0..400 KB, varied so kills land in every phase
  return Buffer.concat([Buffer.from(`Subject: m${i}\n\n`), Buffer.alloc(size, 97 + (i % 26)), Buffer.from(`\nend ${i}\n`)]);
}

/** Starts `qm queue`, feeds message then envelope, SIGKILLs it after `killMs`; resolves with the exit code (null when killed). */
function queueAndKill(bin: string, home: string, i: number, killMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(bin, ["queue"], { env: { ...process.env, QMHOME: home }, stdio: ["pipe", "pipe", "ignore"] });
    child.stdin!.on("error", () => {});
    child.stdout!.on("error", () => {});
    child.stdin!.end(message(i), () => (child.stdout as unknown as NodeJS.WritableStream).end(`Fs${i}@x.test\0Tr${i}@y.test\0\0`));
    const timer = setTimeout(() => child.kill("SIGKILL"), killMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe("qm queue under SIGKILL", { timeout: 300_000 }, () => {
  it(`never leaves todo/ naming an incomplete message, over ${RUNS} kills at random moments`, { timeout: 120_000 }, async () => {
    const bin = await fastQm();
    const home = await makeHome();
    // Calibrate on this machine, now: kills are spread over 1.3 times a whole run, so they land in every phase.
    const exitedOk: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 3; i++) if ((await queueAndKill(bin, home, i, 60_000)) === 0) exitedOk.push(i);
    const whole = (Date.now() - started) / 3;
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 3; i < RUNS; i++) {
      const code = await queueAndKill(bin, home, i, Math.floor(random() * whole * 1.3));
      if (code === 0) exitedOk.push(i);
    }
    const q = join(home, "queue");
    const found = new Map<number, number>();
    for (const name of readdirSync(join(q, "todo"))) {
      const id = Number(name);
      const rec = readFileSync(join(q, "todo", name), "latin1");
      assert.equal(readFileSync(join(q, "intd", name), "latin1"), rec, `intd/${name} differs from todo/${name}`);
      const m = /^u\d+\0p\d+\0Fs(\d+)@x\.test\0Tr(\d+)@y\.test\0$/.exec(rec);
      assert.ok(m, `todo/${name} is incomplete: ${JSON.stringify(rec)}`);
      const i = Number(m[1]);
      assert.equal(Number(m[2]), i);
      assert.ok(!found.has(i), `message ${i} queued twice`);
      found.set(i, id);
      const mess = readFileSync(join(q, "mess", String(id % 23), name));
      const body = mess.subarray(mess.indexOf(10) + 1);
      assert.match(mess.subarray(0, mess.indexOf(10)).toString(), /^Received: \(qmail \d+ invoked by uid \d+\); /);
      assert.ok(body.equals(message(i)), `mess/${id % 23}/${name} is not message ${i} complete`);
    }
    for (const i of exitedOk) assert.ok(found.has(i), `run ${i} exited 0 but its message is not in todo/`);
    const leftovers = readdirSync(join(q, "pid")).length;
    const orphans = readdirSync(join(q, "mess"), { recursive: true }).filter((n) => /\/\d+$/.test(String(n))).length - found.size;
    console.log(`# ${RUNS} runs: ${exitedOk.length} exited 0, ${found.size} committed, ${RUNS - exitedOk.length} killed; leftovers: pid/ ${leftovers}, mess/ without todo ${orphans}`);
    assert.ok(exitedOk.length > 3 && exitedOk.length < RUNS, "the kills should land both before and after the commit point");
    assert.ok(existsSync(join(q, "lock", "trigger")));
  });
});
