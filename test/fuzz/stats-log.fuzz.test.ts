// qm stats reads whatever is in a log file: mutated qm lines, garbage, other
// programs' lines. Nothing may throw, every count stays whole and bounded,
// and the page made from it keeps its three script elements.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseLine } from "../../core/lib/stats/line.ts";
import { addEvent, newTally } from "../../core/lib/stats/tally.ts";
import { makeReport } from "../../core/lib/stats/report.ts";
import { formatReport } from "../../core/lib/stats/format.ts";
import { renderHtml } from "../../core/lib/stats/html.ts";
import { params } from "../support/fuzz.ts";

const REAL = [
  "new msg 2155741", "info msg 2155741: bytes 230 from <a@example.test> qp 26894 uid 0", "starting delivery 1: msg 2155741 to local root@example.test",
  "delivery 1: success: did_1+0+0/", "delivery 2: failure: Sorry,_no_mailbox_here_by_that_name._(#5.1.1)/", "delivery 3: deferral: x/", "bounce msg 2155475 qp 26793",
  "end msg 2155741", "info maildrop/1.2.3 uid 65534 queued as 2155741", "smtpd: 812.4 connect 192.0.2.7 port 41234 to 198.51.100.1 port 25",
  "smtpd: 812.4 auth ok 192.0.2.7 user joe", "smtpd: 812.4 refused 192.0.2.7 RCPT <x@y>: 553 5.7.1 no", "smtpd: 812.4 accepted 192.0.2.7 msg 2155741 from <a@b> rcpts 1",
  "start: send started, pid 1",
];
const STAMPS = ["", "2026-12-06T14:50:33.123Z ", "@4000000069344b4307558c00 ", "Dec  6 14:50:33 mx qm[1]: ", "2026-12-06T14:50:33.5+01:00 mx qm: ", "9999-99-99T99:99:99.999Z "];

const line = fc.oneof(
  fc.tuple(fc.constantFrom(...STAMPS), fc.constantFrom(...REAL), fc.nat(60), fc.string({ maxLength: 8 })).map(([s, l, at, junk]) => s + l.slice(0, at) + junk + l.slice(at)),
  fc.tuple(fc.constantFrom(...STAMPS), fc.constantFrom(...REAL)).map(([s, l]) => s + l.replace(/\d+/g, (d) => (d.length % 2 ? "9".repeat(25) : d))),
  fc.string({ maxLength: 300 }),
);

describe("qm stats over hostile logs", () => {
  it("never throws; counts are whole numbers; the page keeps its script elements", () => {
    fc.assert(fc.property(fc.array(line, { maxLength: 60 }), (lines) => {
      const t = newTally();
      for (const l of lines) {
        const p = parseLine(l, 2026);
        addEvent(t, p.event, p.ms);
      }
      const r = makeReport(t);
      assert.equal(r.lines, lines.length);
      for (const n of [r.messages.in, r.messages.out, r.recipients, r.smtp.sessions, ...r.histogram.counts]) assert.ok(Number.isSafeInteger(n) && n >= 0);
      assert.ok(r.series.in.length <= 1440);
      formatReport(r);
      assert.equal(renderHtml(r, { js: "", css: "" }).split("</script>").length - 1, 3);
    }), params(300));
  });
});
