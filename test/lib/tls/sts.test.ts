import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatCachedSts, mxAllowed, parseCachedSts, parseStsPolicy, parseStsTxt, STS_MAX_AGE_MAX, STS_POLICY_MAX, stsDomainOk, type StsPolicy } from "../../../core/lib/tls/sts.ts";

const POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.mail.example.com\r\nmax_age: 86400\r\n";

describe("parseStsTxt() (RFC 8461 §3.1)", () => {
  it("takes the id of the one v=STSv1 record, other TXT records aside", () => {
    assert.equal(parseStsTxt(["v=spf1 -all", "v=STSv1; id=20160831085700Z;"]), "20160831085700Z");
    assert.equal(parseStsTxt(["v=STSv1;id=abc"]), "abc");
    assert.equal(parseStsTxt(["v=STSv1; id=abc; ext=1"]), "abc");
  });
  it("means no policy for two records, none, a bad or missing id, or junk", () => {
    for (const recs of [[], ["v=STSv1; id=a", "v=STSv1; id=b"], ["v=STSv1;"], ["v=STSv1; id="], ["v=STSv1; id=a-b"], ["v=STSv1; id=" + "a".repeat(33)],
      ["v=STSv1; id=a; id=b"], ["v=STSv1; junk"], ["v=STSv10; id=a"], [" v=STSv1; id=a"], ["id=a; v=STSv1"], ["v=STSv1; id=a\0b"]]) {
      assert.equal(parseStsTxt(recs), null, JSON.stringify(recs));
    }
  });
});

describe("parseStsPolicy() (RFC 8461 §3.2)", () => {
  it("reads version, mode, mx lines and max_age, CRLF or LF, unknown keys ignored", () => {
    assert.deepEqual(parseStsPolicy(POLICY), { mode: "enforce", mx: ["mx1.example.com", "*.mail.example.com"], maxAge: 86400 });
    assert.deepEqual(parseStsPolicy("version: STSv1\nmode: none\nmax_age: 0\nfoo: bar\n"), { mode: "none", mx: [], maxAge: 0 });
  });
  it("caps max_age at a year", () => {
    assert.equal((parseStsPolicy("version: STSv1\nmode: testing\nmx: a.b\nmax_age: 9999999999\n") as StsPolicy).maxAge, STS_MAX_AGE_MAX);
  });
  it("refuses what is not a policy (hostile input)", () => {
    const cases: [string, string][] = [
      ["", "version is not STSv1"],
      ["<html>hello</html>", "a line without a colon"],
      ["version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n", "version is not STSv1"],
      ["version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n", "mode is not enforce, testing or none"],
      ["version: STSv1\nmode: enforce\nmx: a.b\n", "no max_age"],
      ["version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx line"],
      ["version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n", "max_age is not a number"],
      ["version: STSv1\nmode: enforce\nmx: *.*.b\nmax_age: 1\n", "a bad mx pattern"],
      ["version: STSv1\nmode: enforce\nmx: a b.c\nmax_age: 1\n", "a bad mx pattern"],
      ["version: STSv1\nmode: enforce\nmx: com\nmax_age: 1\n", "a bad mx pattern"],
      ["version: STSv1\nmode: enforce\n" + "mx: a.b\n".repeat(101) + "max_age: 1\n", "more than 100 mx lines"],
      ["x".repeat(STS_POLICY_MAX + 1), "policy too long"],
    ];
    for (const [text, want] of cases) assert.equal(parseStsPolicy(text), want, text.slice(0, 60));
  });
});

describe("mxAllowed() (RFC 8461 §4.1)", () => {
  const p = parseStsPolicy(POLICY) as StsPolicy;
  it("matches names exactly or one label under a wildcard, without case or final dot", () => {
    assert.equal(mxAllowed(p, "MX1.example.com."), true);
    assert.equal(mxAllowed(p, "a.mail.example.com"), true);
    assert.equal(mxAllowed(p, "mail.example.com"), false);
    assert.equal(mxAllowed(p, "a.b.mail.example.com"), false);
    assert.equal(mxAllowed(p, "mx2.example.com"), false);
    assert.equal(mxAllowed(p, ".mail.example.com"), false);
  });
});

describe("the cache file", () => {
  it("round-trips, and refuses anything else", () => {
    const text = formatCachedSts("abc", 1234, POLICY);
    assert.deepEqual(parseCachedSts(text), { id: "abc", expires: 1234, policy: parseStsPolicy(POLICY) });
    for (const bad of ["", "{", "null", "[]", '{"id":"a b","expires":1,"policy":""}', '{"id":"a","expires":"1","policy":""}', '{"id":"a","expires":1,"policy":"junk"}']) {
      assert.equal(parseCachedSts(bad), null, bad);
    }
  });
  it("takes only plain domain names as file names", () => {
    assert.equal(stsDomainOk("example.com"), true);
    for (const bad of ["", "com", "../etc", "a/b.com", ".a.com", "a..com", "A.com", "a.com\0"]) assert.equal(stsDomainOk(bad), false, bad);
  });
});
