import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { commandReader, encodeCommand, encodeReport, MAX_COMMAND_FIELD, MAX_REPORT, reportReader } from "../../../core/lib/send/spawn-wire.ts";

describe("encodeCommand()", () => {
  it("joins slot, path, sender, recipient with NULs", () => {
    assert.equal(encodeCommand(3, "/q/mess/1/24", "", "a@b"), "3\0/q/mess/1/24\0\0a@b\0");
  });
});

describe("reportReader()", () => {
  it("reads reports split across chunks at any byte", () => {
    const stream = "0\0Kdid 1+0+0\n\0" + "12\0Zlater\0" + "5\0Dno\0";
    for (let cut = 0; cut <= stream.length; cut++) {
      const read = reportReader();
      const got = [...read(stream.slice(0, cut)), ...read(stream.slice(cut))];
      assert.deepEqual(got, [
        { slot: 0, letter: "K", text: "did 1+0+0\n" },
        { slot: 12, letter: "Z", text: "later" },
        { slot: 5, letter: "D", text: "no" },
      ]);
    }
  });
  it("marks a bad slot and a missing letter instead of throwing", () => {
    const read = reportReader();
    assert.deepEqual(read("x\0Kok\0" + "1\0\0" + "2\0Qhuh\0"), [
      { slot: -1, letter: "K", text: "ok" },
      { slot: 1, letter: "?", text: "" },
      { slot: 2, letter: "?", text: "huh" },
    ]);
  });
  it("truncates a report's text and drops garbage without NULs", () => {
    const read = reportReader();
    const [r] = read(`1\0K${"x".repeat(MAX_REPORT * 2)}\0`);
    assert.equal(r?.text.length, MAX_REPORT);
    assert.deepEqual(read("y".repeat(2 << 20)), []);
    assert.deepEqual(read("3\0Kfine\0"), [{ slot: 3, letter: "K", text: "fine" }]);
  });
});

describe("commandReader()", () => {
  it("reads what encodeCommand() writes, split at any byte", () => {
    const bytes = Buffer.from(encodeCommand(3, "/q/mess/1/24", "", "a@b") + encodeCommand(4, "/q/mess/2/25", "s@x", "c@d"), "latin1");
    for (let cut = 0; cut <= bytes.length; cut++) {
      const read = commandReader();
      assert.deepEqual([...read(bytes.subarray(0, cut)), ...read(bytes.subarray(cut))], [
        { slot: "3", path: "/q/mess/1/24", sender: "", recipient: "a@b" },
        { slot: "4", path: "/q/mess/2/25", sender: "s@x", recipient: "c@d" },
      ]);
    }
  });
  it(`stops reading at a field longer than ${MAX_COMMAND_FIELD} bytes`, () => {
    const read = commandReader();
    assert.deepEqual(read(Buffer.from(`1\0${"p".repeat(MAX_COMMAND_FIELD + 1)}\0s\0r\0`)), []);
    assert.deepEqual(read(Buffer.from(encodeCommand(2, "/m", "s", "r@x"))), []);
  });
});

describe("encodeReport()", () => {
  it("is read back by reportReader(), a NUL in the text turned into ?", () => {
    const wire = Buffer.from(encodeReport("7", { letter: "D", text: "a\0b\n" })).toString("latin1");
    assert.equal(wire, "7\0Da?b\n\0");
    assert.deepEqual(reportReader()(wire), [{ slot: 7, letter: "D", text: "a?b\n" }]);
  });
});
