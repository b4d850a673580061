import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_LIMITS, feedData, startData, type DataLimits } from "../../../core/lib/smtpd/data.ts";

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const dec = (b: Uint8Array) => String.fromCharCode(...b);

/** Feeds `input` in pieces of `step` bytes; returns the decoded text, what followed the end, and the state. */
function decode(input: string, limits: Partial<DataLimits> = {}, step = input.length || 1) {
  const d = startData({ ...DEFAULT_LIMITS, ...limits });
  const bytes = enc(input);
  let out = "";
  let rest = "";
  for (let i = 0; i < bytes.length; i += step) {
    const chunk = bytes.subarray(i, i + step);
    if (d.done) {
      rest += dec(chunk);
      continue;
    }
    const fed = feedData(d, chunk);
    out += dec(fed.out);
    rest += dec(chunk.subarray(fed.used));
  }
  return { out, rest, d };
}

describe("feedData()", () => {
  it("turns CR LF into LF, removes a leading dot, and stops at CR LF . CR LF", () => {
    const r = decode("Subject: x\r\n\r\n..dot\r\n.x\r\nend\r\n.\r\nQUIT\r\n");
    assert.equal(r.out, "Subject: x\n\n.dot\nx\nend\n");
    assert.equal(r.rest, "QUIT\r\n");
    assert.equal(r.d.done && r.d.fatal, null);
  });
  it("gives the same result whatever the chunk boundaries", () => {
    const input = "A: b\r\n\r\n..x\r\n.\r\nNOOP\r\n";
    for (let step = 1; step <= input.length; step++) {
      const r = decode(input, {}, step);
      assert.equal(r.out, "A: b\n\n.x\n", `step ${step}`);
      assert.equal(r.rest, "NOOP\r\n", `step ${step}`);
    }
  });
  it("ends an empty message at once", () => {
    const r = decode(".\r\n");
    assert.equal(r.out, "");
    assert.equal(r.d.done, true);
  });
  // SMTP smuggling (2023): every end-of-data variant but CR LF . CR LF must not end the data; we refuse them outright.
  const SMUGGLING = [
    ["LF . LF", "a\r\n\n.\nMAIL FROM:<x@y>\r\n", "bare-lf"],
    ["CR LF . LF", "a\r\n.\nMAIL FROM:<x@y>\r\n", "bare-lf"],
    ["LF . CR LF", "a\n.\r\nMAIL FROM:<x@y>\r\n", "bare-lf"],
    ["CR . CR", "a\r.\rMAIL FROM:<x@y>\r\n", "bare-cr"],
    ["CR LF . CR", "a\r\n.\rMAIL FROM:<x@y>\r\n", "bare-cr"],
    ["CR . CR LF", "a\r.\r\nMAIL FROM:<x@y>\r\n", "bare-cr"],
    ["LF . CR", "a\n.\rMAIL\r\n", "bare-lf"],
    ["CR CR LF . CR LF", "a\r\r\n.\r\nMAIL\r\n", "bare-cr"],
    ["bare LF as the very first byte", "\n.\r\n", "bare-lf"],
    ["NUL after dot", "a\r\n.\0\r\n.\r\n", null],
  ] as const;
  for (const [name, input, fatal] of SMUGGLING) {
    it(`does not end the data at ${name}`, () => {
      for (const step of [1, 2, 3, input.length]) {
        const r = decode(input, {}, step);
        assert.equal(r.d.fatal, fatal, `${name} step ${step}`);
        if (fatal === null) assert.equal(r.out, "a\n\0\n");
        else assert.equal(r.out.includes("MAIL"), false);
      }
    });
  }
  it("counts Received and Delivered-To lines in the header only", () => {
    const hdr = "Received: x\r\n".repeat(99) + "DELIVERED-TO: y\r\n\r\n";
    assert.equal(decode(`${hdr}.\r\n`).d.problem, "hops");
    assert.equal(decode(`${"received: x\r\n".repeat(99)}\r\n${"Received: x\r\n".repeat(5)}.\r\n`).d.problem, null);
  });
  it("flags a message over databytes, emits nothing more, and still reads to the final dot", () => {
    const r = decode(`${"x".repeat(50)}\r\n${"y".repeat(50)}\r\n.\r\nQUIT\r\n`, { databytes: 60 }, 7);
    assert.equal(r.d.problem, "size");
    assert.equal(r.d.done, true);
    assert.equal(r.rest, "QUIT\r\n");
    assert.ok(r.out.length <= 60);
  });
  it("flags over-long lines and over-long headers", () => {
    assert.equal(decode(`A: ${"x".repeat(100)}\r\n\r\n.\r\n`, { maxLine: 50 }).d.problem, "line");
    assert.equal(decode(`${"A: b\r\n".repeat(40)}\r\n.\r\n`, { maxHeader: 100 }).d.problem, "header");
    assert.equal(decode(`A: b\r\n\r\n${"x".repeat(49)}\r\n.\r\n`, { maxLine: 50 }).d.problem, null);
  });
  it("decodes a large message in bounded pieces with a byte loop", () => {
    const line = `${"z".repeat(76)}\r\n`;
    const body = line.repeat(20000);
    const r = decode(`S: t\r\n\r\n${body}.\r\n`, {}, 65536);
    assert.equal(r.out.length, "S: t\n\n".length + 77 * 20000);
  });
});
