import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pullTrigger } from "../../../core/io/queue/enqueue.ts";
import { openTrigger, takeSendMutex, takeSendMutexAfterQctl } from "../../../core/io/queue/trigger.ts";
import { fakeHome } from "../../support/send-env.ts";

describe("openTrigger()", { timeout: 120_000 }, () => {
  it("wakes once per burst of writers, without polling", async () => {
    const home = await fakeHome();
    let wakes = 0;
    const t = await openTrigger(join(home, "queue"), () => wakes++);
    assert.equal(t.kind, "ok");
    await pullTrigger(home);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(wakes, 1);
    await Promise.all([pullTrigger(home), pullTrigger(home), pullTrigger(home)]);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(wakes >= 2 && wakes <= 4, String(wakes));
    if (t.kind === "ok") t.value.close();
  });
  it("fails cleanly without the FIFO", async () => {
    const r = await openTrigger("/nonexistent/queue", () => {});
    assert.equal(r.kind, "temp");
  });
});

describe("takeSendMutex()", { timeout: 120_000 }, () => {
  it("lets one holder in, keeps a second out, and frees on release", async () => {
    const q = join(await fakeHome(), "queue");
    const a = takeSendMutex(q);
    assert.equal(a.kind, "ok");
    assert.equal(readFileSync(join(q, "lock/sendmutex"), "latin1"), `${process.pid}\n`);
    // a pid that is alive and not ours: pid 1
    writeFileSync(join(q, "lock/sendmutex"), "1\n");
    const b = takeSendMutex(q);
    assert.equal(b.kind, "temp");
    assert.match(b.kind === "temp" ? b.reason : "", /already running \(pid 1\)/);
    writeFileSync(join(q, "lock/sendmutex"), `${process.pid}\n`);
    if (a.kind === "ok") a.value.release();
    assert.equal(takeSendMutex(q).kind, "ok");
  });
  it("takes over the pid file of a process that is gone", async () => {
    const q = join(await fakeHome(), "queue");
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { timeout: 60_000 }).stdout.toString();
    writeFileSync(join(q, "lock/sendmutex"), `${dead}\n`);
    const r = takeSendMutex(q);
    assert.equal(r.kind, "ok");
    assert.equal(readFileSync(join(q, "lock/sendmutex"), "latin1"), `${process.pid}\n`);
    writeFileSync(join(q, "lock/sendmutex"), "garbage");
    assert.equal(takeSendMutex(q).kind, "ok", "unparsable content counts as stale");
  });
  it("a starting queue manager waits for a qm qctl holding it, never for another queue manager", async () => {
    const q = join(await fakeHome(), "queue");
    const lock = join(q, "lock/sendmutex");
    const held = takeSendMutex(q, "qctl");
    assert.equal(held.kind, "ok");
    assert.equal(readFileSync(lock, "latin1"), `${process.pid} qctl\n`);
    if (held.kind === "ok") held.value.release();
    writeFileSync(lock, "1 qctl\n"); // a live qctl (pid 1 stands for it)
    const waiting = takeSendMutexAfterQctl(q, 60_000);
    await new Promise((r) => setTimeout(r, 300));
    unlinkSync(lock); // qctl is done
    const r = await waiting;
    assert.equal(r.kind, "ok");
    assert.equal(readFileSync(lock, "latin1"), `${process.pid}\n`);
    writeFileSync(lock, "1\n"); // a live queue manager
    const other = await takeSendMutexAfterQctl(q, 60_000);
    assert.match(other.kind === "temp" ? other.reason : "", /already running \(pid 1\)/);
    writeFileSync(lock, "1 qctl\n");
    const late = await takeSendMutexAfterQctl(q, 200);
    assert.match(late.kind === "temp" ? late.reason : "", /already running \(pid 1\)/, "a qctl that does not finish in time: refused as before");
  });
});
