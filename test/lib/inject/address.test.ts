import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { addrText, formatItem, listAddrs, mapAddrs, parseAddressList, quote, quote2, rewriteAddr, type Item } from "../../../core/lib/inject/address.ts";
import { fromBytes } from "../../../core/lib/base/bytes.ts";
import { cpuTimed } from "../../support/fuzz.ts";

const HOSTS = { defaulthost: "dhost", defaultdomain: "ddom.test", plusdomain: "pdom.test" };

function rewritten(body: string): string[] {
  const r = parseAddressList(body);
  assert.equal(r.kind, "ok", body);
  return listAddrs(r.kind === "ok" ? r.value : []).map((a) => addrText(rewriteAddr(a, HOSTS)));
}
function header(body: string): string {
  const r = parseAddressList(body);
  assert.equal(r.kind, "ok", body);
  return (mapAddrs(r.kind === "ok" ? r.value : [], (a) => rewriteAddr(a, HOSTS)) as Item[]).map(formatItem).join(", ");
}

describe("quote()", () => {
  const CASES = [
    ["joe", "joe"],
    ["joe.smith", "joe.smith"],
    ["", '""'],
    [".joe", '".joe"'],
    ["joe.", '"joe."'],
    ["a..b", '"a..b"'],
    ["joe smith", '"joe smith"'],
    ['a"b', '"a\\"b"'],
    ["a\\b", '"a\\\\b"'],
    ["a\nb", '"a\\\nb"'],
    ["j\xe9", '"j\xe9"'],
    ["a@b", '"a@b"'],
  ] as const;
  for (const [input, want] of CASES) it(`quotes ${JSON.stringify(input)} as ${JSON.stringify(want)}`, () => assert.equal(quote(input), want));
});

describe("quote2()", () => {
  it("quotes the local part before the last @ and keeps the domain", () => {
    assert.equal(quote2("joe smith@x.test"), '"joe smith"@x.test');
    assert.equal(quote2("a@b@c.test"), '"a@b"@c.test');
    assert.equal(quote2("joe@x.test"), "joe@x.test");
  });
  it("leaves the empty address empty", () => assert.equal(quote2(""), ""));
});

describe("rewriteAddr()", () => {
  const CASES = [
    ["joe", "joe@dhost.ddom.test"],
    ["joe@", "joe@dhost.ddom.test"],
    ["joe.", "joe@dhost.ddom.test"],
    ["joe@host.", "joe@host.ddom.test"],
    ["joe@host.test.", "joe@host.test"],
    ["djb@silverton", "djb@silverton.ddom.test"],
    ["eric@mammoth.cs+", "eric@mammoth.cs.pdom.test"],
    ["eric@mammoth+", "eric@mammoth.pdom.test"],
    ["foo@[]", "foo@[]"],
    ["joe@[1.2.3.4]", "joe@[1.2.3.4]"],
    ["<@a.test,@b.test:joe@c.test>", "joe@c.test"],
    ["<@a.test:>", ""],
    ["<>", ""],
    ['"joe smith"@x.test', "joe smith@x.test"],
    ["Joe Q. Public <joe@x.test>", "joe@x.test"],
  ] as const;
  for (const [input, want] of CASES) it(`rewrites ${input} to ${JSON.stringify(want)}`, () => assert.deepEqual(rewritten(input), [want]));
});

describe("parseAddressList()", () => {
  it("splits at commas and keeps groups, phrases and comments", () => {
    assert.deepEqual(rewritten("a@x.test, Bee <b@x.test>, list: c@x.test, d@x.test;, e@x.test (Eve)"), [
      "a@x.test", "b@x.test", "c@x.test", "d@x.test", "e@x.test",
    ]);
    assert.equal(header("list: c@x.test, d ;, e@x.test (Eve)"), "list: c@x.test, d@dhost.ddom.test;, e@x.test (Eve)");
    assert.equal(header("Joe Q. Public <joe@x.test>"), "Joe Q. Public <joe@x.test>");
    assert.equal(header('"Smith, Joe" <joe>'), '"Smith, Joe" <joe@dhost.ddom.test>');
  });
  it("turns spaces between addresses into commas", () => {
    assert.deepEqual(rewritten("a@x.test b@y.test c"), ["a@x.test", "b@y.test", "c@dhost.ddom.test"]);
  });
  it("keeps an empty group and a lone comment", () => {
    assert.equal(header("recipient list not shown: ;"), "recipient list not shown: ;");
    assert.equal(header("(nobody)"), "(nobody)");
    assert.deepEqual(rewritten("undisclosed-recipients:;"), []);
  });
  it("skips empty elements", () => assert.deepEqual(rewritten("a@x.test,,, b@x.test,"), ["a@x.test", "b@x.test"]));
  it("reads a quoted local part with escapes and writes it back quoted", () => {
    assert.deepEqual(rewritten('"a\\"b c"@x.test'), ['a"b c@x.test']);
    assert.equal(header('"a\\"b c"@x.test'), '"a\\"b c"@x.test');
  });
});

