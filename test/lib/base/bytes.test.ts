import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromBytes, isUtf8, toBytes, utf8ByteString } from "../../../core/lib/base/bytes.ts";

describe("byte strings", () => {
  it("every byte value survives bytes -> string -> bytes", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const s = fromBytes(all);
    assert.equal(s.length, 256);
    assert.deepEqual(toBytes(s), all);
  });
  it("long input crosses fromBytes' chunk size unchanged", () => {
    const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 131) & 255);
    assert.deepEqual(toBytes(fromBytes(big)), big);
  });
  it("ASCII and 8-bit strings give one byte per char", () => {
    assert.deepEqual(toBytes("Subject: hi\n"), Uint8Array.from(Buffer.from("Subject: hi\n", "latin1")));
    assert.deepEqual(toBytes("caf\xe9\x00\x7f\x80\xff"), Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0, 0x7f, 0x80, 0xff]));
    assert.deepEqual(toBytes(""), new Uint8Array(0));
  });
  it("a char above 0xff becomes its UTF-8 bytes, the rest of the string kept as bytes", () => {
    assert.deepEqual(toBytes("\u20ac"), Uint8Array.from([0xe2, 0x82, 0xac]));
    assert.deepEqual(toBytes("a\u20acb"), Uint8Array.from([0x61, 0xe2, 0x82, 0xac, 0x62]));
  });
  it("utf8ByteString gives the UTF-8 bytes of what the runtime decoded", () => {
    assert.equal(utf8ByteString("plain"), "plain");
    assert.equal(utf8ByteString("Jos\u00e9"), "Jos\xc3\xa9");
    assert.equal(utf8ByteString("\u{1f600}"), "\xf0\x9f\x98\x80");
    assert.ok(isUtf8(utf8ByteString("Jos\u00e9 \u{1f600}")));
  });
  it("isUtf8 refuses overlongs, surrogates and cut sequences", () => {
    assert.equal(isUtf8("\xc0\xaf"), false);
    assert.equal(isUtf8("\xed\xa0\x80"), false);
    assert.equal(isUtf8("\xe2\x82"), false);
    assert.equal(isUtf8("ok \xe2\x82\xac"), true);
  });
});
