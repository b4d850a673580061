// Crash safety of qm send: messages keep flowing while the queue manager is
// SIGKILLed at random moments; afterwards nothing is lost and nothing is left.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { localHome, newMail, put, queueFiles, startDaemon } from "../support/send-env.ts";

const root = (process.getuid?.() ?? -1) === 0;
const MESSAGES = 500;
const KILLS = 32;
const USERS = ["alice", "bob", "carol"];

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("qm send under SIGKILL", { skip: root ? false : "needs root: deliveries switch to uid 65534", timeout: 170_000 }, () => {
  it(`delivers ${MESSAGES} messages to ${USERS.length} users at least once across ${KILLS} kills`, async () => {
    const { home, env, maildir } = await localHome();
    const rand = prng(Number(process.env.QM_CRASH_SEED ?? 20261129));
    let injected = 0;
    const injectSome = async (n: number) => {
      for (let i = 0; i < n && injected < MESSAGES; i++, injected++) {
        await put(home, "alice@example.test", USERS.map((u) => `${u}@example.test`), `Subject: crash ${injected}\n\nmessage ${injected}\n`);
      }
    };
    let kills = 0;
    let killedInFlight = 0; // kills that hit a queue manager with deliveries started and not all reported
    let startedBeforeKill = 0;
    while (kills < KILLS) {
      const d = await startDaemon(env);
      const feeding = injectSome(Math.ceil(MESSAGES / KILLS));
      await d.waitFor(/^status: /, 30_000).catch(() => "");
      await sleep(rand() * 300);
      d.child.kill("SIGKILL");
      await d.exited;
      const log = d.lines();
      const started = log.filter((l) => l.startsWith("starting delivery")).length;
      const reported = log.filter((l) => /^delivery \d+: /.test(l)).length;
      startedBeforeKill += started;
      if (started > reported) killedInFlight++;
      await feeding;
      kills++;
    }
    await injectSome(MESSAGES);
    const d = await startDaemon(env);
    const deadline = Date.now() + 90_000;
    // a delivery deferred by the kills' aftermath would wait 100 s for its retry: SIGALRM retries now
    for (let n = 1; queueFiles(home).length > 0 && Date.now() < deadline; n++) {
      await sleep(200);
      if (n % 25 === 0) d.child.kill("SIGALRM");
    }
    d.child.kill("SIGTERM");
    assert.equal(await d.exited, 0);
    const left = queueFiles(home);
    assert.deepEqual(left, [], `nothing is left in the queue; log tail:\n${d.lines().slice(-30).join("\n")}`);

    let duplicates = 0;
    for (const user of USERS) {
      const seen = new Map<number, number>();
      for (const m of newMail(maildir(user))) {
        const n = Number(/\nSubject: crash (\d+)\n/.exec(m)?.[1] ?? -1);
        seen.set(n, (seen.get(n) ?? 0) + 1);
      }
      const missing = Array.from({ length: MESSAGES }, (_, i) => i).filter((i) => !seen.has(i));
      assert.deepEqual(missing, [], `${user} got every message`);
      assert.equal(seen.has(-1), false, `${user} got only test messages (no bounces)`);
      for (const c of seen.values()) duplicates += c - 1;
    }
    assert.equal(newMail(maildir("alias")).length, 0, "no bounce reached postmaster");
    assert.ok(startedBeforeKill > 0 && killedInFlight > 0, "the kills hit queue managers at work");
    console.log(`# send crash test: ${kills} SIGKILLs (${killedInFlight} with deliveries in flight, ${startedBeforeKill} deliveries started by killed managers), ${MESSAGES * USERS.length} deliveries due, ${duplicates} duplicates`);
  });
});
