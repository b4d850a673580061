import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeHome, runQm } from "../support/qm.ts";

// qm tlsrpt on a store written by hand: the day's reports on stdout, one
// JSON line a domain; the default day; bad dates and lines.

const line = (d: string, ok: boolean, extra = "") =>
  `{"t":${Date.UTC(2026, 11, 5, 10)},"d":"${d}","p":"no-policy-found","s":[],"m":[],"ok":${ok}${ok ? "" : ',"r":"starttls-not-supported"'},"ip":"192.0.2.7","h":"mx.${d}"${extra}}\n`;

describe("qm tlsrpt", { timeout: 60_000 }, () => {
  let home = "";
  after(() => { if (home) rmSync(join(home, ".."), { recursive: true, force: true }); });

  it("qm init makes queue/lock/tlsrpt (mode 0700); a day without records gives no report", async () => {
    home = await makeHome("client.test");
    assert.equal(statSync(join(home, "queue", "lock", "tlsrpt")).mode & 0o777, 0o700);
    const r = await runQm(["tlsrpt", "2026-12-01"], { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), "");
  });
  it("prints one report a domain, sorted, with --contact; skips and counts lines that are not records", async () => {
    writeFileSync(join(home, "queue", "lock", "tlsrpt", "2026-12-05"), `${line("b.test", true)}${line("a.test", false)}{"torn":\n${line("a.test", true)}`);
    const r = await runQm(["tlsrpt", "--contact", "tls@client.test", "2026-12-05"], { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stderr.toString(), "qm tlsrpt: warning: 1 line(s) of 2026-12-05 are not records; skipped\n");
    const reports = r.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(reports.map((x) => x.policies[0].policy["policy-domain"]), ["a.test", "b.test"]);
    assert.equal(reports[0]["contact-info"], "tls@client.test");
    assert.equal(reports[0]["organization-name"], "client.test");
    assert.deepEqual(reports[0].policies[0].summary, { "total-successful-session-count": 1, "total-failure-session-count": 1 });
    assert.deepEqual(reports[0]["date-range"], { "start-datetime": "2026-12-05T00:00:00Z", "end-datetime": "2026-12-05T23:59:59Z" });
  });
  it("-d writes RFC 8460 file names", async () => {
    const dir = join(home, "..", "reports");
    mkdirSync(dir);
    const r = await runQm(["tlsrpt", "-d", dir, "2026-12-05"], { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr.toString());
    const begin = Date.UTC(2026, 11, 5) / 1000;
    assert.equal(r.stdout.toString(), `client.test!a.test!${begin}!${begin + 86400}.json\nclient.test!b.test!${begin}!${begin + 86400}.json\n`);
    assert.equal(JSON.parse(readFileSync(join(dir, `client.test!b.test!${begin}!${begin + 86400}.json`), "utf8"))["report-id"], `2026-12-05.b.test.${begin}@client.test`);
  });
  it("refuses a date that is not one (100), and writes nothing", async () => {
    for (const d of ["2026-02-30", "yesterday", "../x"]) {
      const r = await runQm(["tlsrpt", d], { env: { QMHOME: home } });
      assert.equal(r.code, 100, d);
      assert.match(r.stderr.toString(), /^qm tlsrpt: fatal: .* is not a date \(YYYY-MM-DD\)/);
    }
  });
});
