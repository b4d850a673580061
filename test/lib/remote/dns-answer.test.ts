import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { extract, isNullMx, isReplyTo, rcodeAnswer, type DnsMessage } from "../../../core/lib/remote/dns-answer.ts";

const Q = [{ name: "x.test", type: "MX", class: "IN" }];
describe("isReplyTo()", () => {
  const ok: DnsMessage = { id: 7, type: "response", questions: Q };
  const CASES = [
    ["the reply", ok, true],
    ["a wrong id", { ...ok, id: 8 }, false],
    ["a query", { ...ok, type: "query" }, false],
    ["no question", { ...ok, questions: [] }, false],
    ["two questions", { ...ok, questions: [...Q, ...Q] }, false],
    ["another name", { ...ok, questions: [{ name: "y.test", type: "MX" }] }, false],
    ["another type", { ...ok, questions: [{ name: "x.test", type: "A" }] }, false],
    ["another class", { ...ok, questions: [{ name: "x.test", type: "MX", class: "CH" }] }, false],
    ["a name of the wrong type", { ...ok, questions: [{ name: 5, type: "MX" }] }, false],
    ["the name in capitals with a final dot", { ...ok, questions: [{ name: "X.TEST.", type: "MX" }] }, true],
  ] as const;
  for (const [name, msg, want] of CASES) it(`is ${want} for ${name}`, () => assert.equal(isReplyTo(msg as DnsMessage, 7, "x.test", "MX"), want));
});

describe("rcodeAnswer()", () => {
  it("passes NOERROR, ends at NXDOMAIN, is temporary otherwise", () => {
    assert.equal(rcodeAnswer("NOERROR"), null);
    assert.deepEqual(rcodeAnswer("NXDOMAIN"), { kind: "nxdomain" });
    for (const r of ["SERVFAIL", "REFUSED", "NOTIMP", undefined]) assert.equal(rcodeAnswer(r)?.kind, "temp");
  });
});

describe("extract()", () => {
  const msg = (answers: DnsMessage["answers"]): DnsMessage => ({ rcode: "NOERROR", answers });
  it("skips malformed records and records for other names", () => {
    const a = extract(msg([
      { name: "x.test", type: "A", data: "1.2.3.4" },
      { name: "x.test", type: "A", data: "not an ip" },
      { name: "x.test", type: "A", data: { evil: true } },
      { name: "other.test", type: "A", data: "6.6.6.6" },
    ]), "x.test", "A");
    assert.deepEqual(a, { kind: "ok", records: ["1.2.3.4"], canonical: "x.test" });
  });
  it("follows CNAMEs inside the answer, and asks for the target when it leaves it", () => {
    const inside = extract(msg([{ name: "x.test", type: "CNAME", data: "y.test" }, { name: "y.test", type: "A", data: "1.1.1.1" }]), "x.test", "A");
    assert.deepEqual(inside, { kind: "ok", records: ["1.1.1.1"], canonical: "y.test" });
    const outside = extract(msg([{ name: "x.test", type: "CNAME", data: "z.test" }]), "x.test", "A");
    assert.deepEqual(outside, { kind: "ok", records: [], canonical: "z.test", chaseTo: "z.test" });
  });
  it("stops a CNAME loop", () => {
    const loop = extract(msg([{ name: "a.test", type: "CNAME", data: "b.test" }, { name: "b.test", type: "CNAME", data: "a.test" }]), "a.test", "A");
    assert.deepEqual(loop, { kind: "loop" });
  });
  it("reads MX data and drops MX with a bad preference", () => {
    const a = extract(msg([
      { name: "x.test", type: "MX", data: { preference: 10, exchange: "MX.Test." } },
      { name: "x.test", type: "MX", data: { preference: "10", exchange: "bad" } },
    ]), "x.test", "MX");
    assert.deepEqual(a.kind === "ok" && a.records, [{ preference: 10, exchange: "mx.test" }]);
  });
});

describe("isNullMx()", () => {
  it("is true only for a single preference-0 MX to the root", () => {
    assert.equal(isNullMx([{ preference: 0, exchange: "" }]), true);
    assert.equal(isNullMx([{ preference: 0, exchange: "." }]), true);
    assert.equal(isNullMx([{ preference: 10, exchange: "" }]), false);
    assert.equal(isNullMx([{ preference: 0, exchange: "" }, { preference: 5, exchange: "a" }]), false);
  });
});
