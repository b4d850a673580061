import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, chownSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { appendRpt, readRptDay } from "../../../core/io/tls/rpt-store.ts";
import { RPT_LINE_MAX, type RptRecord } from "../../../core/lib/tls/rpt.ts";
import { tempDir } from "../../support/qm.ts";

const T = Date.UTC(2026, 11, 6, 12);
const rec = (ok: boolean): RptRecord => ({
  time: T, domain: "x.test", policyType: "no-policy-found", policyString: [], mxHost: [], ok, resultType: ok ? undefined : "starttls-not-supported", receivingIp: "192.0.2.1", receivingMx: "mx.x.test",
});

describe("the TLS-RPT store", () => {
  it("appends one line a session to the day's file (mode 0600) and reads them back, skipping torn and overlong lines", async () => {
    const dir = tempDir("qm-rpt-");
    try {
      assert.equal(await appendRpt(dir, rec(true)), true);
      appendFileSync(join(dir, "2026-12-06"), `{"t":1,"d":"x.te\n${"y".repeat(RPT_LINE_MAX * 40)}\nnot json\n`);
      assert.equal(await appendRpt(dir, rec(false)), true);
      assert.equal(statSync(join(dir, "2026-12-06")).mode & 0o777, 0o600);
      assert.equal(readFileSync(join(dir, "2026-12-06"), "utf8").split("\n").length, 6);
      const got: RptRecord[] = [];
      assert.deepEqual(await readRptDay(dir, "2026-12-06", (r) => got.push(r)), { kind: "ok", bad: 3 });
      assert.deepEqual(got.map((r) => r.ok), [true, false]);
      assert.deepEqual(await readRptDay(dir, "2026-12-07", () => {}), { kind: "missing" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("run by root, gives a new day's file to the directory's owner (the remote user)", { skip: process.geteuid?.() !== 0 && "needs root" }, async () => {
    const dir = tempDir("qm-rpt-");
    try {
      chownSync(dir, 65534, 65534);
      assert.equal(await appendRpt(dir, rec(true)), true);
      const st = statSync(join(dir, "2026-12-06"));
      assert.deepEqual([st.uid, st.gid], [65534, 65534]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("loses a record it cannot write, without an error", async () => {
    assert.equal(await appendRpt("/nonexistent/qm-rpt", rec(true)), false);
  });
});
