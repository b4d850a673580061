import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { certificateNames, dnsNamesOf, nameMatches } from "../../core/lib/tls/names.ts";
import { levelFor, LEVELS, parseTlsPolicy } from "../../core/lib/tls/policy.ts";
import { mxAllowed, parseCachedSts, parseStsPolicy, parseStsTxt } from "../../core/lib/tls/sts.ts";
import { daneState, usableTlsa } from "../../core/lib/tls/dane.ts";
import { parseRptRecord, RESULT_TYPES } from "../../core/lib/tls/rpt.ts";
import { byteString, HOSTILE, params, timed, tokens } from "../support/fuzz.ts";

// The TLS parsers read the admin's control/tlspolicy, DNS answers, an
// HTTPS body and a peer's certificate names: any bytes give a value or a
// reason, never a throw, in bounded time, and never a looser match.

describe("control/tlspolicy", () => {
  const text = tokens(["\n", "\r\n", " ", "#", ":", "example.org", ".example.org", "verify", "may", "none", "encrypt", "sts", "dane", "VERIFY", ...HOSTILE], 40);
  it("parses to a table or names the line; a lookup always gives a known level", () => {
    fc.assert(fc.property(text, byteString(60), (t, d) => {
      const r = timed(() => parseTlsPolicy(t));
      if (typeof r === "string") return assert.match(r, /^(line \d+: |more than)/);
      assert.ok(LEVELS.includes(levelFor(r, [], d).level));
    }), params(3000));
  });
});

describe("MTA-STS TXT and policy", () => {
  it("gives an id of 1-32 letters and digits or null", () => {
    const rec = tokens(["v=STSv1", ";", " ", "id=", "abc", "123", "=", "v=spf1", ...HOSTILE], 20);
    fc.assert(fc.property(fc.array(rec, { maxLength: 4 }), (recs) => {
      const id = timed(() => parseStsTxt(recs));
      assert.ok(id === null || /^[A-Za-z0-9]{1,32}$/.test(id));
    }), params(3000));
  });
  it("gives a policy with a known mode and a bounded max_age, or a reason", () => {
    const body = tokens(["version: STSv1", "mode: enforce", "mode: testing", "mode: none", "mx: ", "*.", "mx.example.com", "max_age: ", "86400", "99999999999", "\r\n", "\n", ":", ...HOSTILE], 40);
    fc.assert(fc.property(body, (b) => {
      const p = timed(() => parseStsPolicy(b));
      if (typeof p === "string") return;
      assert.ok(["enforce", "testing", "none"].includes(p.mode) && p.maxAge >= 0 && p.maxAge <= 31557600);
      assert.ok(p.mx.every((m) => !m.slice(1).includes("*")));
    }), params(3000));
  });
  it("an MX pattern never matches a host under a different parent, and the cache parser never throws", () => {
    fc.assert(fc.property(byteString(40), byteString(200), (h, c) => {
      const p = { mode: "enforce" as const, mx: ["*.example.com", "mx.example.org"], maxAge: 1 };
      if (timed(() => mxAllowed(p, h))) assert.match(h.toLowerCase().replace(/\.$/, ""), /^([^.]+\.example\.com|mx\.example\.org)$/);
      timed(() => parseCachedSts(c));
    }), params(3000));
  });
});

describe("certificate names", () => {
  it("a match is the name itself or one label under a wildcard; SAN text never throws", () => {
    const name = tokens(["*", ".", "mx", "example", "com", "xn--", "-", "MX", ...HOSTILE], 12);
    fc.assert(fc.property(name, name, byteString(200), (p, h, san) => {
      if (timed(() => nameMatches(p, h))) {
        const pn = p.toLowerCase().replace(/\.$/, "");
        const hn = h.toLowerCase().replace(/\.$/, "");
        assert.ok(pn === hn || (pn.startsWith("*.") && hn.slice(hn.indexOf(".")) === pn.slice(1)), `${p} ~ ${h}`);
      }
      const names = timed(() => dnsNamesOf(san));
      assert.ok(names.length <= 1000);
      timed(() => certificateNames(h, names, p));
    }), params(3000));
  });
});

describe("TLSA records", () => {
  it("a usable record is always DANE-TA or DANE-EE with a known selector, matching type and digest length", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const hex = tokens(["ab", "00", "ff", "AB", "z", "0", "ab".repeat(32), "cd".repeat(64), ...HOSTILE], 8);
    const rec = fc.record({ usage: octet, selector: octet, matchingType: octet, data: hex });
    fc.assert(fc.property(fc.array(rec, { maxLength: 40 }), fc.boolean(), fc.boolean(), (rs, mx, address) => {
      for (const r of timed(() => usableTlsa(rs))) {
        assert.ok([2, 3].includes(r.usage) && [0, 1].includes(r.selector) && [0, 1, 2].includes(r.matchingType));
        assert.ok(r.matchingType === 0 || r.data.length === (r.matchingType === 1 ? 64 : 128));
      }
      const st = timed(() => daneState({ mx, address }, { kind: "ok", records: rs, secure: true }));
      if (!mx || !address) assert.equal(st.kind, "none");
    }), params(3000));
  });
});

describe("TLS-RPT records", () => {
  it("any line gives a checked record or null", () => {
    const line = tokens(['{"t":1,"d":"x.test","p":"tlsa","s":[],"m":[],"ok":false,"r":"tlsa-invalid","ip":"1.2.3.4","h":"mx"}', "{", "}", '"', ":", ",",
      '"ok":true', '"p":"sts"', '"d":"a..b"', '"r":"x"', "[", "]", "null", ...HOSTILE], 20);
    fc.assert(fc.property(line, (l) => {
      const r = timed(() => parseRptRecord(l));
      if (r === null) return;
      assert.ok(["sts", "tlsa", "no-policy-found"].includes(r.policyType) && /^[a-z0-9_.-]+$/.test(r.domain));
      assert.ok(r.ok || (RESULT_TYPES as readonly string[]).includes(r.resultType!));
    }), params(3000));
  });
});