describe("parseAddressList() with hostile input", () => {
  const REFUSED = [
    ["a NUL in an atom", "jo\0e@x.test"],
    ["a NUL in a quoted local part", '"jo\0e"@x.test'],
    ["a CR in a quoted local part", '"jo\\\re"@x.test'],
    ["an escaped LF in a quoted local part", '"jo\\\ne"@x.test'],
    ["an unterminated quoted string", '"joe@x.test'],
    ["an unterminated comment", "joe@x.test (oops"],
    ["a nested unterminated comment", "joe@x.test ((a) b"],
    ["an unterminated <", "Joe <joe@x.test"],
    ["a stray >", "joe@x.test>"],
    ["nested <", "<<joe@x.test>>"],
    ["a stray )", "joe)@x.test"],
    ["an unterminated literal", "joe@[1.2.3.4"],
    ["text after >", "<a@x.test> b@x.test"],
    ["an escaped special in the domain", "a@b.c\\<"],
    ["an escaped space in the domain", "a@b\\ c.test"],
    ["a quoted string with a space in the domain", 'a@"b c".test'],
  ] as const;
  for (const [what, input] of REFUSED) {
    it(`refuses ${what} as permanent`, () => {
      const r = parseAddressList(input);
      assert.equal(r.kind, "perm");
    });
  }
  it("treats CR and LF between tokens as folding whitespace", () => {
    assert.deepEqual(rewritten("a@x.test,\r\n b@x.test"), ["a@x.test", "b@x.test"]);
    assert.deepEqual(rewritten("joe\n @x.test"), ["joe@x.test"]);
  });
  it("passes 8-bit and invalid UTF-8 bytes through unchanged and quotes them in the header", () => {
    const local = fromBytes(new Uint8Array([0x6a, 0xc3, 0x80, 0x80, 0xff, 0xe9]));
    assert.deepEqual(rewritten(`${local}@x.test`), [`${local}@x.test`]);
    assert.equal(header(`${local}@x.test`), `"${local}"@x.test`);
    assert.equal(header(`=?utf-8?q?J=C3=B6rg?= \xc3\xb6 <j@x.test>`), `=?utf-8?q?J=C3=B6rg?= \xc3\xb6 <j@x.test>`);
  });
  it("parses a 1 MB field in linear time", () => {
    const body = Array.from({ length: 70_000 }, (_, i) => `user${i}@host${i % 7}.test`).join(", ");
    assert.ok(body.length > 1_000_000);
    const { value, ms } = cpuTimed(() => rewritten(body));
    assert.equal(value.length, 70_000);
    assert.ok(ms < 5_000, `took ${ms.toFixed(0)} ms of CPU`);
  });
  it("parses a single 1 MB atom and a 1 MB comment", () => {
    assert.deepEqual(rewritten(`${"a".repeat(1 << 20)}@x.test`), [`${"a".repeat(1 << 20)}@x.test`]);
    assert.equal(parseAddressList(`a@x.test (${"(".repeat(1 << 19)}${")".repeat(1 << 19)})`).kind, "ok");
    assert.equal(parseAddressList(`a@x.test ${"(".repeat(1 << 20)}`).kind, "perm");
  });
  it("gives 10 000 recipients in order", () => {
    const list = Array.from({ length: 10_000 }, (_, i) => `r${i}`);
    const got = rewritten(list.join(","));
    assert.equal(got.length, 10_000);
    assert.equal(got[9_999], "r9999@dhost.ddom.test");
  });
  it("does not treat constructor or __proto__ as anything special", () => {
    assert.deepEqual(rewritten("constructor, __proto__@x.test"), ["constructor@dhost.ddom.test", "__proto__@x.test"]);
  });
});
