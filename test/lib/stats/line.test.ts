import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_LINE, parseEvent, parseLine } from "../../../core/lib/stats/line.ts";
import { stamp } from "../../../core/lib/base/stamp.ts";

const MS = Date.UTC(2026, 11, 6, 14, 50, 33, 123);

describe("parseLine()", () => {
  it("reads qm start's ISO and TAI64N stamps (core/lib/base/stamp.ts) back to the millisecond", () => {
    for (const mode of ["iso", "tai64n"] as const) {
      for (const ms of [MS, 0, Date.UTC(2106, 1, 7, 6, 28, 16), MS + 999]) {
        assert.deepEqual(parseLine(`${stamp(mode, ms)}end msg 7`, 2026), { ms, event: { t: "end", id: 7 } }, `${mode} ${ms}`);
      }
    }
  });
  it("reads syslog lines of the tag qm: RFC 3164 (the year passed in) and RFC 3339", () => {
    assert.deepEqual(parseLine("Dec  6 14:50:33 mx qm[812]: new msg 3562048", 2026), { ms: Date.UTC(2026, 11, 6, 14, 50, 33), event: { t: "new", id: 3562048 } });
    assert.deepEqual(parseLine("2026-12-06T14:50:33.123456+01:00 mx qm[812]: end msg 9", 2026), { ms: MS - 3_600_000, event: { t: "end", id: 9 } });
    assert.deepEqual(parseLine("Dec  6 14:50:33 mx postfix/smtpd[1]: new msg 5", 2026).event, null, "another program's line");
  });
  it("takes a line without a stamp (qm send's own output, --log none) with ms null", () => {
    assert.deepEqual(parseLine("new msg 5", 2026), { ms: null, event: { t: "new", id: 5 } });
  });
  it("gives null for garbage, wrong stamps and truncated lines, never throwing", () => {
    for (const bad of ["", "garbage", "2026-13-45T99:99:99.000Z new msg 1", "2026-12-06T14:50:33.123Z", "@4000zz new msg 1", "@400000006934 new msg 1",
      "Foo  6 14:50:33 mx qm: new msg 1", "2026-12-06T14:50:33.123Z new msg", "2026-12-06T14:50:33.123Z info msg 5: bytes 1 from <a", "new msg 99999999999999999999",
      "2026-12-06T14:50:33.123Z delivery x: success: y", "\0\0\0", "2026-12-06T14:50:33.123Z smtpd: 1.1 auth maybe 1.2.3.4 user x"]) {
      assert.equal(parseLine(bad, 2026).event, null, JSON.stringify(bad));
    }
  });
  it(`looks at ${MAX_LINE} bytes of a line at most`, () => {
    const text = "x".repeat(10 * MAX_LINE);
    const e = parseLine(`${stamp("iso", MS)}delivery 3: deferral: ${text}`, 2026).event;
    assert.ok(e && e.t === "result");
    assert.equal(e.text.length, MAX_LINE - 25 - "delivery 3: deferral: ".length);
  });
  it("never throws and gives a finite time or null, whatever the line (property)", () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), fc.constantFrom("", "2026-12-06T14:50:33.123Z ", "@4000000069344b4307558c00 ", "Dec  6 14:50:33 h qm: "), (s, pre) => {
      const l = parseLine(pre + s, 2026);
      assert.ok(l.ms === null || Number.isFinite(l.ms));
    }));
  });
});

