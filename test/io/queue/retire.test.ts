// qm send's removals in the thread pool (core/io/queue/retire.ts): one
// message's in order, its id busy until they end, a failure stopping the
// rest of that message's removals, on real files in a temporary queue.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clearMarkLater, finishMessageLater, Retirer } from "../../../core/io/queue/retire.ts";
import { flatPath, splitPath, SPLIT_DIRS, FLAT_DIRS } from "../../../core/lib/queue/layout.ts";
import { tempDir } from "../../support/qm.ts";

const T = { timeout: 30_000 };

async function queueWith(id: number, files: readonly string[]): Promise<string> {
  const q = join(await tempDir("qm-retire-"), "queue");
  for (const d of SPLIT_DIRS) mkdirSync(join(q, d, String(id % 23)), { recursive: true });
  for (const d of FLAT_DIRS) mkdirSync(join(q, d), { recursive: true });
  for (const f of files) writeFileSync(join(q, f), "x");
  return q;
}

describe("Retirer", { timeout: 60_000 }, () => {
  it("removes a finished message's files: status record, hold mark, dsn, intd, mess and info", T, async () => {
    const id = 4711;
    const all = [splitPath("defer", id), splitPath("hold", id), splitPath("dsn", id), flatPath("intd", id), splitPath("mess", id), splitPath("info", id)];
    const q = await queueWith(id, all);
    const warned: string[] = [];
    const r = new Retirer((t) => warned.push(t));
    r.add(id, "the hold mark", () => clearMarkLater(q, id));
    r.add(id, "the files", () => finishMessageLater(q, id));
    assert.equal(r.busy(id), true);
    assert.equal(r.busy(id + 1), false);
    await r.settled([id]);
    assert.equal(r.busy(id), false);
    assert.deepEqual(all.filter((f) => existsSync(join(q, f))), []);
    assert.deepEqual(warned, []);
  });

  it("runs one id's steps in the order given, and calls whenIdle once they are all done", T, async () => {
    const r = new Retirer(() => {});
    const seen: string[] = [];
    const step = (name: string, ms: number) => () => new Promise<void>((res) => setTimeout(() => (seen.push(name), res()), ms));
    r.add(1, "a", step("1a", 30));
    r.add(2, "a", step("2a", 1));
    r.add(1, "b", step("1b", 1));
    let idleSaw: string[] | null = null;
    r.whenIdle(1, () => (idleSaw = seen.filter((s) => s.startsWith("1"))));
    let now = false;
    r.whenIdle(3, () => (now = true));
    assert.equal(now, true, "an id with no chain is idle at once");
    await r.settled();
    assert.deepEqual(idleSaw, ["1a", "1b"], "whenIdle ran once both of id 1's steps were done");
    assert.deepEqual(seen, ["2a", "1a", "1b"], "another id does not wait for this one");
  });

  it("a removal that fails stops that message's later ones, with one warning; a missing file is no failure", T, async () => {
    const id = 99;
    const q = await queueWith(id, [splitPath("mess", id), splitPath("info", id)]);
    const warned: string[] = [];
    const r = new Retirer((t) => warned.push(t));
    r.add(id, "the hold mark", () => clearMarkLater(q, id)); // there is none: fine
    r.add(id, "the files", () => Promise.reject(Object.assign(new Error("EIO: i/o error"), { code: "EIO" })));
    r.add(id, "the files", () => finishMessageLater(q, id));
    await r.settled();
    assert.equal(warned.length, 1);
    assert.match(warned[0]!, /unable to remove the files of 99: .*i\/o error/);
    assert.equal(existsSync(join(q, splitPath("mess", id))), true, "nothing after the failure was removed");
    assert.equal(existsSync(join(q, splitPath("info", id))), true);
  });

  it("a hold mark that cannot be unlinked (a directory in its place) is a failure that keeps info/ and mess/", T, async () => {
    const id = 5;
    const q = await queueWith(id, [splitPath("mess", id), splitPath("info", id)]);
    mkdirSync(join(q, splitPath("hold", id)));
    const warned: string[] = [];
    const r = new Retirer((t) => warned.push(t));
    r.add(id, "the hold mark", () => clearMarkLater(q, id));
    r.add(id, "the files", () => finishMessageLater(q, id));
    await r.settled();
    assert.equal(warned.length, 1);
    assert.match(warned[0]!, /unable to remove the hold mark of 5/);
    assert.equal(existsSync(join(q, splitPath("mess", id))), true);
    assert.equal(existsSync(join(q, splitPath("info", id))), true);
  });
});
