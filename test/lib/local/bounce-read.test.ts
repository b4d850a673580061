import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_BOUNCE, MAX_PARTS, MAX_RECIPIENTS, readBounce, verpRecipient } from "../../../core/lib/local/bounce-read.ts";
import { bounceParagraph, planBounce } from "../../../core/lib/send/bounce.ts";
import { buildNotice } from "../../../core/lib/send/notice.ts";

const REPORT = [
  "From: MAILER-DAEMON@mx.test",
  'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
  "",
  "--B",
  "Content-Type: text/plain",
  "",
  "sorry",
  "--B",
  "Content-Type: message/delivery-status",
  "",
  "Reporting-MTA: dns; mx.test",
  "",
  "Final-Recipient: rfc822; <joe@x.test>",
  "Action: failed",
  "Status: 5.1.1 (no such user)",
  "",
  "Final-Recipient: rfc822; ann@x.test",
  "Action: delayed",
  "Status: 4.4.1",
  "--B--",
  "",
].join("\r\n");

describe("verpRecipient()", () => {
  const CASES: [string, string | null][] = [["joe=x.test", "joe@x.test"], ["a=b=c.test", "a=b@c.test"], ["nobody", null], ["=x", null], ["x=", null]];
  for (const [ext, want] of CASES) it(`${ext} -> ${want}`, () => assert.equal(verpRecipient(ext), want));
});

describe("readBounce()", () => {
  it("reads an RFC 3464 report's failed recipients (not the delayed ones), CRLF or not", () => {
    assert.deepEqual(readBounce(REPORT, null), { via: "rfc3464", failed: [{ addr: "joe@x.test", action: "failed", status: "5.1.1" }] });
    assert.deepEqual(readBounce(REPORT.replace(/\r\n/g, "\n"), null).failed.length, 1);
  });
  it("reads the report qm send itself makes", () => {
    const C = { bouncefrom: "MAILER-DAEMON", bouncehost: "h.test", doublebounceto: "pm", doublebouncehost: "h.test", maxbytes: 1000 };
    const plan = planBounce("owner-joe=x.test@list.test", C);
    assert.ok(plan.kind === "single");
    const n = buildNotice(plan, bounceParagraph("joe@x.test", "1.2.3.4 does not like recipient.\nRemote host said: 550 5.1.1 gone\n"), { action: "failed", controls: C, me: "h.test", nowMs: 0, id: 1, birth: 0, nonce: "n" });
    assert.deepEqual(readBounce(`${n.head}Subject: x\n\nbody\n${n.tail}`, null), { via: "rfc3464", failed: [{ addr: "joe@x.test", action: "failed", status: "5.1.1" }] });
  });
  it("reads QSBMF text", () => {
    const q = "Subject: failure notice\n\nHi. This is the qmail-send program at mx.test.\nI'm afraid...\n\n<joe@x.test>:\nSorry, no mailbox here by that name. (#5.1.1)\n\nann@x.test:\n1.2.3.4 does not like recipient.\nRemote host said: 550 5.7.1 no\n\n--- Below this line is a copy of the message.\n\nann@y.test:\nnot a paragraph\n";
    assert.deepEqual(readBounce(q, "joe=x.test"), { via: "qsbmf", failed: [{ addr: "joe@x.test", action: "failed", status: "5.1.1" }, { addr: "ann@x.test", action: "failed", status: "5.7.1" }] });
  });
  it("falls back to the VERP address for any other form, and says none without one", () => {
    const other = "Subject: Undelivered Mail\n\nThis message was created automatically by mail delivery software.\n  joe@x.test\n    unrouteable\n";
    assert.deepEqual(readBounce(other, "joe@x.test"), { via: "verp", failed: [{ addr: "joe@x.test", action: "failed", status: "5.0.0" }] });
    assert.deepEqual(readBounce(other, null), { via: "none", failed: [] });
  });
  it("stops at MAX_PARTS parts and the depth limit, and names at most MAX_RECIPIENTS", () => {
    const many = `Content-Type: multipart/mixed; boundary=b\n\n${"--b\nContent-Type: text/plain\n\nx\n".repeat(MAX_PARTS * 10)}--b--\n`;
    assert.deepEqual(readBounce(many, "a=b.test").via, "verp");
    let deep = REPORT.replace(/\r\n/g, "\n");
    for (let i = 0; i < 10; i++) deep = `Content-Type: multipart/mixed; boundary="L${i}"\n\n--L${i}\n${deep}\n--L${i}--\n`;
    assert.deepEqual(readBounce(deep, null).via, "none", "the report sits below the depth limit");
    const blocks = Array.from({ length: MAX_RECIPIENTS + 50 }, (_, i) => `Final-Recipient: rfc822;u${i}@x.test\nAction: failed\nStatus: 5.1.1\n`).join("\n");
    const big = `Content-Type: multipart/report; boundary=B\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns;m\n\n${blocks}--B--\n`;
    assert.equal(readBounce(big, null).failed.length, MAX_RECIPIENTS);
  });
  it("writes hostile addresses and statuses as printable ASCII, and reads only MAX_BOUNCE bytes", () => {
    const evil = REPORT.replace("<joe@x.test>", "jo\u00ffe\r@x.test").replace("5.1.1 (no such user)", "5.1.1\u0000x");
    const r = readBounce(evil, null);
    assert.match(r.failed[0]!.addr, /^[\x21-\x7e]+$/);
    assert.equal(readBounce(`${"X-Pad: y\n".repeat(MAX_BOUNCE / 9 + 10)}\n${REPORT}`, null).via, "none");
  });
});
