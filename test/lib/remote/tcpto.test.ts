import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { addressBytes, emptyTable, isDown, recordAttempt, RECORDS, TABLE_SIZE } from "../../../core/lib/remote/tcpto.ts";

describe("addressBytes()", () => {
  it("maps IPv4 into ::ffff:0:0/96 and parses IPv6 forms", () => {
    assert.deepEqual([...addressBytes("1.2.3.4")!], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]);
    assert.deepEqual(addressBytes("::ffff:1.2.3.4"), addressBytes("1.2.3.4"));
    assert.deepEqual([...addressBytes("::1")!], [...Array(15).fill(0), 1]);
    assert.deepEqual([...addressBytes("2001:db8::")!].slice(0, 4), [0x20, 0x01, 0x0d, 0xb8]);
  });
  it("refuses what is not an address", () => {
    for (const bad of ["", "1.2.3", "1.2.3.999", "::1::2", "1:2:3:4:5:6:7:8:9", "gggg::", "x"]) assert.equal(addressBytes(bad), null, bad);
  });
});

describe("isDown() / recordAttempt()", () => {
  const pid = 0; // window (60 + 0) << 6 = 3840 s
  it("needs two timeouts at least 120 s apart", () => {
    let t = recordAttempt(emptyTable(), "10.0.0.1", true, 1000);
    assert.equal(isDown(t, "10.0.0.1", 1001, pid), false);
    t = recordAttempt(t, "10.0.0.1", true, 1100); // within 120 s: not counted
    assert.equal(isDown(t, "10.0.0.1", 1101, pid), false);
    t = recordAttempt(t, "10.0.0.1", true, 1200);
    assert.equal(isDown(t, "10.0.0.1", 1201, pid), true);
    assert.equal(isDown(t, "10.0.0.1", 1200 + 3839, pid), true);
    assert.equal(isDown(t, "10.0.0.1", 1200 + 3840, pid), false);
    assert.equal(isDown(t, "10.0.0.2", 1201, pid), false);
  });
  it("forgets a host after a successful or refused connection", () => {
    let t = recordAttempt(recordAttempt(emptyTable(), "::1", true, 0), "::1", true, 500);
    assert.equal(isDown(t, "::1", 501, pid), true);
    t = recordAttempt(t, "::1", false, 600);
    assert.equal(isDown(t, "::1", 601, pid), false);
  });
  it("evicts the stalest record when all slots are used, and stays the same size", () => {
    let t = emptyTable();
    for (let i = 0; i < RECORDS + 5; i++) t = recordAttempt(t, `10.0.${i >> 8}.${i & 255}`, true, 1000 + i);
    assert.equal(t.length, TABLE_SIZE);
    t = recordAttempt(t, "10.0.0.200", true, 5000);
    t = recordAttempt(t, "10.0.0.200", true, 5200);
    assert.equal(isDown(t, "10.0.0.200", 5201, pid), true);
  });
  it("treats a table of the wrong size as empty", () => {
    assert.equal(isDown(new Uint8Array(7), "1.2.3.4", 0, pid), false);
    assert.equal(recordAttempt(new Uint8Array(7), "1.2.3.4", true, 0).length, TABLE_SIZE);
  });
});
