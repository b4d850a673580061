import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { quote, quote2 } from "../../../core/lib/base/quote.ts";

describe("quote()", () => {
  const CASES = [
    ["joe", "joe"],
    ["joe.smith", "joe.smith"],
    ["a+b=c", "a+b=c"],
    ["", '""'],
    [".a", '".a"'],
    ["a.", '"a."'],
    ["a..b", '"a..b"'],
    ["a b", '"a b"'],
    ['a"b', '"a\\"b"'],
    ["a\\b", '"a\\\\b"'],
    ["a\r\nb", '"a\\\r\\\nb"'],
    ["a@b", '"a@b"'],
    ["\xe9t\xe9", '"\xe9t\xe9"'],
  ] as const;
  for (const [input, want] of CASES) it(`quotes ${JSON.stringify(input)} as ${want}`, () => assert.equal(quote(input), want));
});

describe("quote2()", () => {
  it("quotes the part before the last @ and keeps the domain", () => {
    assert.equal(quote2("a@b"), "a@b");
    assert.equal(quote2(""), "");
    assert.equal(quote2("#@[]"), "#@[]");
    assert.equal(quote2("a b@c"), '"a b"@c');
    assert.equal(quote2('a"\\@c'), '"a\\"\\\\"@c');
    assert.equal(quote2(".a@c"), '".a"@c');
    assert.equal(quote2("x@y@z"), '"x@y"@z');
    assert.equal(quote2("nohost"), "nohost");
  });
});
