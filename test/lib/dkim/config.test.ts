import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_SELECTORS, parseDkimSign, signersFor } from "../../../core/lib/dkim/config.ts";
import { fromDomain } from "../../../core/lib/dkim/from.ts";
import { formatKeyRecord, formatZoneLine, splitTxt } from "../../../core/lib/dkim/record.ts";

describe("parseDkimSign()", () => {
  it("reads domain:selector:keyfile, lowercasing names and keeping the key path as written", () => {
    const r = parseDkimSign(["Example.ORG.:RSA1:dkim/example.org/rsa1.key", " example.org : ed1 : /etc/keys/ed 1.pem "]);
    assert.deepEqual(r, { kind: "ok", value: [
      { domain: "example.org", selector: "rsa1", keyfile: "dkim/example.org/rsa1.key" },
      { domain: "example.org", selector: "ed1", keyfile: "/etc/keys/ed 1.pem" },
    ] });
  });
  const BAD = [
    ["example.org", "not domain:selector:keyfile"],
    ["example.org:s1", "not domain:selector:keyfile"],
    ["example.org:s1:", "bad key file name"],
    [":s1:k", "bad domain"],
    ["exa_mple.org:s1:k", "bad domain"],
    ["-example.org:s1:k", "bad domain"],
    [`${"a".repeat(64)}.org:s1:k`, "bad domain"],
    [`${"a.".repeat(127)}org:s1:k`, "bad domain"],
    ["example..org:s1:k", "bad domain"],
    ["example.org:s 1:k", "bad selector"],
    ["example.org:s;1:k", "bad selector"],
    ["example.org::k", "bad selector"],
    ["example.org:s1:a\0b", "bad key file name"],
    ["constructor:__proto__:k", "bad selector"],
  ] as const;
  for (const [line, why] of BAD) {
    it(`refuses ${JSON.stringify(line.slice(0, 40))} (temporary, with the line number)`, () => {
      const r = parseDkimSign(["good.test:s:k", line]);
      assert.equal(r.kind, "temp");
      assert.equal(r.kind === "temp" && r.reason, `Unable to parse control/dkimsign: line 2: ${why}`);
    });
  }
  it("refuses a selector listed twice and more than MAX_SELECTORS for a domain", () => {
    assert.match(JSON.stringify(parseDkimSign(["a.test:s:k", "a.test:S:j"])), /selector s listed twice for a.test/);
    const many = Array.from({ length: MAX_SELECTORS + 1 }, (_, i) => `a.test:s${i}:k${i}`);
    assert.match(JSON.stringify(parseDkimSign(many)), /more than 8 selectors/);
    assert.equal(parseDkimSign(many.slice(0, MAX_SELECTORS)).kind, "ok");
  });
  it("refuses a file of more than 10,000 lines without looking at each", () => {
    assert.equal(parseDkimSign(Array.from({ length: 10_001 }, () => "x")).kind, "temp");
  });
});

describe("signersFor()", () => {
  const entries = [
    { domain: "example.org", selector: "r", keyfile: "k1" },
    { domain: "example.org", selector: "e", keyfile: "k2" },
    { domain: "sub.example.org", selector: "s", keyfile: "k3" },
  ];
  const CASES = [
    ["example.org", ["r", "e"]],
    ["EXAMPLE.org.", ["r", "e"]],
    ["mail.example.org", ["r", "e"]],
    ["sub.example.org", ["s"]],
    ["a.b.sub.example.org", ["s"]],
    ["badexample.org", []],
    ["org", []],
    ["example.net", []],
  ] as const;
  for (const [from, want] of CASES) {
    it(`${from} → ${want.join(",") || "unsigned"}`, () => {
      assert.deepEqual(signersFor(entries, from).map((e) => e.selector), want);
    });
  }
});

describe("fromDomain()", () => {
  const CASES = [
    [" alice@Example.ORG", "example.org"],
    [" Alice <alice@mail.example.org>", "mail.example.org"],
    [' "Evil <x@evil.test>" <alice@example.org>', "example.org"],
    [' "a@evil.test"@example.org', "example.org"],
    [" alice@example.org (comment <x@evil.test>)", "example.org"],
    [" (x@evil.test) Alice <alice@example.org>", "example.org"],
    [" a@one.test, b@two.test", "one.test"],
    [' "Doe, John" <j@one.test>, b@two.test', "one.test"],
    [" Friends: a@one.test, b@two.test;", "one.test"],
    [" Alice\r\n <alice@folded.test>", "folded.test"],
    [" alice@example.org.", "example.org"],
    [" undisclosed", null],
    [" <>", null],
    [" a@[192.0.2.1]", null],
    [" a@exa mple.org", null],
    [" ((((((", null],
    ["", null],
  ] as const;
  for (const [value, want] of CASES) {
    it(`${JSON.stringify(value)} → ${want}`, () => assert.equal(fromDomain(value), want));
  }
  it("stays bounded on a hostile 1 MB value", () => {
    const t = Date.now();
    assert.equal(fromDomain(`${"(".repeat(500_000)}${"\\".repeat(500_000)}`), null);
    assert.equal(fromDomain(`${'"'.repeat(1_000_000)}a@b.test`), null);
    assert.ok(Date.now() - t < 2000);
  });
});

describe("formatKeyRecord() and formatZoneLine()", () => {
  it("splits the record into character-strings of at most 255 bytes", () => {
    const rec = formatKeyRecord("rsa", "A".repeat(392));
    assert.equal(rec.slice(0, 22), "v=DKIM1; k=rsa; p=AAAA");
    assert.deepEqual(splitTxt(rec).map((s) => s.length), [255, rec.length - 255]);
    const line = formatZoneLine("s1", "example.org", rec);
    assert.match(line, /^s1\._domainkey\.example\.org\. IN TXT \( "v=DKIM1; k=rsa; p=A+" "A+" \)$/);
  });
});

describe("control/dkimsign and From fields from fast-check", () => {
  const RUNS = { numRuns: Number(process.env.QM_FUZZ_RUNS ?? 2000) };
  const text = fc.string({ unit: fc.constantFrom(..."ab.-:;\"'()<>@,\\ \t\r\n\0é"), maxLength: 80 });
  it("parseDkimSign() never throws, and what it accepts is well-formed", () => {
    fc.assert(fc.property(fc.array(text, { maxLength: 10 }), (lines) => {
      const r = parseDkimSign(lines);
      if (r.kind === "ok") for (const e of r.value) assert.ok(/^[a-z0-9.-]+$/.test(e.domain) && /^[a-z0-9.-]+$/.test(e.selector) && e.keyfile !== "" && !e.keyfile.includes("\0"));
    }), RUNS);
  });
  it("fromDomain() never throws and gives a lowercase DNS name or null", () => {
    fc.assert(fc.property(text, (value) => {
      const d = fromDomain(value);
      assert.ok(d === null || /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(d), String(d));
    }), RUNS);
  });
});
