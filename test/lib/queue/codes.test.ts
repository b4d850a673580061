import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { QQ, qqFail } from "../../../core/lib/queue/codes.ts";

// The table of man/qm-queue.8: 11–40 permanent, every other non-zero code temporary.
describe("qqFail()", () => {
  it("classifies every code of qmail-queue's table", () => {
    for (const code of Object.values(QQ)) {
      if (code === 0) continue;
      const want = (code >= 11 && code <= 40) || code === 115 ? "perm" : "temp";
      assert.equal(qqFail(code).kind, want, `code ${code}`);
    }
  });
  it("treats unknown codes by range: 35 permanent, 99 and 1 temporary", () => {
    assert.equal(qqFail(35).kind, "perm");
    assert.equal(qqFail(99).kind, "temp");
    assert.equal(qqFail(1).kind, "temp");
  });
  it("takes code 82's text from fd 6: D permanent, Z temporary, too short ignored", () => {
    assert.deepEqual(qqFail(82, "Dno such list."), { kind: "perm", reason: "no such list", status: "5.3.0" });
    assert.equal(qqFail(82, "Zbusy").kind, "temp");
    assert.equal(qqFail(82, "D").kind, "temp");
  });
});
