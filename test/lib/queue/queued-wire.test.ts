import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { queueFail } from "../../../core/lib/queue/codes.ts";
import { formatHello, formatReply, MAX_CHUNK, MAX_LINE, parseHello, parseLength, parseReply } from "../../../core/lib/queue/queued-wire.ts";

describe("qm queued's words (queued-wire.ts)", { timeout: 10_000 }, () => {
  it("reads back the hello it writes, for every kind of invoker", () => {
    for (const who of ["network", "bounce", "alias", "uid"] as const) {
      const line = formatHello({ uid: 65534, who });
      assert.ok(line.endsWith("\n"));
      assert.deepEqual(parseHello(line.slice(0, -1)), { uid: 65534, who });
    }
    assert.deepEqual(parseHello("1 0 uid"), { uid: 0, who: "uid" });
    assert.deepEqual(parseHello("1 4294967295 network"), { uid: 4294967295, who: "network" });
  });

  it("refuses a hello that is not one", () => {
    for (const bad of ["", "1", "1 65534", "2 65534 network", "1 -1 network", "1 007 network", "1 4294967296 network", "1 99999999999 network", "1 65534 root", "1 65534 Network", "1 65534 network ", " 1 65534 network", "1 65534 network\r", "1 65534 network\nx", "1  65534 network", "1 1e3 uid", "1 0x10 uid", "x".repeat(5000)]) {
      assert.equal(parseHello(bad), null, JSON.stringify(bad));
    }
  });

  it("reads lengths in decimal without leading zeros, within the limit", () => {
    assert.equal(parseLength("0", MAX_CHUNK), 0);
    assert.equal(parseLength("1", MAX_CHUNK), 1);
    assert.equal(parseLength(String(MAX_CHUNK), MAX_CHUNK), MAX_CHUNK);
    for (const bad of ["", "-1", "01", "00", "+5", " 5", "5 ", "1.5", "0x10", "1e3", "٣", String(MAX_CHUNK + 1), "99999999999", "5\r"]) {
      assert.equal(parseLength(bad, MAX_CHUNK), null, JSON.stringify(bad));
    }
  });

  it("carries an id, or a failure with qmail-queue's code and class, both ways", () => {
    assert.equal(formatReply({ kind: "ok", value: { id: 123456 } }), "K123456\n");
    assert.deepEqual(parseReply("K123456"), { kind: "ok", value: { id: 123456 } });
    const full = queueFail(53, "unable to fsync: no space left on device");
    const line = formatReply(full);
    assert.match(line, /^Z53 Write error or disk full: unable to fsync/);
    assert.deepEqual(parseReply(line.slice(0, -1)), full);
    const long = queueFail(11, "address too long or contains NUL");
    assert.match(formatReply(long), /^D11 /);
    assert.deepEqual(parseReply(formatReply(long).slice(0, -1)), long);
  });

  it("keeps a reason on one line and within the line limit", () => {
    const r = formatReply(queueFail(54, `one\r\ntwo\0three ${"x".repeat(5000)}`));
    assert.equal(r.indexOf("\n"), r.length - 1);
    assert.ok(r.length <= MAX_LINE, `${r.length}`);
    assert.ok(!r.includes("\r") && !r.includes("\0"));
  });

  it("never makes a permanent refusal of a reply that is not one", () => {
    for (const bad of ["", "K", "K0", "K-1", "K12a", "Kok", "D", "D11", "Z53", "X53 text", "D53 a temporary code in a D line", "Z11 a permanent code in a Z line", "D011 text", "Z9999 text", "k1"]) {
      const r = parseReply(bad);
      assert.equal(r.kind, "temp", `${JSON.stringify(bad)}: ${JSON.stringify(r)}`);
    }
  });
});
