import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  addRecord, dayOf, dayRange, formatRptRecord, newTally, parseRptRecord, reportFileName, RPT_LIMITS, RPT_LINE_MAX, tallyReport, type RptRecord,
} from "../../../core/lib/tls/rpt.ts";

const T = Date.UTC(2026, 11, 6, 12, 0, 0);
const rec = (over: Partial<RptRecord> = {}): RptRecord => ({
  time: T, domain: "x.test", policyType: "tlsa", policyString: ["3 1 1 ab"], mxHost: ["mx.x.test"], ok: true, receivingIp: "192.0.2.1", receivingMx: "mx.x.test", ...over,
});
const meta = { organization: "client.test", contact: "postmaster@client.test", reportId: "r1", date: "2026-12-06" };

describe("formatRptRecord() / parseRptRecord()", () => {
  it("round-trips a success and a failure, one line each", () => {
    for (const r of [rec(), rec({ ok: false, resultType: "tlsa-invalid", policyType: "no-policy-found", policyString: [], mxHost: [] })]) {
      const line = formatRptRecord(r)!;
      assert.match(line, /^\{[^\n]*\}\n$/);
      assert.deepEqual(parseRptRecord(line.slice(0, -1)), { ...r, resultType: r.ok ? undefined : r.resultType });
    }
  });
  it("replaces control bytes in names and texts; refuses a record over RPT_LINE_MAX", () => {
    const line = formatRptRecord(rec({ receivingMx: "mx\r\n.x.test", policyString: ["a\0b"] }))!;
    assert.equal(line.split("\n").length, 2);
    assert.equal(parseRptRecord(line)!.receivingMx, "mx??.x.test");
    assert.equal(formatRptRecord(rec({ policyString: Array.from({ length: 8 }, () => "x".repeat(600)) })), null);
  });
  it("skips what is not a record: torn, foreign, wrong types, unknown policy or result types, bad domains, too long", () => {
    const good = formatRptRecord(rec({ ok: false, resultType: "starttls-not-supported" }))!.trim();
    for (const bad of [good.slice(0, 40), "", "null", "[]", "42", '"x"', good.replace('"tlsa"', '"dane"'), good.replace("starttls-not-supported", "oops"),
      good.replace('"x.test"', '"x test"'), good.replace('"x.test"', '"a..b"'), good.replace(`"t":${T}`, '"t":"1"'),
      good.replace('"ok":false', '"ok":0'), good.replace('"s":[', '"s":[1,'), `${good}${" ".repeat(RPT_LINE_MAX)}`]) {
      assert.equal(parseRptRecord(bad), null, bad.slice(0, 80));
    }
  });
});

describe("dayRange() / dayOf() / reportFileName()", () => {
  it("reads only real dates, as UTC days", () => {
    assert.deepEqual(dayRange("2026-12-06"), { start: Date.UTC(2026, 11, 6), end: Date.UTC(2026, 11, 6, 23, 59, 59) });
    for (const d of ["2026-02-30", "2026-13-01", "26-12-06", "2026-12-06x", "", "2026-1-6"]) assert.equal(dayRange(d), null, d);
    assert.equal(dayOf(T), "2026-12-06");
  });
  it("names a report file as RFC 8460 §5.3 does", () => {
    assert.equal(reportFileName("Client.test", "x.test", "2026-12-06"), `client.test!x.test!${Date.UTC(2026, 11, 6) / 1000}!${Date.UTC(2026, 11, 7) / 1000}.json`);
    assert.equal(reportFileName("client.test", "../x", "2026-12-06"), null);
  });
});

describe("tallyReport() (RFC 8460 §4.4)", () => {
  it("sums sessions per policy and itemises failures by result type, address and host", () => {
    const t = newTally();
    addRecord(t, rec());
    addRecord(t, rec());
    addRecord(t, rec({ ok: false, resultType: "tlsa-invalid" }));
    addRecord(t, rec({ ok: false, resultType: "tlsa-invalid" }));
    addRecord(t, rec({ ok: false, resultType: "starttls-not-supported", policyType: "no-policy-found", policyString: [], mxHost: [] }));
    addRecord(t, rec({ domain: "y.test" }));
    assert.deepEqual([...t.domains.keys()], ["x.test", "y.test"]);
    assert.deepEqual(tallyReport(t, "x.test", meta), {
      "organization-name": "client.test",
      "date-range": { "start-datetime": "2026-12-06T00:00:00Z", "end-datetime": "2026-12-06T23:59:59Z" },
      "contact-info": "postmaster@client.test",
      "report-id": "r1",
      policies: [
        {
          policy: { "policy-type": "tlsa", "policy-string": ["3 1 1 ab"], "policy-domain": "x.test", "mx-host": ["mx.x.test"] },
          summary: { "total-successful-session-count": 2, "total-failure-session-count": 2 },
          "failure-details": [{ "result-type": "tlsa-invalid", "receiving-ip": "192.0.2.1", "receiving-mx-hostname": "mx.x.test", "failed-session-count": 2 }],
        },
        {
          policy: { "policy-type": "no-policy-found", "policy-domain": "x.test" },
          summary: { "total-successful-session-count": 0, "total-failure-session-count": 1 },
          "failure-details": [{ "result-type": "starttls-not-supported", "receiving-ip": "192.0.2.1", "receiving-mx-hostname": "mx.x.test", "failed-session-count": 1 }],
        },
      ],
    });
    assert.equal(tallyReport(t, "z.test", meta), null);
  });
  it("keeps at most RPT_LIMITS.policiesPerDomain policies and detailsPerPolicy details, still counting every failure", () => {
    const t = newTally();
    for (let i = 0; i < RPT_LIMITS.policiesPerDomain + 3; i++) addRecord(t, rec({ policyString: [`3 1 1 ${i}`] }));
    assert.equal(t.domains.get("x.test")!.size, RPT_LIMITS.policiesPerDomain);
    assert.equal(t.dropped, 3);
    const u = newTally();
    for (let i = 0; i < RPT_LIMITS.detailsPerPolicy + 5; i++) addRecord(u, rec({ ok: false, resultType: "tlsa-invalid", receivingIp: `10.0.${i >> 8}.${i & 255}` }));
    const p = (tallyReport(u, "x.test", meta) as { policies: { summary: Record<string, number>; "failure-details": unknown[] }[] }).policies[0]!;
    assert.equal(p["failure-details"].length, RPT_LIMITS.detailsPerPolicy);
    assert.equal(p.summary["total-failure-session-count"], RPT_LIMITS.detailsPerPolicy + 5);
  });
});
