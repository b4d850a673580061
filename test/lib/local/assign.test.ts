import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileAssign, getpwCandidates, lookupAssign, parseDelimiters } from "../../../core/lib/local/assign.ts";
import { buildCdb } from "../../../core/lib/base/cdb.ts";

function db(text: string): Uint8Array {
  const r = compileAssign(text);
  assert.equal(r.kind, "ok", JSON.stringify(r));
  return buildCdb(r.kind === "ok" ? r.value : []);
}

describe("compileAssign() and lookupAssign()", () => {
  const ASSIGN = [
    "=joe:joe:1001:100:/home/joe:::",
    "+joe-:joe:1001:100:/home/joe:-::",
    "+list-:lists:1002:100:/home/lists:-:l-:",
    "=Exact-Case:ec:1003:100:/h/ec:-:x:trailing junk",
    "+:alias:7790:2108:/var/qm/alias:-::",
    "=joe:second:9:9:/nope:::",
    ".",
    "",
  ].join("\n");
  const d = db(ASSIGN);
  it("prefers an exact = line, case-insensitively, first line winning", () => {
    assert.deepEqual(lookupAssign(d, "JOE"), { user: "joe", uid: 1001, gid: 100, home: "/home/joe", dash: "", ext: "" });
    assert.deepEqual(lookupAssign(d, "exact-case")?.ext, "x");
  });
  it("matches + prefixes ending in a wildcard char, longest first, ext in original case", () => {
    assert.deepEqual(lookupAssign(d, "joe-Foo"), { user: "joe", uid: 1001, gid: 100, home: "/home/joe", dash: "-", ext: "Foo" });
    assert.equal(lookupAssign(d, "list-A-b")?.ext, "l-A-b");
    assert.equal(lookupAssign(d, "list-A-b")?.user, "lists");
  });
  it("falls to the catch-all + line", () => {
    assert.deepEqual(lookupAssign(d, "Nobody-Here"), { user: "alias", uid: 7790, gid: 2108, home: "/var/qm/alias", dash: "-", ext: "Nobody-Here" });
  });
  it("misses without a catch-all", () => {
    assert.equal(lookupAssign(db("=a:a:1:1:/a:::\n.\n"), "b"), null);
  });
  it("rejects bad formats as temporary", () => {
    for (const bad of ["=a:a:1:1:/a::\n.\n", "=:a:1:1:/a:::\n.\n", "=a:a:1:1:/a:::\n", "=a:a:1:1:/a:::", "=a\0:a:1:1:/a:::\n.\n"]) {
      assert.equal(compileAssign(bad).kind, "temp", JSON.stringify(bad));
    }
  });
  it("survives hostile local parts", () => {
    for (const local of ["", "\0", "-".repeat(2000), "constructor", "__proto__", "a\n"]) assert.equal(lookupAssign(d, local)?.user, "alias");
  });
  it("ignores a damaged cdb", () => {
    assert.equal(lookupAssign(new Uint8Array(100), "joe"), null);
  });
});

describe("getpwCandidates()", () => {
  it("tries the whole local, then prefixes before each dash, lowercased, under 32 bytes", () => {
    assert.deepEqual(getpwCandidates("Joe-a-b"), [
      { name: "joe-a-b", dash: "", ext: "" },
      { name: "joe-a", dash: "-", ext: "b" },
      { name: "joe", dash: "-", ext: "a-b" },
    ]);
    assert.deepEqual(getpwCandidates(`${"x".repeat(40)}-y`), []);
    assert.deepEqual(getpwCandidates("-x"), [{ name: "-x", dash: "", ext: "" }]);
  });
  it("splits at every control/extdelimiters character; the dash stays -", () => {
    assert.deepEqual(getpwCandidates("Ann+tag", "-+"), [
      { name: "ann+tag", dash: "", ext: "" },
      { name: "ann", dash: "-", ext: "tag" },
    ]);
    assert.deepEqual(getpwCandidates("ann+a-b", "-+"), [
      { name: "ann+a-b", dash: "", ext: "" },
      { name: "ann+a", dash: "-", ext: "b" },
      { name: "ann", dash: "-", ext: "a-b" },
    ]);
    assert.deepEqual(getpwCandidates("ann+tag"), [{ name: "ann+tag", dash: "", ext: "" }]);
  });
});

describe("parseDelimiters()", () => {
  it("keeps the allowed punctuation once each, else -", () => {
    assert.equal(parseDelimiters("-+"), "-+");
    assert.equal(parseDelimiters("++-"), "+-");
    assert.equal(parseDelimiters("+"), "+");
    for (const bad of [null, "", "ab", "./", "@:", " \t", "\0\n", "\u00ff", "constructor"]) assert.equal(parseDelimiters(bad), "-", JSON.stringify(bad));
    assert.equal(parseDelimiters("a+.b"), "+");
  });
});
