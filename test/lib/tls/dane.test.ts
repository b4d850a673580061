import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { daneState, formatTlsa, TLSA_MAX, tlsaMatches, usableTlsa, type Tlsa } from "../../../core/lib/tls/dane.ts";

const h64 = "ab".repeat(32);
const h128 = "cd".repeat(64);
const r = (usage: number, selector: number, matchingType: number, data: string): Tlsa => ({ usage, selector, matchingType, data });

describe("usableTlsa()", () => {
  it("keeps DANE-TA(2) and DANE-EE(3) with selector 0/1 and matching 0/1/2 of the right length", () => {
    const good = [r(3, 1, 1, h64), r(3, 0, 2, h128), r(2, 0, 1, h64), r(2, 1, 0, "3059")];
    assert.deepEqual(usableTlsa(good), good);
  });
  it("drops PKIX-TA(0) and PKIX-EE(1) (RFC 7672 §3.1.3), unknown usages, selectors and matching types, wrong digest lengths, bad hex", () => {
    const bad = [r(0, 1, 1, h64), r(1, 1, 1, h64), r(4, 1, 1, h64), r(3, 2, 1, h64), r(3, 1, 3, h64), r(3, 1, 1, h128), r(3, 1, 2, h64),
      r(3, 1, 1, "ab"), r(3, 1, 0, ""), r(3, 1, 0, "abc"), r(3, 1, 1, "AB".repeat(32)), r(3, 1, 1, "zz".repeat(32))];
    assert.deepEqual(usableTlsa(bad), []);
  });
  it("looks at no more than TLSA_MAX records", () => {
    assert.equal(usableTlsa(Array.from({ length: TLSA_MAX + 5 }, () => r(3, 1, 1, h64))).length, TLSA_MAX);
  });
  it("formats a record as in a zone file", () => assert.equal(formatTlsa(r(3, 1, 1, "00ff")), "3 1 1 00ff"));
});

describe("daneState() (RFC 7672 §2.2)", () => {
  const secure = { mx: true, address: true };
  const ok = (records: Tlsa[], sec = true) => ({ kind: "ok" as const, records, secure: sec });
  it("uses usable records only when the MX, address and TLSA answers were all validated", () => {
    assert.deepEqual(daneState(secure, ok([r(3, 1, 1, h64), r(0, 0, 1, h64)])), { kind: "dane", records: [r(3, 1, 1, h64)], all: [r(3, 1, 1, h64), r(0, 0, 1, h64)] });
    assert.equal(daneState({ mx: false, address: true }, ok([r(3, 1, 1, h64)])).kind, "none");
    assert.equal(daneState({ mx: true, address: false }, ok([r(3, 1, 1, h64)])).kind, "none");
    assert.equal(daneState(secure, ok([r(3, 1, 1, h64)], false)).kind, "none");
    assert.equal(daneState(secure, { kind: "ok", records: [r(3, 1, 1, h64)] }).kind, "none", "secure absent: not secure");
  });
  it("asks for encryption without authentication when records exist but none is usable", () => {
    assert.deepEqual(daneState(secure, ok([r(1, 1, 1, h64)])), { kind: "encrypt", all: [r(1, 1, 1, h64)] });
  });
  it("gives no DANE without records, and a failure when the lookup under a validated MX fails", () => {
    assert.equal(daneState(secure, { kind: "nxdomain", secure: true }).kind, "none");
    assert.equal(daneState(secure, ok([])).kind, "none");
    assert.equal(daneState(secure, null).kind, "none");
    assert.deepEqual(daneState(secure, { kind: "temp", reason: "DNS server said SERVFAIL" }), { kind: "fail", why: "the TLSA lookup failed (DNS server said SERVFAIL)" });
    assert.equal(daneState({ mx: false, address: false }, { kind: "temp", reason: "x" }).kind, "none", "an insecure MX: the failure does not matter");
  });
});

describe("tlsaMatches()", () => {
  const digest = (alg: "sha256" | "sha512", b: Uint8Array) => createHash(alg).update(b).digest("hex");
  const bytes = (s: string) => new Uint8Array(Buffer.from(s));
  const leaf = { cert: bytes("leaf-cert"), spki: bytes("leaf-key") };
  const mid = { cert: bytes("mid-cert"), spki: bytes("mid-key") };
  const root = { cert: bytes("root-cert"), spki: bytes("root-key") };
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  it("matches DANE-EE on the leaf by key or certificate, exact, SHA-256 or SHA-512", () => {
    for (const rec of [r(3, 1, 1, digest("sha256", leaf.spki)), r(3, 0, 1, digest("sha256", leaf.cert)), r(3, 1, 2, digest("sha512", leaf.spki)), r(3, 0, 0, hex(leaf.cert))]) {
      assert.deepEqual(tlsaMatches([rec], [leaf, mid], digest), { ee: true, ta: [] }, formatTlsa(rec));
    }
  });
  it("matches DANE-TA only above the leaf, and DANE-EE only on the leaf", () => {
    assert.deepEqual(tlsaMatches([r(2, 1, 1, digest("sha256", root.spki))], [leaf, mid, root], digest), { ee: false, ta: [2] });
    assert.deepEqual(tlsaMatches([r(2, 0, 1, digest("sha256", leaf.cert))], [leaf, mid], digest), { ee: false, ta: [] });
    assert.deepEqual(tlsaMatches([r(3, 0, 1, digest("sha256", mid.cert))], [leaf, mid], digest), { ee: false, ta: [] });
    assert.deepEqual(tlsaMatches([r(3, 1, 1, h64)], [], digest), { ee: false, ta: [] });
  });
});
