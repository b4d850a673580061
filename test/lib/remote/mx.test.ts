import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cutAtSelf, domainListed, findRoute, ipLiteral, orderMx, parseRouteValue, type Target } from "../../../core/lib/remote/mx.ts";

describe("parseRouteValue()", () => {
  const CASES = [
    ["relay.test", { relay: "relay.test", port: 25 }],
    ["relay.test:2525", { relay: "relay.test", port: 2525 }],
    ["[10.0.0.1]:26", { relay: "[10.0.0.1]", port: 26 }],
    [":2525", { relay: "", port: 2525 }],
    ["", { relay: "", port: 25 }],
    ["relay:0", null],
    ["relay:99999", null],
    ["relay:25x", null],
    ["[10.0.0.1", null],
    ["[10.0.0.1]x", null],
  ] as const;
  for (const [v, want] of CASES) it(`parses ${JSON.stringify(v)}`, () => assert.deepEqual(parseRouteValue(v), want));
});

describe("findRoute()", () => {
  const routes = new Map([["a.b.c", "exact"], [".b.c", "suffix"], ["", "default:26"], ["bad.test", "x:port"]]);
  it("prefers the whole host, then suffixes, then the empty key", () => {
    assert.deepEqual(findRoute(routes, "A.B.C"), { relay: "exact", port: 25 });
    assert.deepEqual(findRoute(routes, "x.b.c"), { relay: "suffix", port: 25 });
    assert.deepEqual(findRoute(routes, "other.test"), { relay: "default", port: 26 });
  });
  it("is null without a matching line, invalid with a bad port", () => {
    assert.equal(findRoute(new Map(), "x"), null);
    assert.equal(findRoute(routes, "bad.test"), "invalid");
  });
  it("does not match a bare suffix without its dot", () => assert.deepEqual(findRoute(new Map([[".c", "r"]]), "abc"), null));
});

describe("ipLiteral()", () => {
  const CASES = [
    ["[1.2.3.4]", "1.2.3.4"], ["1.2.3.4", "1.2.3.4"], ["[IPv6:::1]", "::1"], ["[1.2.3.256]", null],
    ["example.test", null], ["[IPv6:zz]", null], ["IPv6:::1", null], ["[::1]", null],
  ] as const;
  for (const [h, want] of CASES) it(`reads ${h}`, () => assert.equal(ipLiteral(h), want));
});

describe("orderMx()", () => {
  it("sorts by preference and shuffles equal preferences with the injected random", () => {
    const mxs = [{ preference: 20, exchange: "c" }, { preference: 10, exchange: "a" }, { preference: 10, exchange: "b" }];
    const seq = (values: number[]) => () => values.shift() ?? 0;
    assert.deepEqual(orderMx(mxs, seq([0, 0.1, 0.9])).map((m) => m.exchange), ["a", "b", "c"]);
    assert.deepEqual(orderMx(mxs, seq([0, 0.9, 0.1])).map((m) => m.exchange), ["b", "a", "c"]);
  });
});

describe("cutAtSelf()", () => {
  const t = (ip: string, preference: number): Target => ({ ip, port: 25, preference, exchange: ip });
  const me = (x: Target) => x.ip === "me";
  it("keeps only the MXes better than this host", () => assert.deepEqual(cutAtSelf([t("a", 5), t("me", 10), t("b", 20)], me), [t("a", 5)]));
  it("is null when this host is a best MX", () => assert.equal(cutAtSelf([t("me", 5), t("a", 5), t("b", 9)], me), null));
  it("keeps everything when this host is not listed", () => assert.deepEqual(cutAtSelf([t("a", 5)], me), [t("a", 5)]));
});

describe("domainListed()", () => {
  it("matches exact names and .suffix entries, case-insensitively", () => {
    assert.deepEqual(["x.test", "A.X.TEST", "ax.test", "y.test."].map((d) => domainListed(["x.test", ".x.test", "Y.test"], d)), [true, true, false, true]);
  });
});
