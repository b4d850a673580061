import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createDotStuffer, ehloKeywords, parseReply, parseReplyLine, quoteAddress, replyClass, safeForCommand, takeLines,
} from "../../../core/lib/remote/smtp-wire.ts";

const enc = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
const dec = (b: Uint8Array) => String.fromCharCode(...b);

function stuff(chunks: readonly string[]): string | null {
  const d = createDotStuffer();
  let out = "";
  for (const c of chunks) out += dec(d.push(enc(c)));
  const tail = d.end();
  return tail === null ? null : out + dec(tail);
}

describe("createDotStuffer()", () => {
  // notqmail's unittest_qmail-remote vectors, plus chunk-boundary cases.
  const CASES = [
    [[""], ".\r\n"],
    [[".\n"], "..\r\n.\r\n"],
    [["cr\rlf\n"], "cr\r\nlf\r\n.\r\n"],
    [[".\r\n"], "..\r\n.\r\n"],
    [["a\r", "\nb\n"], "a\r\nb\r\n.\r\n"],
    [["a\n", ".b\n"], "a\r\n..b\r\n.\r\n"],
    [["a\r", ".\n"], "a\r\n..\r\n.\r\n"],
    [["a\n.\n.\n"], "a\r\n..\r\n..\r\n.\r\n"],
    [["x.y\n"], "x.y\r\n.\r\n"],
    [["end\r"], "end\r\n.\r\n"],
  ] as const;
  for (const [input, want] of CASES) {
    it(`encodes ${JSON.stringify(input)}`, () => assert.equal(stuff(input), want));
  }
  it("refuses a partial final line", () => {
    assert.equal(stuff(["no newline"]), null);
    assert.equal(stuff(["a\nb"]), null);
  });
  it("never emits a bare LF or CR (SMTP smuggling)", () => {
    const out = stuff(["a\n.\r\n\r.\n\n.\r\r\n"]) ?? "";
    assert.equal(/\r(?!\n)|(?<!\r)\n/.test(out), false);
  });
});

describe("parseReplyLine()", () => {
  const CASES = [
    ["250 ok", { code: 250, last: true }],
    ["250-PIPELINING", { code: 250, last: false }],
    ["354", { code: 354, last: true }],
    ["25 ok", null],
    ["abc ok", null],
    ["2500 ok", null],
    ["650 ok", null],
    ["", null],
  ] as const;
  for (const [line, want] of CASES) it(`parses ${JSON.stringify(line)}`, () => assert.deepEqual(parseReplyLine(line), want));
});

describe("parseReply()", () => {
  it("takes the first line's code", () => assert.equal(parseReply(["250-a", "251 b"])?.code, 250));
  it("rejects a continuation as last line, a final line in the middle, garbage", () => {
    assert.equal(parseReply(["250-a"]), null);
    assert.equal(parseReply(["250 a", "250 b"]), null);
    assert.equal(parseReply(["250-a", "hello"]), null);
    assert.equal(parseReply([]), null);
  });
  it("rejects an endless reply", () => assert.equal(parseReply([...Array(500).fill("250-x"), "250 x"]), null));
});

describe("ehloKeywords()", () => {
  it("collects keywords and parameters, upper-cased", () => {
    const r = parseReply(["250-mx.example hi", "250-pipelining", "250-SIZE 1000", "250-8BITMIME", "250-constructor", "250 STARTTLS"]);
    assert.ok(r);
    const k = ehloKeywords(r);
    assert.equal(k.get("PIPELINING"), "");
    assert.equal(k.get("SIZE"), "1000");
    assert.equal(k.has("STARTTLS"), true);
    assert.equal(k.has("MX.EXAMPLE"), false);
    assert.equal(k.has("toString"), false);
  });
  it("gathers the mechanisms of every AUTH line, the old AUTH= form included", () => {
    const r = parseReply(["250-mx hi", "250-AUTH LOGIN", "250-AUTH=PLAIN CRAM-MD5", "250-auth\tXOAUTH2", "250-AUTHX PLAIN", "250-AUTH=", "250 SIZE\t99"]);
    assert.ok(r);
    const k = ehloKeywords(r);
    assert.equal(k.get("AUTH"), "LOGIN PLAIN CRAM-MD5 XOAUTH2");
    assert.equal(k.get("AUTHX"), "PLAIN");
    assert.equal(k.get("SIZE"), "99");
  });
});

describe("takeLines()", () => {
  it("splits at LF, drops CR before LF, keeps the rest", () => {
    assert.deepEqual(takeLines("a\r\nb\nc"), { lines: ["a", "b"], rest: "c", tooLong: false });
  });
  it("flags an over-long line", () => assert.equal(takeLines("x".repeat(5000)).tooLong, true));
});

describe("quoteAddress()", () => {
  const CASES = [
    ["", ""],
    ["a.b@x", "a.b@x"],
    ["a b@x", "\"a b\"@x"],
    [".a@x", "\".a\"@x"],
    ["a..b@x", "\"a..b\"@x"],
    ["q\"\\@x", "\"q\\\"\\\\\"@x"],
    ["evil\r\nRCPT TO:<x>@y", "\"evil\\\r\\\nRCPT TO:<x>\"@y"],
    ["a@b@c", "\"a@b\"@c"],
  ] as const;
  for (const [a, want] of CASES) it(`quotes ${JSON.stringify(a)}`, () => assert.equal(quoteAddress(a), want));
});

describe("misc", () => {
  it("replyClass() splits at 400 and 500", () => assert.deepEqual([250, 354, 421, 554].map(replyClass), ["ok", "ok", "temp", "perm"]));
  it("safeForCommand() refuses CR, LF, NUL", () => assert.deepEqual(["a", "a\rb", "a\nb", "a\0"].map(safeForCommand), [true, false, false, false]));
});
