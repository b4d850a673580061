import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatTokens, quoteString, tokenize } from "../../../core/lib/inject/token822.ts";

function kinds(s: string): string[] {
  const r = tokenize(s);
  assert.equal(r.kind, "ok");
  return r.kind === "ok" ? r.value.map((t) => `${t.kind}:${t.text}`) : [];
}

describe("tokenize()", () => {
  it("splits atoms, specials, quoted strings, literals and comments", () => {
    assert.deepEqual(kinds('Joe "Q. P" <j.q@[1.2.3.4]> (c (nested))'), [
      "atom:Joe", "quoted:Q. P", "special:<", "atom:j", "special:.", "atom:q", "special:@", "literal:[1.2.3.4]", "special:>", "comment:(c (nested))",
    ]);
  });
  it("unescapes quoted pairs and removes folding inside quoted strings", () => {
    assert.deepEqual(kinds('"a\\"b\\\\c"'), ['quoted:a"b\\c']);
    assert.deepEqual(kinds('"a\r\n b"'), ["quoted:a b"]);
  });
  it("refuses unterminated quotes, comments and literals", () => {
    for (const s of ['"abc', "(abc", "((a)", "[1.2", "a)", "a]", "[a[b]", '"abc\\"']) assert.equal(tokenize(s).kind, "perm", s);
  });
  it("stays linear on deep comment nesting", () => {
    const deep = `${"(".repeat(200_000)}${")".repeat(200_000)}`;
    assert.deepEqual(kinds(deep), [`comment:${deep}`]);
  });
});

describe("formatTokens()", () => {
  it("writes tokens back so that they tokenize the same", () => {
    for (const s of ['Joe "Q. P" <j@x>', '"a\\"b" (c)', "a . b", 'x\\ y']) {
      const t = tokenize(s);
      assert.equal(t.kind, "ok");
      if (t.kind !== "ok") continue;
      const again = tokenize(formatTokens(t.value));
      assert.deepEqual(again.kind === "ok" ? again.value.map((x) => x.text) : null, t.value.map((x) => x.text));
    }
  });
  it("escapes CR and LF in quoted strings", () => assert.equal(quoteString("a\r\nb"), '"a\\\r\\\nb"'));
});
