import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clearMark, readMark, scanMarks, setMark } from "../../../core/io/queue/hold.ts";
import { MAX_STATUS_BYTES, noteDeferrals, readStatus, removeStatus } from "../../../core/io/queue/status.ts";
import { tempDir } from "../../support/qm.ts";

/** A queue directory of the old layout: no defer/ or hold/. */
function oldQueue(): string {
  const q = join(tempDir(), "queue");
  mkdirSync(q);
  return q;
}

describe("status records on disk", () => {
  it("writes through a tmp file and reads back what was merged", () => {
    const q = oldQueue();
    assert.equal(noteDeferrals(q, 47, 100, [{ channel: "remote", addr: "b@x", at: 101, next: 200, error: "no" }]).kind, "ok");
    assert.equal(noteDeferrals(q, 47, 100, [{ channel: "remote", addr: "b@x", at: 201, next: 400, error: "still no" }]).kind, "ok");
    assert.deepEqual(readStatus(q, 47), { birth: 100, recipients: [{ channel: "remote", addr: "b@x", attempts: 2, lastTry: 201, nextTry: 400, error: "still no" }] });
    assert.deepEqual(readdirSync(join(q, "defer", "1")), ["47"]);
    removeStatus(q, 47);
    removeStatus(q, 47);
    assert.equal(readStatus(q, 47), null);
  });

  it("reads no record from garbage, a symlink, a directory or an oversized file", () => {
    const q = oldQueue();
    mkdirSync(join(q, "defer", "1"), { recursive: true });
    const path = join(q, "defer", "1", "47");
    writeFileSync(path, "\0\xff garbage\n");
    assert.equal(readStatus(q, 47), null);
    rmSync(path);
    writeFileSync(join(q, "elsewhere"), "qm-status 1 5\nremote 1 1 1 a@b x\n");
    symlinkSync(join(q, "elsewhere"), path);
    assert.equal(readStatus(q, 47), null);
    rmSync(path);
    mkdirSync(path);
    assert.equal(readStatus(q, 47), null);
    rmSync(path, { recursive: true });
    writeFileSync(path, "qm-status 1 5\n");
    truncateSync(path, MAX_STATUS_BYTES + 1);
    assert.equal(readStatus(q, 47), null);
  });
});

describe("hold marks on disk", () => {
  it("sets, reads, lists and clears a mark, making hold/ on first use", async () => {
    const q = oldQueue();
    assert.equal(readMark(q, 70), null);
    assert.deepEqual(scanMarks(q), { kind: "ok", value: [] });
    assert.equal((await setMark(q, 70, "hold")).kind, "ok");
    assert.equal((await setMark(q, 93, "delete")).kind, "ok");
    assert.equal(readMark(q, 70), "hold");
    assert.equal(readMark(q, 93), "delete");
    assert.deepEqual(scanMarks(q), { kind: "ok", value: [70, 93] });
    assert.equal((await clearMark(q, 70)).kind, "ok");
    assert.equal((await clearMark(q, 70)).kind, "ok");
    assert.equal(existsSync(join(q, "hold", "1", "70.tmp")), false);
    assert.equal(readMark(q, 70), null);
  });

  it("counts a mark it cannot make sense of as hold: when in doubt, do not deliver", () => {
    const q = oldQueue();
    mkdirSync(join(q, "hold", "1"), { recursive: true });
    for (const text of ["", "delete", "DELETE\n", "\0", "delete\ndelete\n"]) {
      writeFileSync(join(q, "hold", "1", "24"), text);
      assert.equal(readMark(q, 24), "hold", JSON.stringify(text));
    }
    rmSync(join(q, "hold", "1", "24"));
    mkdirSync(join(q, "hold", "1", "24"));
    assert.equal(readMark(q, 24), "hold", "a directory in its place (EISDIR)");
  });
});
