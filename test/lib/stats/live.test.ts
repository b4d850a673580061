import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseEvent } from "../../../core/lib/stats/line.ts";
import { newLive, observe, rejectReason } from "../../../core/lib/stats/live.ts";
import { LIMITS } from "../../../core/lib/stats/tally.ts";

function run(lines: readonly [number, string][]) {
  const s = newLive();
  return lines.flatMap(([ms, l]) => observe(s, parseEvent(l)!, ms));
}

describe("observe()", () => {
  it("turns qm-log(5) lines into observations, a delivery's delay from its message's new msg", () => {
    assert.deepEqual(run([
      [0, "new msg 5"], [0, "starting delivery 1: msg 5 to remote a@x"], [1000, "status: local 0/10 remote 1/20"],
      [2500, "delivery 1: deferral: busy/"], [3000, "starting delivery 2: msg 5 to remote a@x"], [4000, "delivery 2: success: ok/"], [4000, "end msg 5"],
      [5000, "smtpd: 1.1 connect 10.0.0.1 port 1 to 10.0.0.2 port 25"], [5000, "smtpd: 1.1 starttls 10.0.0.1 TLSv1.3 X"], [5000, "smtpd: 1.1 auth failed 10.0.0.1 user joe"],
      [5000, "smtpd: 1.1 refused 10.0.0.1 RCPT <a@b> from <c@d>: 553 5.7.1 sorry"], [5000, "smtpd: 1.1 accepted 10.0.0.1 msg 6 from <c@d> rcpts 1"],
    ]), [
      { o: "queued" },
      { o: "concurrency", channel: "local", used: 0, limit: 10 }, { o: "concurrency", channel: "remote", used: 1, limit: 20 },
      { o: "delivery", channel: "remote", outcome: "deferral", delay: null },
      { o: "delivery", channel: "remote", outcome: "success", delay: 4 },
      { o: "done" },
      { o: "session" }, { o: "tls" }, { o: "auth", ok: false }, { o: "reject", reason: "RCPT 553 5.7.1" }, { o: "accepted" },
    ]);
  });
  it("forgets deliveries when qm send starts again, and has no delay for a message it did not see queued", () => {
    assert.deepEqual(run([[0, "starting delivery 1: msg 5 to local a@x"], [1, "start: send started, pid 3"], [2, "delivery 1: success: ok"]]), []);
    assert.deepEqual(run([[0, "starting delivery 1: msg 5 to local a@x"], [2, "delivery 1: failure: no"]]), [{ o: "delivery", channel: "local", outcome: "failure", delay: null }]);
  });
  it(`remembers at most ${LIMITS.open} messages under way`, () => {
    const s = newLive();
    for (let i = 0; i <= LIMITS.open; i++) observe(s, { t: "new", id: i }, 0);
    assert.equal(s.born.size, LIMITS.open);
    assert.equal(s.born.has(0), false);
  });
});

describe("rejectReason()", () => {
  it("keeps the command, the code and the enhanced code; a client's own word is other", () => {
    assert.equal(rejectReason("RCPT", "553 5.7.1 sorry, that domain isn't in my list"), "RCPT 553 5.7.1");
    assert.equal(rejectReason("DATA", "503 RCPT first"), "DATA 503");
    assert.equal(rejectReason("XYZZY", "502 5.5.1 unimplemented"), "other 502 5.5.1");
    assert.equal(rejectReason("constructor", "500 x"), "other 500");
    assert.equal(rejectReason("(line too long)", "garbage"), "(line too long) ?");
  });
});
