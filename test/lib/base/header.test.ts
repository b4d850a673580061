import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { foldList, isFieldLine, parseFields, scanHeader } from "../../../core/lib/base/header.ts";

function split(text: string): { head: string; body: string } {
  const s = scanHeader(text, 0, true);
  assert.ok(s.done);
  return s.done ? { head: text.slice(0, s.head), body: text.slice(s.body) } : { head: "", body: "" };
}

describe("scanHeader()", () => {
  const CASES = [
    ["an empty line", "A: 1\nB: 2\n\nbody\n", "A: 1\nB: 2\n", "body\n"],
    ["a CRLF empty line", "A: 1\r\n\r\nbody\r\n", "A: 1\r\n", "body\r\n"],
    ["a continuation line", "A: 1\n  more\n\nbody", "A: 1\n  more\n", "body"],
    ["a line that is not a field", "A: 1\nnot a field\nrest\n", "A: 1\n", "not a field\nrest\n"],
    ["a field name with a space", "A: 1\nBad Name: x\n", "A: 1\n", "Bad Name: x\n"],
    ["an 8-bit field name", "A: 1\nN\xe4me: x\n", "A: 1\n", "N\xe4me: x\n"],
    ["an empty field name", "A: 1\n: x\n", "A: 1\n", ": x\n"],
    ["a header-only message", "A: 1\nB: 2\n", "A: 1\nB: 2\n", ""],
    ["a header-only message without final LF", "A: 1\nB: 2", "A: 1\nB: 2", ""],
    ["a first line that is a continuation", " A: 1\n", "", " A: 1\n"],
    ["an empty message", "", "", ""],
    ["an mbox From_ line", "From joe Sat Jan  1 00:00:00 2000\nA: 1\n\nb", "From joe Sat Jan  1 00:00:00 2000\nA: 1\n", "b"],
    ["a From_ line not first", "A: 1\nFrom joe x\n", "A: 1\n", "From joe x\n"],
    ["blanks before the colon", "To : a\n\n", "To : a\n", ""],
  ] as const;
  for (const [what, input, head, body] of CASES) {
    it(`ends the header at ${what}`, () => assert.deepEqual(split(input), { head, body }));
  }
  it("asks for more text until it sees a whole line", () => {
    assert.deepEqual(scanHeader("A: 1\nB: par", 0, false), { done: false, next: 5 });
    assert.deepEqual(scanHeader("A: 1\nB: partial\n\n", 5, false), { done: true, head: 16, body: 17 });
  });
  it("scans a 1 MB header line", () => {
    const text = `Subject: ${"x".repeat(1 << 20)}\n\nbody`;
    assert.deepEqual(split(text), { head: text.slice(0, -5), body: "body" });
  });
});

describe("isFieldLine()", () => {
  it("rejects NUL, DEL and controls in the name", () => {
    for (const l of ["A\0B: x", "A\x7fB: x", "A\tB: x", "A\rB: x"]) assert.equal(isFieldLine(l), false, JSON.stringify(l));
    assert.equal(isFieldLine("X-Ok: \0\x7f\xff"), true);
  });
});

describe("parseFields()", () => {
  it("joins continuation lines, lowercases keys and strips CR", () => {
    assert.deepEqual(parseFields("Subject: a\r\n\tb\r\nTO : x\n"), [
      { key: "subject", value: " a\n\tb", raw: "Subject: a\n\tb\n" },
      { key: "to", value: " x", raw: "TO : x\n" },
    ]);
  });
  it("turns a first From_ line into MBOX-Line", () => {
    assert.deepEqual(parseFields("From joe Sat\nA: 1\n").map((f) => f.raw), ["MBOX-Line: From joe Sat\n", "A: 1\n"]);
  });
  it("keeps 8-bit and NUL bytes in values", () => {
    assert.equal(parseFields("Subject: \xff\0\xe9\n")[0]?.raw, "Subject: \xff\0\xe9\n");
  });
});

describe("foldList()", () => {
  it("folds after a comma before column 78", () => {
    const items = Array.from({ length: 8 }, (_, i) => `user${i}@example.test`);
    const out = foldList("To", items, "\n ");
    assert.ok(out.split("\n").every((l) => l.length <= 78));
    assert.equal(out.replace(/\n /g, " "), `To: ${items.join(", ")}\n`);
  });
  it("keeps one long item whole", () => {
    assert.equal(foldList("To", ["a".repeat(100)]), `To: ${"a".repeat(100)}\n`);
  });
});
