import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bounceRecipient, lmtpRouteOf, rewrite, verpSender, type RewriteRules } from "../../../core/lib/send/rewrite.ts";

function rules(over: Partial<RewriteRules> = {}): RewriteRules {
  return {
    locals: new Set(["example.test", "localhost"]),
    virtualdomains: new Map(),
    percenthack: new Set(),
    envnoathost: "example.test",
    ...over,
  };
}

describe("rewrite()", () => {
  const CASES = [
    ["joe@example.test", "local", "joe@example.test"],
    ["Joe@EXAMPLE.Test", "local", "Joe@EXAMPLE.Test"],
    ["joe", "local", "joe@example.test"],
    ["joe@elsewhere.test", "remote", "joe@elsewhere.test"],
    ["a@b@localhost", "local", "a@b@localhost"],
  ] as const;
  for (const [addr, channel, out] of CASES) {
    it(`routes ${addr} to ${channel}`, () => assert.deepEqual(rewrite(addr, rules()), { channel, addr: out }));
  }
  it("adds envnoathost to an address without @", () => {
    assert.deepEqual(rewrite("joe", rules({ envnoathost: "other.test" })), { channel: "remote", addr: "joe@other.test" });
  });
  it("probes virtualdomains user@domain, domain, .suffix, then the catch-all", () => {
    const vd = new Map([
      ["info@v.test", "joe"],
      ["v.test", "vee"],
      [".w.test", "wild"],
      ["", "catch"],
    ]);
    const r = rules({ virtualdomains: vd });
    assert.deepEqual(rewrite("info@v.test", r), { channel: "local", addr: "joe-info@v.test" });
    assert.deepEqual(rewrite("bob@v.test", r), { channel: "local", addr: "vee-bob@v.test" });
    assert.deepEqual(rewrite("bob@a.b.w.test", r), { channel: "local", addr: "wild-bob@a.b.w.test" });
    assert.deepEqual(rewrite("bob@any.test", r), { channel: "local", addr: "catch-bob@any.test" });
  });
  it("treats an empty prepend as not virtual and stops probing", () => {
    const vd = new Map([
      ["x.v.test", ""],
      [".v.test", "vee"],
    ]);
    assert.deepEqual(rewrite("bob@x.v.test", rules({ virtualdomains: vd })), { channel: "remote", addr: "bob@x.v.test" });
    assert.deepEqual(rewrite("bob@y.v.test", rules({ virtualdomains: vd })), { channel: "local", addr: "vee-bob@y.v.test" });
  });
  it("makes an LMTP route remote with the address unchanged, and lmtpRouteOf() finds it", () => {
    const vd = new Map([["v.test", "lmtp:unix:/run/lmtp"], ["ann@w.test", "lmtp:127.0.0.1:24"], ["w.test", "wee"], ["x.test", ""]]);
    const r = rules({ virtualdomains: vd });
    assert.deepEqual(rewrite("Ann@V.test", r), { channel: "remote", addr: "Ann@V.test" });
    assert.deepEqual(rewrite("ann@w.test", r), { channel: "remote", addr: "ann@w.test" });
    assert.deepEqual(rewrite("bob@w.test", r), { channel: "local", addr: "wee-bob@w.test" });
    assert.equal(lmtpRouteOf("Ann@V.test", vd), "lmtp:unix:/run/lmtp");
    assert.equal(lmtpRouteOf("ANN@w.test", vd), "lmtp:127.0.0.1:24");
    for (const a of ["bob@w.test", "a@x.test", "a@nowhere.test", "no-at-sign"]) assert.equal(lmtpRouteOf(a, vd), null, a);
    assert.equal(bounceRecipient("ann@v.test", r), "ann@v.test");
  });
  it("prefers locals over virtualdomains", () => {
    assert.equal(rewrite("bob@example.test", rules({ virtualdomains: new Map([["example.test", "v"]]) })).addr, "bob@example.test");
  });
  it("follows percenthack chains", () => {
    const r = rules({ percenthack: new Set(["relay.test"]) });
    assert.deepEqual(rewrite("a%b%c@relay.test", r), { channel: "remote", addr: "a%b@c" });
    assert.deepEqual(rewrite("a%b%c@relay.test", rules({ percenthack: new Set(["relay.test", "c"]) })), { channel: "remote", addr: "a@b" });
    assert.deepEqual(rewrite("a%example.test@relay.test", r), { channel: "local", addr: "a@example.test" });
    assert.deepEqual(rewrite("a%b@other.test", r), { channel: "remote", addr: "a%b@other.test" });
  });
  it("stays bounded on hostile percent chains", () => {
    const hostile = `${"%x".repeat(5000)}@x`;
    const r = rewrite(hostile, rules({ percenthack: new Set(["x"]) }));
    assert.equal(r.channel, "remote");
    assert.ok(r.addr.length < hostile.length);
  });
});

describe("bounceRecipient()", () => {
  it("removes the virtualdomain prefix and newlines", () => {
    const r = rules({ virtualdomains: new Map([["v.test", "vee"]]) });
    assert.equal(bounceRecipient("vee-bob@v.test", r), "bob@v.test");
    assert.equal(bounceRecipient("other-bob@v.test", r), "other-bob@v.test");
    assert.equal(bounceRecipient("a\nb@x.test", r), "a_b@x.test");
  });
});

describe("verpSender()", () => {
  it("expands a -@[] sender per recipient", () => {
    assert.equal(verpSender("owner-@list.org-@[]", "bob@b.com"), "owner-bob=b.com@list.org");
  });
  it("leaves other senders alone", () => {
    assert.equal(verpSender("a@b", "bob@b.com"), "a@b");
    assert.equal(verpSender("", "bob@b.com"), "");
    assert.equal(verpSender("x-@y-@[]", "nohost"), "x-@y-@[]");
  });
});
