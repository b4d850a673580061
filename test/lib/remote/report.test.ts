import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatRecord, parseRecords, remoteSaid, synthesizeReport, type Record } from "../../../core/lib/remote/report.ts";

const rec = (s: string): Record => ({ letter: s[0] as Record["letter"], text: s.slice(1) });

describe("synthesizeReport()", () => {
  // qmail-rspawn's rules: the first message record's class, overridden by a first s (Z) or h (D).
  const CASES = [
    [["r", "Kip accepted."], "K", "ip accepted."],
    [["hrefused.", "DGiving up."], "D", "refused.Giving up."],
    [["slater.", "DGiving up."], "Z", "later.Giving up."],
    [["hrefused.", "Kaccepted."], "D", "refused."],
    [["slater.", "Kaccepted."], "Z", "later."],
    [["r", "Zdata failed."], "Z", "data failed."],
    [["ZNo connection."], "Z", "No connection."],
    [["DNo host."], "D", "No host."],
    [["r"], "D", ""],
    [[], "Z", "qm remote produced no output.\n"],
  ] as const;
  for (const [records, letter, text] of CASES) {
    it(`${JSON.stringify(records)} → ${letter}`, () => assert.deepEqual(synthesizeReport(records.map(rec)), { letter, text }));
  }
});

describe("formatRecord() / parseRecords()", () => {
  it("round-trips and keeps NUL out of the text", () => {
    const out = [rec("r"), rec("hbad\0x"), rec("Kok")].map(formatRecord).join("");
    assert.equal(out, "r\0hbad?x\0Kok\0");
    assert.deepEqual(parseRecords(out), [rec("r"), rec("hbad?x"), rec("Kok")]);
  });
  it("drops an unterminated tail", () => assert.deepEqual(parseRecords("r\0Kpart"), [rec("r")]));
});

describe("remoteSaid()", () => {
  it("joins reply lines with LF and caps the length", () => {
    assert.equal(remoteSaid({ code: 250, lines: ["250-a", "250 b"] }), "Remote host said: 250-a\n250 b\n");
    assert.equal(remoteSaid({ code: 250, lines: [`250 ${"x".repeat(9000)}`] }).length, 5001);
    assert.equal(remoteSaid({ code: 550, lines: ["550 a\0b\rc"] }), "Remote host said: 550 a?bc\n");
    assert.equal(remoteSaid(null), "");
  });
});
