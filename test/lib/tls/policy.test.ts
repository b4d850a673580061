import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { atLeastEncrypt, levelFor, parseTlsPolicy, TLSPOLICY_LINES_MAX, type TlsPolicyTable } from "../../../core/lib/tls/policy.ts";

function table(text: string): TlsPolicyTable {
  const t = parseTlsPolicy(text);
  assert.equal(typeof t, "object", String(t));
  return t as TlsPolicyTable;
}

describe("parseTlsPolicy()", () => {
  it("reads domains, .suffixes and the default line; comments, CRs and blank lines pass", () => {
    const t = table("# comment\r\nexample.com:verify\r\n\n.example.net:encrypt\n:may\nEXAMPLE.org.:NONE\n");
    assert.deepEqual([...t.rules], [["example.com", "verify"], [".example.net", "encrypt"], ["example.org", "none"]]);
    assert.equal(t.fallback, "may");
  });
  it("names the bad line; reads dane", () => {
    assert.equal(parseTlsPolicy("a.com:verify\nb.com\n"), 'line 2: no ":" between the domain and the level');
    assert.equal(parseTlsPolicy("a.com:strict"), 'line 1: unknown level "strict"');
    assert.equal((parseTlsPolicy("a.com:dane") as TlsPolicyTable).rules.get("a.com"), "dane");
    assert.equal(parseTlsPolicy("a b.com:verify"), "line 1: bad domain");
    assert.equal(parseTlsPolicy("a..com:verify"), "line 1: bad domain");
    assert.equal(parseTlsPolicy("a.com:\0verify"), 'line 1: unknown level "?verify"');
  });
  it("has a line limit", () => {
    assert.equal(typeof parseTlsPolicy("a.com:may\n".repeat(TLSPOLICY_LINES_MAX - 1)), "object");
    assert.equal(parseTlsPolicy("a.com:may\n".repeat(TLSPOLICY_LINES_MAX)), `more than ${TLSPOLICY_LINES_MAX} lines`);
  });
});

describe("levelFor()", () => {
  const t = table("example.com:verify\n.example.com:encrypt\n.sub.example.com:none\n:sts\n");
  it("prefers the name itself, then the nearest .parent, then the default", () => {
    assert.deepEqual(levelFor(t, [], "Example.COM."), { level: "verify", from: "tlspolicy" });
    assert.equal(levelFor(t, [], "mx.example.com").level, "encrypt");
    assert.equal(levelFor(t, [], "a.sub.example.com").level, "none");
    assert.equal(levelFor(t, [], "other.org").level, "sts");
  });
  it("keeps control/tlsrequired as encrypt, below a specific line and above the default", () => {
    assert.deepEqual(levelFor(t, ["other.org"], "other.org"), { level: "encrypt", from: "tlsrequired" });
    assert.equal(levelFor(t, ["example.com"], "example.com").level, "verify");
    assert.deepEqual(levelFor(null, [".x.test"], "a.x.test"), { level: "encrypt", from: "tlsrequired" });
    assert.equal(levelFor(null, [], "a.x.test").level, "dane", "the default: DANE where validated, else may");
  });
  it("raises a relay with a password to encrypt, keeps verify", () => {
    assert.equal(atLeastEncrypt("may"), "encrypt");
    assert.equal(atLeastEncrypt("none"), "encrypt");
    assert.equal(atLeastEncrypt("verify"), "verify");
  });
});
