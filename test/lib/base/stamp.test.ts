import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { severity, stamp } from "../../../core/lib/base/stamp.ts";

describe("stamp()", () => {
  it("writes ISO 8601 in UTC with milliseconds", () => {
    assert.equal(stamp("iso", Date.UTC(2026, 11, 6, 14, 50, 33, 123)), "2026-12-06T14:50:33.123Z ");
    assert.equal(stamp("iso", 0), "1970-01-01T00:00:00.000Z ");
  });
  it("writes multilog's TAI64N label: 2^62 + 10 + seconds, then nanoseconds", () => {
    assert.equal(stamp("tai64n", 0), "@400000000000000a00000000 ");
    // 2026-12-06T14:50:33.123Z = 1796568633 s
    assert.equal(stamp("tai64n", 1796568633123), `@${(0x4000000000000000n + 10n + 1796568633n).toString(16)}${(123_000_000).toString(16).padStart(8, "0")} `);
    assert.match(stamp("tai64n", Date.now()), /^@4000[0-9a-f]{20} $/);
  });
  it("writes nothing for none", () => assert.equal(stamp("none", 123), ""));
});

describe("severity()", () => {
  it("maps qm's class words to syslog severities, behind a part's name too", () => {
    const CASES = [
      ["new msg 5", 6],
      ["warning: trouble", 4],
      ["smtpd: warning: trouble", 4],
      ["alert: cannot start", 1],
      ["start: fatal: x", 3],
      ["delivery 3: failure: warning:_x", 6],
      ["smtpd: 1.1 refused 1.2.3.4 RCPT <a@b>: 553 5.7.1 sorry", 6],
    ] as const;
    for (const [line, want] of CASES) assert.equal(severity(line), want, line);
  });
});
