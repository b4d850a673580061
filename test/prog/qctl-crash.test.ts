// Crash safety of qm qctl's own changes (qm-qctl(8) "Crash safety"): a
// `qm qctl delete` over a few hundred messages is SIGKILLed at random points
// while it deletes, again and again; after the next qctl has run (it finishes interrupted
// deletes), every message is either whole, with every recipient still due,
// or has nothing left to deliver or bounce; a queue run afterwards delivers
// nothing of a deleted message and removes what a killed delete left.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fastQm, tempDir } from "../support/qm.ts";
import { fakeEnv, fakeHome, put, queueFiles, runBin, sendOnce } from "../support/send-env.ts";

const MESSAGES = 200;
const ROUNDS = 8;

/** Runs qm, and SIGKILLs it a random 0-60 ms after its first mark appears in queue/hold/ (mid-delete); null when killed. */
function killedMidway(bin: string, args: string[], env: NodeJS.ProcessEnv, q: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: "ignore" });
    const marked = () => Array.from({ length: 23 }, (_, i) => join(q, "hold", String(i))).some((d) => existsSync(d) && readdirSync(d).some((n) => /^\d+$/.test(n)));
    const poll = setInterval(() => {
      if (!marked()) return;
      clearInterval(poll);
      setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 60));
    }, 2);
    child.on("close", (code) => (clearInterval(poll), resolve(code)));
  });
}

describe("qm qctl delete, SIGKILLed", { timeout: 300_000 }, () => {
  it(`leaves each of ${MESSAGES} messages whole or undeliverable, over ${ROUNDS} kills`, { timeout: 300_000 }, async () => {
    const home = await fakeHome({ concurrencyremote: "50" });
    const ids: number[] = [];
    for (let i = 0; i < MESSAGES; i++) ids.push(await put(home, "joe@example.test", [`tmp${i}@${i % 2 ? "far" : "near"}.test`]));
    const first = await sendOnce(home);
    assert.equal(first.code, 0, first.stderr.toString());
    const bin = await fastQm();
    const env = fakeEnv(home);
    const q = join(home, "queue");
    const whole = (id: number) => existsSync(join(q, "mess", String(id % 23), String(id))) && existsSync(join(q, "info", String(id % 23), String(id))) && existsSync(join(q, "remote", String(id % 23), String(id))) && /^Ttmp\d+@\w+\.test\0$/.test(readFileSync(join(q, "remote", String(id % 23), String(id)), "latin1"));
    const gone = (id: number) => !queueFiles(home).some((f) => f.split("/").at(-1) === String(id));
    // killed after the mark went (qm-qctl(8)): what is left (mess, intd, info) has nothing to deliver or bounce
    const inert = (id: number) => !queueFiles(home).some((f) => /^(todo|local|remote|bounce|hold)\//.test(f) && f.split("/").at(-1) === String(id));
    let kills = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const code = await killedMidway(bin, ["qctl", "delete", "--domain", round % 2 ? "far.test" : "near.test"], env, q);
      if (code === null) kills++;
      const again = await runBin(["qctl", "flush", "--domain", "none.test"], env); // any change finishes interrupted deletes first
      assert.equal(again.code, 0, again.stderr.toString());
      for (const id of ids) assert.ok(whole(id) || inert(id), `round ${round}: message ${id} is neither whole nor undeliverable: ${queueFiles(home).filter((f) => f.endsWith(`/${id}`)).join(" ")}`);
    }
    assert.ok(kills > 0, "no qctl was killed while it ran: the test proved nothing");
    const left = ids.filter((id) => whole(id));
    assert.ok(left.length < MESSAGES, "some deletes got through before their kill");
    const log = join(tempDir(), "spawn.log");
    const run = await sendOnce(home, ["--force"], { FAKE_SPAWN_LOG: log });
    assert.equal(run.code, 0, run.stderr.toString());
    const started = existsSync(log) ? readFileSync(log, "latin1").split("\n").filter((l) => l.startsWith("start ")).length : 0;
    assert.equal(started, left.length, "a queue run tries exactly the messages that were not deleted");
    for (const id of ids) assert.ok(whole(id) || gone(id), `the queue run completed what a killed delete left of ${id}`);
  });
});
