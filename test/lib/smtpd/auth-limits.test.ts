import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AUTH_DELAY_MAX_MS, FailureWindow, failureDelayMs } from "../../../core/lib/smtpd/auth-limits.ts";

describe("failureDelayMs()", () => {
  it("doubles from 500 ms with each failure of a session, up to the cap; none for no failure or a cap of 0", () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50, 10_000].map((n) => failureDelayMs(n, AUTH_DELAY_MAX_MS)), [0, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    assert.equal(failureDelayMs(3, 0), 0);
    assert.equal(failureDelayMs(3, 700), 700);
    assert.ok(Number.isFinite(failureDelayMs(Number.MAX_SAFE_INTEGER, 1e9)));
  });
  it("makes ten failures in one session cost about a minute by default", () => {
    const total = Array.from({ length: 10 }, (_, i) => failureDelayMs(i + 1, AUTH_DELAY_MAX_MS)).reduce((a, b) => a + b, 0);
    assert.ok(total >= 55_000 && total <= 64_000, String(total));
  });
});

describe("FailureWindow", () => {
  it("counts an address's failures over the last hour only", () => {
    const w = new FailureWindow();
    const t0 = 1_000_000_000;
    for (let i = 0; i < 5; i++) w.note("192.0.2.1", t0 + i * 60_000);
    w.note("192.0.2.2", t0);
    assert.equal(w.count("192.0.2.1", t0 + 5 * 60_000), 5);
    assert.equal(w.count("192.0.2.1", t0 + 3_600_000 + 120_001), 2, "the first three are over an hour old");
    assert.equal(w.count("192.0.2.2", t0 + 3_600_001), 0);
    assert.equal(w.count("198.51.100.7", t0), 0);
  });
  it("remembers at most its limit of addresses, forgetting the least recent first", () => {
    const w = new FailureWindow(3);
    for (const ip of ["a", "b", "c"]) w.note(ip, 1);
    w.note("a", 2); // a is recent again
    w.note("d", 3);
    assert.equal(w.size, 3);
    assert.equal(w.count("b", 4), 0, "b was forgotten");
    assert.equal(w.count("a", 4), 2);
  });
  it("keeps a bounded record for one address under a flood", () => {
    const w = new FailureWindow();
    for (let i = 0; i < 5000; i++) w.note("x", i);
    assert.equal(w.count("x", 5000), 1000);
  });
});
