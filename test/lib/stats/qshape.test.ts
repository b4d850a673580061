import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bucketBounds, formatShape, MAX_BUCKETS, MAX_MINUTES, parseShapeArgs, shapeDomain, SHAPE_DEFAULTS } from "../../../core/lib/stats/qshape.ts";

describe("bucketBounds()", () => {
  it("doubles from -t (Postfix's default: 5 10 ... 1280, then 1280+), or steps by it with -l", () => {
    assert.deepEqual(bucketBounds(SHAPE_DEFAULTS), [5, 10, 20, 40, 80, 160, 320, 640, 1280]);
    assert.deepEqual(bucketBounds({ minutes: 10, count: 4, linear: true }), [10, 20, 30]);
    assert.deepEqual(bucketBounds({ minutes: 10, count: 1, linear: false }), []);
  });
});

describe("formatShape()", () => {
  it("prints TOTAL, then domains by count, each age in its bucket, right-aligned", () => {
    const items = [{ age: 0, domain: "b.example" }, { age: 5, domain: "b.example" }, { age: 6, domain: "a.example" }, { age: 5000, domain: "b.example" }, { age: 100, domain: "a.example" }];
    assert.equal(formatShape(items, { minutes: 5, count: 4, linear: false }), [
      "          T 5 10 20 20+",
      "    TOTAL 5 2  1  0   2",
      "b.example 3 2  0  0   1",
      "a.example 2 0  1  0   1",
      "",
    ].join("\n"));
  });
  it("prints the header and a TOTAL of 0 for an empty queue", () => {
    assert.equal(formatShape([], { minutes: 5, count: 3, linear: false }), "      T 5 10 10+\nTOTAL 0 0  0   0\n");
  });
});

describe("shapeDomain()", () => {
  it("takes the domain in lower case; the null sender is MAILER-DAEMON with -s", () => {
    assert.deepEqual([shapeDomain("a@X.Example"), shapeDomain("", true), shapeDomain("#@[]", true), shapeDomain("user"), shapeDomain("")], ["x.example", "MAILER-DAEMON", "MAILER-DAEMON", "user", "(none)"]);
  });
});

describe("parseShapeArgs()", () => {
  it("reads -s -l -t -b and channels", () => {
    const o = parseShapeArgs(["-s", "-l", "-t", "10", "-b3", "remote", "todo"]);
    assert.ok(o.kind === "ok");
    assert.deepEqual({ ...o.value, channels: [...o.value.channels] }, { minutes: 10, count: 3, linear: true, senders: true, channels: ["remote", "todo"] });
    const d = parseShapeArgs([]);
    assert.ok(d.kind === "ok" && d.value.channels.size === 3 && d.value.count === 10 && d.value.minutes === 5);
  });
  it(`refuses unknown options and channels, and numbers outside 1..${MAX_MINUTES} (-t) and 1..${MAX_BUCKETS} (-b)`, () => {
    assert.equal(parseShapeArgs(["-t", String(MAX_MINUTES)]).kind, "ok");
    assert.equal(parseShapeArgs(["-b", String(MAX_BUCKETS)]).kind, "ok");
    for (const bad of [["-x"], ["-t", String(MAX_MINUTES + 1)], ["-b", String(MAX_BUCKETS + 1)], ["-b", "0"], ["-t"], ["-t", "1.5"], ["-b", "-1"], ["deferred"], ["constructor"]]) {
      const r = parseShapeArgs(bad);
      assert.equal(r.kind, "perm", bad.join(" "));
    }
  });
});
