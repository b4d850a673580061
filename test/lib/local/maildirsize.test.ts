import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatQuotaSpec, overQuota, parseMaildirSize, parseQuotaSpec, sizeFromName, usageLine } from "../../../core/lib/local/maildirsize.ts";

describe("parseQuotaSpec()", () => {
  it("reads S and C in any order, skipping unknown parts", () => {
    assert.deepEqual(parseQuotaSpec("1000000S"), { bytes: 1000000, count: 0 });
    assert.deepEqual(parseQuotaSpec("1000C,2048S"), { bytes: 2048, count: 1000 });
    assert.deepEqual(parseQuotaSpec("2048S,5X"), { bytes: 2048, count: 0 });
    assert.deepEqual(parseQuotaSpec("0S"), { bytes: 0, count: 0 });
  });
  it("is null for hostile or empty lines", () => {
    for (const bad of ["", "S", "-5S", "12", "1e9S", "99999999999999999S", "x".repeat(10_000), "\0S", "constructor"]) assert.equal(parseQuotaSpec(bad), null, bad.slice(0, 20));
  });
  it("formats back", () => {
    assert.equal(formatQuotaSpec({ bytes: 5, count: 3 }), "5S,3C");
    assert.equal(formatQuotaSpec({ bytes: 0, count: 0 }), "0S");
  });
});

describe("parseMaildirSize()", () => {
  it("sums the usage lines, negative ones too", () => {
    assert.deepEqual(parseMaildirSize("10000S,10C\n3000 2\n-1000 -1\n500 1\n"), { quota: { bytes: 10000, count: 10 }, usedBytes: 2500, usedCount: 2, recalc: false });
  });
  it("asks for a recalculation of a long, broken or unterminated file", () => {
    assert.equal(parseMaildirSize(`100S\n${"1 1\n".repeat(1300)}`)!.recalc, true);
    assert.equal(parseMaildirSize("100S\n1 1\ngarbage\n")!.recalc, true);
    assert.equal(parseMaildirSize("100S\n1 1")!.recalc, true);
    assert.equal(parseMaildirSize("100S")!.recalc, true);
  });
  it("is null without a quota line (no quota)", () => {
    assert.equal(parseMaildirSize(""), null);
    assert.equal(parseMaildirSize("hello\n1 1\n"), null);
  });
});

describe("overQuota()", () => {
  const m = (bytes: number, count: number, usedBytes: number, usedCount: number) => ({ quota: { bytes, count }, usedBytes, usedCount, recalc: false });
  it("refuses a message that would go over either limit, and nothing when there is none", () => {
    assert.equal(overQuota(m(1000, 0, 900, 5), 100), false);
    assert.equal(overQuota(m(1000, 0, 900, 5), 101), true);
    assert.equal(overQuota(m(0, 5, 10 ** 9, 4), 10), false);
    assert.equal(overQuota(m(0, 5, 0, 5), 1), true);
    assert.equal(overQuota(m(0, 0, 10 ** 12, 10 ** 6), 10 ** 9), false);
  });
});

describe("sizeFromName() and usageLine()", () => {
  it("reads ,S= before the flags", () => {
    assert.equal(sizeFromName("1733.M1P2.host,S=1234,W=1260:2,S"), 1234);
    assert.equal(sizeFromName("1733.M1P2.host,S=77"), 77);
    assert.equal(sizeFromName("1733.M1P2.host:2,S=5"), null);
    assert.equal(sizeFromName("1733.M1P2.host"), null);
    assert.equal(usageLine(12, 1), "12 1\n");
  });
});
