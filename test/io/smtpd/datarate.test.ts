import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MIN_DATA_RATE, parseDataRate } from "../../../core/io/smtpd/controls.ts";

// control/mindatarate's one line: RATE or RATE:WINDOW; anything else is an error the session answers with 421.
describe("control/mindatarate", () => {
  it("RATE and RATE:WINDOW; absent is Postfix's 500 bytes a second after a minute", () => {
    assert.deepEqual(parseDataRate(null), { kind: "ok", value: MIN_DATA_RATE });
    assert.deepEqual(parseDataRate("1000"), { kind: "ok", value: { rate: 1000, window: 60 } });
    assert.deepEqual(parseDataRate("0:5"), { kind: "ok", value: { rate: 0, window: 5 } });
    assert.deepEqual(parseDataRate(" 200:1 "), { kind: "ok", value: { rate: 200, window: 1 } });
  });
  it("refuses junk, negatives, fractions, units and huge numbers with the line in the reason", () => {
    for (const bad of ["", "fast", "-1", "1.5", "500:", ":60", "500:60:1", "500 bytes", "9999999999", "1:9999999", "5\u0000"]) {
      const r = parseDataRate(bad);
      assert.equal(r.kind, "temp", bad);
      if (r.kind === "temp") assert.match(r.reason, /^control\/mindatarate: .* is not RATE or RATE:WINDOW/);
    }
  });
});
