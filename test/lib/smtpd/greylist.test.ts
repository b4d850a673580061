import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeGreyRecord, DEFAULT_GREYLIST, encodeGreyRecord, greyDecide, greyNet, parseGreylist, tripleKey } from "../../../core/lib/smtpd/greylist.ts";

describe("parseGreylist()", () => {
  it("reads delay and lifetime; an empty file is greylisting with postgrey's defaults", () => {
    assert.deepEqual(parseGreylist([]), { config: DEFAULT_GREYLIST, warnings: [] });
    assert.deepEqual(parseGreylist(["delay:2", "LIFETIME:3600"]).config, { delay: 2, lifetime: 3600 });
  });
  it("skips malformed lines with a warning, and keeps lifetime no shorter than delay", () => {
    const r = parseGreylist(["delay:soon", "wait:3", "delay:-5", "delay:60", "lifetime:10"]);
    assert.deepEqual(r.config, { delay: 60, lifetime: 60 });
    assert.equal(r.warnings.length, 4);
    assert.match(r.warnings[0]!, /^control\/greylist line 1: delay must be a number of seconds/);
    assert.match(r.warnings[3]!, /lifetime 10 is shorter than delay 60/);
  });
});

describe("greyNet() and tripleKey()", () => {
  it("counts the /24 or the /64, and addresses without case", () => {
    assert.equal(greyNet("192.0.2.77"), "192.0.2.0/24");
    assert.equal(greyNet("2001:db8:1:2:3::4"), "2001:db8:1:2::/64");
    assert.equal(tripleKey("192.0.2.1", "A@X.example", "B@Y.example"), tripleKey("192.0.2.200", "a@x.example", "b@y.example"));
    assert.notEqual(tripleKey("192.0.3.1", "a@x", "b@y"), tripleKey("192.0.2.1", "a@x", "b@y"));
  });
});

describe("greyDecide()", () => {
  const cfg = { delay: 60, lifetime: 3600 };
  it("defers a new triple, defers a retry too early, passes one after the delay, then passes at once", () => {
    const first = greyDecide(null, 1_000_000, cfg);
    assert.deepEqual(first, { pass: false, wait: 60, record: { first: 1_000_000, last: 1_000_000, passed: false } });
    const early = greyDecide(first.record, 1_030_000, cfg);
    assert.equal(early.pass, false);
    assert.equal(early.wait, 30);
    const retry = greyDecide(early.record, 1_060_000, cfg);
    assert.equal(retry.pass, true);
    assert.equal(greyDecide(retry.record, 1_060_001, cfg).pass, true);
  });
  it("forgets a triple not seen for the lifetime, and one from the future", () => {
    const rec = { first: 0, last: 1000, passed: true };
    assert.equal(greyDecide(rec, 1000 + 3_600_000, cfg).pass, true);
    assert.equal(greyDecide(rec, 1001 + 3_600_000, cfg).pass, false);
    assert.equal(greyDecide({ first: 5000, last: 5000, passed: false }, 4000, cfg).pass, false);
  });
  it("passes everything with delay 0", () => assert.equal(greyDecide(null, 5, { delay: 0, lifetime: 10 }).pass, true));
});

describe("encodeGreyRecord() and decodeGreyRecord()", () => {
  it("round-trip, and anything else is no record", () => {
    const r = { first: 12, last: 34, passed: true };
    assert.deepEqual(decodeGreyRecord(encodeGreyRecord(r)), r);
    for (const bad of ["", "12 34 1", "12 34 2\n", "34 12 0\n", "a b c\n", "1 2 1\n\n", `${"9".repeat(20)} 1 0\n`]) assert.equal(decodeGreyRecord(bad), null, JSON.stringify(bad));
  });
});