describe("parseEvent()", () => {
  it("reads each line of qm-log(5)", () => {
    const table: [string, unknown][] = [
      ["new msg 3562048", { t: "new", id: 3562048 }],
      ["info msg 3562048: bytes 226 from <a@example.test> qp 4485 uid 0", { t: "info", id: 3562048, bytes: 226, sender: "a@example.test", qp: 4485, uid: 0 }],
      ["info msg 5: bytes 743 from <> qp 26793 uid 0", { t: "info", id: 5, bytes: 743, sender: "", qp: 26793, uid: 0 }],
      ["starting delivery 1: msg 3562048 to local bob@example.test", { t: "start", d: 1, id: 3562048, channel: "local", rcpt: "bob@example.test" }],
      ["starting delivery 4: msg 2155491 to remote x@remote.invalid", { t: "start", d: 4, id: 2155491, channel: "remote", rcpt: "x@remote.invalid" }],
      ["delivery 1: success: did_1+0+0/", { t: "result", d: 1, outcome: "success", text: "did_1+0+0/" }],
      ["delivery 2: failure: Sorry,_no_mailbox_here_by_that_name._(#5.1.1)/", { t: "result", d: 2, outcome: "failure", text: "Sorry,_no_mailbox_here_by_that_name._(#5.1.1)/" }],
      ["delivery 3: deferral: Connected_to_192.0.2.1_but_connection_died._(#4.4.2)/", { t: "result", d: 3, outcome: "deferral", text: "Connected_to_192.0.2.1_but_connection_died._(#4.4.2)/" }],
      ["delivery 9: report mangled, will defer", { t: "result", d: 9, outcome: "mangled", text: "report mangled" }],
      ["bounce msg 2155475 qp 26793", { t: "bounce", id: 2155475, qp: 26793 }],
      ["end msg 2155475", { t: "end", id: 2155475 }],
      ["info maildrop/1796577035300.812.e366 uid 107 queued as 3562049", { t: "maildrop", name: "1796577035300.812.e366", uid: 107, id: 3562049 }],
      ["start: send started, pid 26793", { t: "restart" }],
      ["status: exiting", { t: "restart" }],
      ["status: local 1/10 remote 3/20", { t: "status", local: 1, localMax: 10, remote: 3, remoteMax: 20 }],
      ["status: local 0/10 remote 0/20 exitasap", { t: "status", local: 0, localMax: 10, remote: 0, remoteMax: 20 }],
      ["smtpd: 812.4 connect 192.0.2.7 port 41234 to 198.51.100.1 port 25", { t: "connect", sid: "812.4", ip: "192.0.2.7" }],
      ["smtpd: 812.4 starttls 192.0.2.7 TLSv1.3 TLS_AES_256_GCM_SHA384", { t: "starttls", sid: "812.4" }],
      ["smtpd: 812.4 auth failed 192.0.2.7 user joe", { t: "auth", sid: "812.4", ok: false, user: "joe" }],
      ["smtpd: 812.4 auth ok 192.0.2.7 user joe", { t: "auth", sid: "812.4", ok: true, user: "joe" }],
      ["smtpd: 812.4 refused 192.0.2.7 RCPT <x@bad_domain> from <joe@example.test>: 553 5.1.2 bad recipient address: ...", { t: "refused", sid: "812.4", ip: "192.0.2.7", verb: "RCPT", reply: "553 5.1.2 bad recipient address: ..." }],
      ["smtpd: 9.1 refused ::1 (line too long): 500 5.5.2 line too long", { t: "refused", sid: "9.1", ip: "::1", verb: "(line too long)", reply: "500 5.5.2 line too long" }],
      ["smtpd: 812.4 accepted 192.0.2.7 maildrop/1796577035300.812.e366 from <joe@example.test> rcpts 1", { t: "accepted", sid: "812.4", ip: "192.0.2.7", where: "maildrop/1796577035300.812.e366", rcpts: 1, user: null }],
      ["qmqpd: 3.2 accepted 10.0.0.1 msg 77 from <> rcpts 3", { t: "accepted", sid: "3.2", ip: "10.0.0.1", where: "msg 77", rcpts: 3, user: null }],
      ["smtpd: 3.3 accepted 10.0.0.1 msg 78 from <j@x> rcpts 1 user joe", { t: "accepted", sid: "3.3", ip: "10.0.0.1", where: "msg 78", rcpts: 1, user: "joe" }],
      ["smtpd: 3.3 auth ok 10.0.0.1 user joe mech PLAIN via dovecot", { t: "auth", sid: "3.3", ok: true, user: "joe" }],
      ["smtpd: 3.4 tls 10.0.0.1 TLSv1.3 TLS_AES_256_GCM_SHA384", { t: "starttls", sid: "3.4" }],
    ];
    for (const [line, want] of table) assert.deepEqual(parseEvent(line), want, line);
  });
  it("ignores the lines it does not count", () => {
    for (const line of ["warning: trouble", "alert: cannot start", "smtpd: listening on 127.0.0.1:25", "smtpd: 1.1 dropped 1.2.3.4: timeout", "start: stopping"]) {
      assert.equal(parseEvent(line), null, line);
    }
  });
});
