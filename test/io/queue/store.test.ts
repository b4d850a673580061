import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SPLIT } from "../../../core/lib/queue/layout.ts";
import { rewrite, type RewriteRules } from "../../../core/lib/send/rewrite.ts";
import * as store from "../../../core/io/queue/store.ts";
import { fakeHome, put } from "../../support/send-env.ts";

const RULES: RewriteRules = { locals: new Set(["example.test"]), virtualdomains: new Map([["v.test", "vee"]]), percenthack: new Set(), envnoathost: "example.test" };
const route = (a: string) => rewrite(a, RULES);

describe("preprocess()", { timeout: 120_000 }, () => {
  it("writes info, local and remote with rewritten addresses; releaseTodo() removes todo and intd", async () => {
    const home = await fakeHome();
    const q = join(home, "queue");
    const id = await put(home, "joe@x.test", ["a@example.test", "b", "c@v.test", "d@far.test"]);
    const batch = store.newBatch();
    const r = store.preprocess(q, id, route, batch);
    assert.equal(r.kind, "ok");
    assert.ok(r.kind === "ok" && r.value.sender === "joe@x.test" && r.value.uid === "0");
    assert.deepEqual(r.kind === "ok" && r.value.channels, ["local", "remote"]);
    const s = String(id % SPLIT);
    assert.equal(readFileSync(join(q, "info", s, String(id)), "latin1"), "Fjoe@x.test\0");
    assert.equal(readFileSync(join(q, "local", s, String(id)), "latin1"), "Ta@example.test\0Tb@example.test\0Tvee-c@v.test\0");
    assert.equal(readFileSync(join(q, "remote", s, String(id)), "latin1"), "Td@far.test\0");
    assert.ok(existsSync(join(q, "todo", String(id))), "todo stays until the batch is durable");
    assert.equal(batch.fds.length, 3, "info, local and remote stay open until the batch is made durable");
    assert.equal((await store.releaseTodo(q, [id], batch)).kind, "ok");
    assert.equal(batch.fds.length + batch.files.length, 0);
    assert.ok(!existsSync(join(q, "todo", String(id))));
    assert.ok(!existsSync(join(q, "intd", String(id))));
  });

  it("refuses a todo file with an unknown record or no sender and writes nothing", async () => {
    const home = await fakeHome();
    const q = join(home, "queue");
    const id = await put(home, "joe@x.test", ["a@example.test"]);
    for (const bad of ["u0\0p1\0Fj\0Zx\0", "u0\0p1\0Ta@example.test\0", "\0\0\0", ""]) {
      writeFileSync(join(q, "todo", String(id)), bad);
      const r = store.preprocess(q, id, route, store.newBatch());
      assert.equal(r.kind, "temp", JSON.stringify(bad));
      assert.ok(!existsSync(join(q, "info", String(id % SPLIT), String(id))));
    }
  });
});

describe("readChannel() and markDone()", { timeout: 120_000 }, () => {
  it("turns exactly the record's T into D at its offset", async () => {
    const home = await fakeHome();
    const q = join(home, "queue");
    const id = await put(home, "j@x.test", ["one@example.test", "two@example.test", "three@example.test"]);
    store.preprocess(q, id, route, store.newBatch());
    const recs = store.readChannel(q, "local", id);
    assert.ok(recs.kind === "ok");
    assert.deepEqual(recs.value.map((r) => [r.offset, r.addr, r.done]), [[0, "one@example.test", false], [18, "two@example.test", false], [36, "three@example.test", false]]);
    assert.equal(store.markDone(q, "local", id, 18).kind, "ok");
    const again = store.readChannel(q, "local", id);
    assert.deepEqual(again.kind === "ok" && again.value.map((r) => r.done), [false, true, false]);
    assert.equal(readFileSync(join(q, "local", String(id % SPLIT), String(id)), "latin1"), "Tone@example.test\0Dtwo@example.test\0Tthree@example.test\0");
  });
  it("ignores a cut last record and unknown record letters", async () => {
    const home = await fakeHome();
    const q = join(home, "queue");
    writeFileSync(join(q, "local", "1", "24"), "Ta@b\0Xjunk\0Dc@d\0Tcut");
    const r = store.readChannel(q, "local", 24);
    assert.deepEqual(r.kind === "ok" && r.value.map((x) => x.addr), ["a@b", "c@d"]);
    assert.deepEqual(store.readChannel(q, "remote", 24), { kind: "ok", value: [] });
  });
});

describe("appendBounce() and finishMessage()", { timeout: 120_000 }, () => {
  it("accumulates paragraphs, then removes the message's files", async () => {
    const home = await fakeHome();
    const q = join(home, "queue");
    const id = await put(home, "j@x.test", ["a@example.test"]);
    store.preprocess(q, id, route, store.newBatch());
    await store.releaseTodo(q, [id], store.newBatch());
    store.appendBounce(q, id, "a:\nx\n\n");
    store.appendBounce(q, id, "b:\ny\n\n");
    assert.deepEqual(store.readBounce(q, id), { kind: "ok", value: "a:\nx\n\nb:\ny\n\n" });
    store.removeChannel(q, "local", id);
    assert.equal(store.finishMessage(q, id).kind, "ok");
    assert.ok(!existsSync(store.messPath(q, id)));
    assert.ok(!existsSync(join(q, "info", String(id % SPLIT), String(id))));
    assert.deepEqual(store.readMessage(q, id), { kind: "ok", value: null });
  });
});
