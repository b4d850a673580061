import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { certificateNames, dnsNamesOf, nameMatches } from "../../../core/lib/tls/names.ts";

describe("nameMatches() (RFC 6125 as RFC 7672 and RFC 8461 use it)", () => {
  it("matches exact names without case or a final dot", () => {
    assert.equal(nameMatches("MX.Example.COM", "mx.example.com."), true);
    assert.equal(nameMatches("mx.example.com.", "MX.EXAMPLE.COM"), true);
    assert.equal(nameMatches("mx.example.com", "mx2.example.com"), false);
  });
  it("takes a wildcard only as the whole leftmost label, for exactly one label", () => {
    assert.equal(nameMatches("*.example.com", "mx.example.com"), true);
    assert.equal(nameMatches("*.example.com", "a.mx.example.com"), false);
    assert.equal(nameMatches("*.example.com", "example.com"), false);
    assert.equal(nameMatches("m*.example.com", "mx.example.com"), false);
    assert.equal(nameMatches("mx.*.com", "mx.example.com"), false);
    assert.equal(nameMatches("*.*.com", "a.b.com"), false);
    assert.equal(nameMatches("**.example.com", "mx.example.com"), false);
  });
  it("never lets a wildcard cover a top-level domain or an A-label", () => {
    assert.equal(nameMatches("*.com", "example.com"), false);
    assert.equal(nameMatches("*", "localhost"), false);
    assert.equal(nameMatches("*.example.com", "xn--bcher-kva.example.com"), false);
    assert.equal(nameMatches("xn--bcher-kva.example.com", "XN--BCHER-KVA.example.com"), true);
  });
  it("refuses junk on either side (hostile input)", () => {
    for (const [p, h] of [["", ""], [".", "."], ["a..b", "a..b"], ["a b.com", "a b.com"], ["mx.example.com\0.evil", "mx.example.com"],
      ["mx.example.com", "mx.example.com\0"], ["-a.com", "-a.com"], ["a".repeat(64) + ".com", "a".repeat(64) + ".com"], ["é.com", "é.com"],
      ["x".repeat(300), "x".repeat(300)]]) {
      assert.equal(nameMatches(p!, h!), false, `${JSON.stringify(p)} vs ${JSON.stringify(h)}`);
    }
  });
});

describe("dnsNamesOf() (Node's subjectaltname text)", () => {
  it("takes the DNS entries and skips IP addresses and other kinds", () => {
    assert.deepEqual(dnsNamesOf("DNS:mx.example.com, IP Address:127.0.0.1, DNS:*.example.net, email:a@b"), ["mx.example.com", "*.example.net"]);
    assert.deepEqual(dnsNamesOf(undefined), []);
    assert.deepEqual(dnsNamesOf(""), []);
  });
  it("reads a quoted value whole, so a comma inside cannot smuggle in a second name", () => {
    assert.deepEqual(dnsNamesOf('DNS:"evil.com, DNS:mx.example.com", DNS:ok.example'), ["evil.com, DNS:mx.example.com", "ok.example"]);
    assert.equal(certificateNames("mx.example.com", dnsNamesOf('DNS:"evil.com, DNS:mx.example.com"'), undefined), false);
  });
  it("stops at a malformed quoted value, and is bounded", () => {
    assert.deepEqual(dnsNamesOf('DNS:a.example, DNS:"unterminated'), ["a.example"]);
    assert.equal(dnsNamesOf(Array.from({ length: 5000 }, (_, i) => `DNS:h${i}.example`).join(", ")).length, 1000);
  });
});

describe("certificateNames()", () => {
  it("uses the CN only when there is no DNS name", () => {
    assert.equal(certificateNames("mx.example.com", [], "mx.example.com"), true);
    assert.equal(certificateNames("mx.example.com", ["other.example.com"], "mx.example.com"), false);
    assert.equal(certificateNames("mx.example.com", [], undefined), false);
  });
});
