import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeSync, lstatSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { FENCE_BUSY, openFence, waitFence } from "../../../core/io/queue/fence.ts";
import { fakeHome } from "../../support/send-env.ts";

describe("lock/fence", { timeout: 120_000 }, () => {
  it("is open (end of file) once no one holds it for writing, and busy while someone does", async () => {
    const q = join(await fakeHome(), "queue");
    assert.ok(lstatSync(join(q, "lock/fence")).isFIFO(), "qm init makes it");
    assert.equal((await waitFence(q, 1000)).kind, "ok");
    const a = openFence(q);
    const b = openFence(q);
    assert.ok(a.kind === "ok" && b.kind === "ok");
    const busy = await waitFence(q, 200);
    assert.deepEqual(busy.kind === "temp" ? busy.reason : busy.kind, FENCE_BUSY);
    closeSync(a.value);
    assert.equal((await waitFence(q, 200)).kind, "temp", "one holder left");
    const waiting = waitFence(q, 60_000);
    closeSync(b.value);
    assert.equal((await waiting).kind, "ok");
  });
  it("is made when missing (a queue made before it), and a queue without it has no holder to wait for", async () => {
    const q = join(await fakeHome(), "queue");
    unlinkSync(join(q, "lock/fence"));
    assert.equal((await waitFence(q, 200)).kind, "ok");
    const a = openFence(q);
    assert.equal(a.kind, "ok");
    assert.ok(lstatSync(join(q, "lock/fence")).isFIFO());
    assert.equal(lstatSync(join(q, "lock/fence")).mode & 0o777, 0o600);
    if (a.kind === "ok") closeSync(a.value);
  });
});
