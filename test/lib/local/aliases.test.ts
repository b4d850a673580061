import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileAliases, completeAddress, logicalLines, lookupKeys, parseIncludeList, splitTop } from "../../../core/lib/local/aliases.ts";
import { fromBytes } from "../../../core/lib/base/bytes.ts";

const D = { defaultHost: "mx.example", defaultDomain: "example", plusDomain: "plus.example" };
function table(text: string): [string, string][] {
  const r = compileAliases(text, D);
  assert.equal(r.kind, "ok", JSON.stringify(r));
  return r.kind === "ok" ? r.value.map((x) => [fromBytes(x.key), fromBytes(x.data)]) : [];
}

describe("logicalLines()", () => {
  it("joins continuations, skips empty lines and comments with their continuations", () => {
    assert.deepEqual(logicalLines("a: b\n  c\n\n# x\n  y\nd: e\n").map((l) => l.line), ["a: b\n  c", "d: e"]);
  });
});

describe("splitTop()", () => {
  it("ignores separators inside quotes, angle brackets and comments", () => {
    assert.deepEqual(splitTop('"a,b" <c,d>, e (x, y), f', ","), ['"a,b" <c,d>', "e", "f"]);
  });
});

describe("compileAliases()", () => {
  it("writes :name and ?list records", () => {
    assert.deepEqual(table('Root: a, "B C" <b@x.org>\nowner-list: boss\nlist: :include:l.txt, |prog x, /var/f\n"x y"@d.org: q@r.s\n'), [
      [":root@", "&a@mx.example\0&b@x.org\0"],
      [":owner-list@", "&boss@mx.example\0"],
      ["?list@", "owner-list@mx.example"],
      [":list@", "./l.txt\0|prog x\0>/var/f\0"],
      [":x y@d.org", "&q@r.s\0"],
    ]);
  });
  it("rejects lines without a colon or without items, and NUL", () => {
    for (const bad of ["nocolon\n", "a:\n", "a: ,\n", ": b\n", "a: b\0\n", "a: :include:\n"]) assert.equal(compileAliases(bad, D).kind, "perm", JSON.stringify(bad));
  });
  it("rejects an address over 800 bytes", () => {
    assert.equal(compileAliases(`a: ${"x".repeat(900)}@y.org\n`, D).kind, "perm");
  });
  it("survives hostile text without throwing", () => {
    for (const t of ['a: "unterminated', "a: (((", "a: <<<>>>", "a: \\", "__proto__: constructor", "a: b\r\n", "\t\t\n", ":::"]) {
      assert.ok(["ok", "perm"].includes(compileAliases(t, D).kind), JSON.stringify(t));
    }
  });
});

describe("completeAddress() and lookupKeys()", () => {
  it("completes like newaliases", () => {
    assert.equal(completeAddress("a", D), "a@mx.example");
    assert.equal(completeAddress("a@b", D), "a@b.example");
    assert.equal(completeAddress("a@b+", D), "a@b.plus.example");
    assert.equal(completeAddress("a@[1.2.3.4]", D), "a@[1.2.3.4]");
  });
  it("tries exact, @domain, local@", () => {
    assert.deepEqual(lookupKeys(":", "A@B.org"), [":a@b.org", ":@b.org", ":a@"]);
  });
  it("reads include lists", () => {
    assert.deepEqual(parseIncludeList("# c\n\na\n&b@c.org\n./more\n:include:/abs\n", D), ["&a@mx.example", "&b@c.org", "./more", "/abs"]);
  });
});
