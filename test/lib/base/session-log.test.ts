import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { refusedWhat, sessionLine } from "../../../core/lib/base/session-log.ts";
import { parsePathArg } from "../../../core/lib/smtpd/address.ts";

const address = (arg: string, key: "FROM" | "TO") => {
  const p = parsePathArg(arg, key);
  return p.ok ? p.value.addr : null;
};
const T = { sender: "a@c.test", recipients: ["x@y"] };

describe("refusedWhat()", () => {
  it("names the command, the address and the transaction", () => {
    const CASES = [
      ["MAIL FROM:<b@c>", "MAIL <b@c>"],
      ["rcpt to:<v@e.test> NOTIFY=NEVER", "RCPT <v@e.test> from <a@c.test>"],
      ["DATA", "DATA from <a@c.test> rcpts 1"],
      ["ehlo", "EHLO"],
      ["AUTH PLAIN AGpvZQBzM2NyZXQ=", "AUTH"],
      ["RCPT TO:<unclosed here", "RCPT TO:<unclosed_here from <a@c.test>"],
    ] as const;
    for (const [line, want] of CASES) assert.equal(refusedWhat(line, false, T, address), want, line);
  });
  it("never repeats a line sent during AUTH (a credential)", () => {
    assert.equal(refusedWhat("czNjcmV0", true, T, address), "AUTH");
    assert.equal(refusedWhat("czNjcmV0", true, T, address, "joe\nx y"), "AUTH user joe/x_y", "LOGIN's user name, never the password line");
  });
  it("keeps hostile bytes out and lines short", () => {
    const CASES = ["MAIL FROM:<a\nb@c>", `RCPT TO:<${"x".repeat(5000)}@e>`, "\x1b[31mX Y", `${"V".repeat(100)} x`, "MAIL FROM:<a b@c>", "%n%n%s"];
    for (const line of CASES) {
      const w = refusedWhat(line, false, T, address);
      assert.doesNotMatch(w, /[\x00-\x1f\x7f-\xff%]/, JSON.stringify(line));
      assert.ok(w.length < 700, `${w.length}`);
    }
  });
});

describe("sessionLine", () => {
  it("writes one line whatever the client sent", () => {
    const lines = [
      sessionLine.auth("1.1", "192.0.2.1", "failed", "joe\nsmtpd: 1.1 auth ok 10.0.0.1 user x", "PLAIN", "dovecot"),
      sessionLine.refused("smtpd", "1.1", "192.0.2.1", "RCPT <a>", "553 5.7.1 no\r\nfake line"),
      sessionLine.accepted("qmqpd", "1.1", "192.0.2.1", { maildrop: "a b\nc" }, "s\n@x", 2),
      sessionLine.starttls("1.1", "192.0.2.1", "TLSv1.3", "X Y"),
    ];
    for (const l of lines) assert.doesNotMatch(l, /[\r\n]/, l);
    assert.equal(lines[0], "smtpd: 1.1 auth failed 192.0.2.1 user joe/smtpd:_1.1_auth_ok_10.0.0.1_user_x mech PLAIN via dovecot");
    assert.equal(sessionLine.accepted("smtpd", "9.2", "::1", { id: 7 }, "a@b", 1, "joe smith"), "smtpd: 9.2 accepted ::1 msg 7 from <a@b> rcpts 1 user joe_smith");
    assert.equal(sessionLine.tls("9.2", "::1", "TLSv1.3", "TLS_AES_256_GCM_SHA384"), "smtpd: 9.2 tls ::1 TLSv1.3 TLS_AES_256_GCM_SHA384");
    assert.equal(sessionLine.accepted("smtpd", "9.2", "::1", { id: 123 }, "", 3), "smtpd: 9.2 accepted ::1 msg 123 from <> rcpts 3");
  });
});
