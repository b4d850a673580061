import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { toBytes } from "../../../core/lib/base/bytes.ts";
import { crc32c } from "../../../core/lib/queue/crc32c.ts";
import { formatName, formatTrailer, hasHeader, HEADER, parseName, parseTrailer, QUIET_SEC, TRAILER_LENGTH, wholeSize, writerGone, type WriterFacts } from "../../../core/lib/queue/maildrop.ts";

describe("crc32c()", () => {
  it("gives the check value of CRC-32C for 123456789 and of nothing", () => {
    assert.equal(crc32c(0, toBytes("123456789")), 0xe3069283);
    assert.equal(crc32c(0, new Uint8Array(0)), 0);
  });
  it("continues across any split of the input", () => {
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 0xff);
    const whole = crc32c(0, bytes);
    for (let cut = 0; cut <= bytes.length; cut++) assert.equal(crc32c(crc32c(0, bytes.subarray(0, cut)), bytes.subarray(cut)), whole, `cut at ${cut}`);
  });
  it("changes when a block in the middle is zeroed", () => {
    const bytes = Uint8Array.from({ length: 16384 }, (_, i) => (i * 7919) & 0xff);
    const zeroed = bytes.slice();
    zeroed.fill(0, 4096, 8192);
    assert.notEqual(crc32c(0, zeroed), crc32c(0, bytes));
  });
});

describe("parseName()", () => {
  it("reads back what formatName() writes", () => {
    const n = { ms: 1765000000123, pid: 4242, token: "0123456789abcdef" };
    assert.deepEqual(parseName(formatName(n)), n);
  });
  const BAD = ["", ".1.2.0123456789abcdef", "1.2.0123456789ABCDEF", "1.2.0123456789abcde", "1.2.0123456789abcdef0", "a.2.0123456789abcdef", "1.2.3", "../1.2.0123456789abcdef", "1.2.0123456789abcdef/x", "1234567890123456.2.0123456789abcdef"];
  for (const name of BAD) it(`refuses ${JSON.stringify(name)}`, () => assert.equal(parseName(name), null));
});

describe("parseTrailer()", () => {
  const t = { messageLength: 123456789, envelopeLength: 42, crc: 0xdeadbeef, token: "0123456789abcdef" };
  it("is TRAILER_LENGTH bytes and reads back", () => {
    const b = formatTrailer(t);
    assert.equal(b.length, TRAILER_LENGTH);
    assert.deepEqual(parseTrailer(b), t);
    assert.equal(wholeSize(t), HEADER.length + 123456789 + 42 + TRAILER_LENGTH);
  });
  it("refuses every damaged form: cut, zeroed, a byte changed, upper-case hex, a length beyond 2^53", () => {
    const good = formatTrailer(t);
    assert.equal(parseTrailer(good.subarray(1)), null);
    assert.equal(parseTrailer(new Uint8Array(TRAILER_LENGTH)), null);
    for (let i = 0; i < good.length; i++) {
      const b = good.slice();
      b[i] = b[i] === 0x20 ? 0x30 : 0x20;
      assert.equal(parseTrailer(b), null, `byte ${i}`);
    }
    assert.equal(parseTrailer(toBytes(String.fromCharCode(...good).replace("deadbeef", "DEADBEEF"))), null);
    assert.equal(parseTrailer(toBytes(String.fromCharCode(...good).replace("00000000075bcd15", "ffffffffffffffff"))), null);
  });
});

describe("hasHeader()", () => {
  it("knows the header and nothing shorter or different", () => {
    assert.ok(hasHeader(toBytes("qm maildrop 1\nrest")));
    assert.ok(!hasHeader(toBytes("qm maildrop 1")));
    assert.ok(!hasHeader(toBytes("Fa@b\0Tc@d\0\0")));
  });
});

describe("writerGone()", () => {
  const name = { ms: 1_000_000_000_000, pid: 4242, token: "0123456789abcdef" };
  const base: WriterFacts = { nowSec: 2_000_000, mtimeSec: 2_000_000 - QUIET_SEC, bootSec: 1_000_000, pid: "absent" };
  const CASES: [string, Partial<WriterFacts>, RegExp | null][] = [
    ["a quiet file whose pid is free", {}, /pid 4242, has exited$/],
    ["a quiet file whose pid names a newer process", { pid: "newer" }, /newer process/],
    ["a quiet file whose writer still runs", { pid: "running" }, null],
    ["a file written a moment ago, pid free (another pid namespace?)", { mtimeSec: 2_000_000 - 5 }, null],
    ["a file written before the system started, pid in use", { mtimeSec: 999_000, pid: "running" }, /before the system started/],
    ["a recent file, boot time unknown, writer running", { mtimeSec: 2_000_000, bootSec: null, pid: "running" }, null],
  ];
  for (const [what, facts, want] of CASES) {
    it(what, () => {
      const r = writerGone(name, { ...base, ...facts });
      if (want === null) assert.equal(r, null);
      else assert.match(r ?? "", want);
    });
  }
});
