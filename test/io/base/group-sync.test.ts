import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { GroupSync, groupSync } from "../../../core/io/base/group-sync.ts";
import { tempDir } from "../../support/qm.ts";

/** A fake fsync that records each start and is finished by hand. */
function manual(): { sync: (dir: string) => Promise<void>; started: string[]; finish: (err?: Error) => void } {
  const started: string[] = [];
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  return {
    started,
    sync: (dir) =>
      new Promise<void>((resolve, reject) => {
        started.push(dir);
        pending.push({ resolve, reject });
      }),
    finish: (err) => {
      const p = pending.shift();
      if (!p) throw new Error("no fsync under way");
      if (err) p.reject(err);
      else p.resolve();
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("GroupSync: directory fsyncs shared, each caller served by one that started after it asked", { timeout: 10_000 }, () => {
  it("a caller with nothing under way gets an fsync of its own at once", async () => {
    const m = manual();
    const g = new GroupSync(m.sync);
    const a = g.dir("/q/todo");
    assert.deepEqual(m.started, ["/q/todo"]);
    m.finish();
    await a;
    assert.equal(g.busy, 0, "nothing kept once idle");
  });

  it("callers that ask while one runs share the next one, which starts only when the first ends", async () => {
    const m = manual();
    const g = new GroupSync(m.sync);
    let firstDone = false;
    const first = g.dir("/q/todo").then(() => (firstDone = true));
    const later = [g.dir("/q/todo"), g.dir("/q/todo"), g.dir("/q/todo")];
    let laterDone = 0;
    for (const p of later) void p.then(() => laterDone++);
    await tick();
    assert.equal(m.started.length, 1, "the callers that came during the first fsync did not start their own");
    m.finish();
    await first;
    await tick();
    assert.ok(firstDone);
    assert.equal(laterDone, 0, "not served by the fsync that was under way when they asked");
    assert.equal(m.started.length, 2, "one more fsync, for all three");
    m.finish();
    await Promise.all(later);
    assert.equal(laterDone, 3);
    assert.equal(g.busy, 0);
  });

  it("keeps directories apart", async () => {
    const m = manual();
    const g = new GroupSync(m.sync);
    const a = g.dir("/q/todo");
    const b = g.dir("/q/intd");
    assert.deepEqual(m.started, ["/q/todo", "/q/intd"]);
    m.finish();
    m.finish();
    await Promise.all([a, b]);
  });

  it("passes a failed fsync to every caller it served, and the next caller gets a fresh try", async () => {
    const m = manual();
    const g = new GroupSync(m.sync);
    const first = g.dir("/q/todo");
    const waiting = [g.dir("/q/todo"), g.dir("/q/todo")];
    m.finish();
    await first;
    await tick();
    m.finish(new Error("EIO"));
    for (const w of waiting) await assert.rejects(w, /EIO/);
    const again = g.dir("/q/todo");
    assert.equal(m.started.length, 3);
    m.finish();
    await again;
  });

  it("a failure of the fsync before does not fail those waiting for the next", async () => {
    const m = manual();
    const g = new GroupSync(m.sync);
    const first = g.dir("/q/todo");
    const next = g.dir("/q/todo");
    m.finish(new Error("EIO"));
    await assert.rejects(first, /EIO/);
    await tick();
    m.finish();
    await next;
  });

  it("a synchronous throw (the directory cannot be opened) is a rejection", async () => {
    const g = new GroupSync(() => {
      throw Object.assign(new Error("ENOENT: no such directory"), { code: "ENOENT" });
    });
    await assert.rejects(g.dir("/nowhere"), /ENOENT/);
    assert.equal(g.busy, 0);
  });

  it("the real one fsyncs a real directory, and refuses a missing one", async () => {
    const d = join(tempDir("qm-gsync-"), "new");
    mkdirSync(d);
    await Promise.all(Array.from({ length: 20 }, () => groupSync.dir(d)));
    await assert.rejects(groupSync.dir(join(d, "missing")), /ENOENT/);
  });
});
