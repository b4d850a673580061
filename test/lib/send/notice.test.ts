import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bounceParagraph, planBounce, type BounceControls } from "../../../core/lib/send/bounce.ts";
import { buildNotice, parseParagraphs, statusOf, type NoticeOptions } from "../../../core/lib/send/notice.ts";

const C: BounceControls = { bouncefrom: "MAILER-DAEMON", bouncehost: "mx.example.test", doublebounceto: "postmaster", doublebouncehost: "example.test", maxbytes: 50_000 };
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const O: NoticeOptions = { action: "failed", controls: C, me: "mx.example.test", nowMs: NOW, id: 42, birth: NOW / 1000 - 60 };
const single = () => {
  const p = planBounce("joe@x.test", C);
  assert.ok(p.kind !== "triple");
  return p;
};

describe("parseParagraphs()", () => {
  it("reads bounce/<id> back: recipients and texts, '/' lines blank again", () => {
    const text = bounceParagraph("a@b", "one\n\ntwo\n") + bounceParagraph("c@d", "x\n");
    assert.deepEqual(parseParagraphs(text), [{ addr: "a@b", text: "one\n\ntwo\n" }, { addr: "c@d", text: "x\n" }]);
  });
  it("skips what is not a paragraph", () => {
    assert.deepEqual(parseParagraphs("garbage\n\n:\n\n"), []);
  });
});

describe("statusOf()", () => {
  const CASES: [string, string, string][] = [
    ["1.2.3.4 does not like recipient.\nRemote host said: 550 5.1.1 no user\nGiving up on 1.2.3.4.\n", "failed", "5.1.1"],
    ["Sorry, no mailbox here by that name. (#5.1.1)\n", "failed", "5.1.1"],
    ["Remote host said: 554 go away\n", "failed", "5.0.0"],
    ["Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\nGiving up: the message has been in the queue longer than queuelifetime.\n", "failed", "5.4.7"],
    ["something odd\n", "failed", "5.0.0"],
    ["Connected to 1.2.3.4 but connection died. (#4.4.2)\n", "delayed", "4.4.2"],
    ["did it\n", "delivered", "2.0.0"],
  ];
  for (const [text, action, want] of CASES) it(`${want} for ${JSON.stringify(text.slice(0, 40))}`, () => assert.equal(statusOf(text, action as NoticeOptions["action"]), want));
});

describe("buildNotice()", () => {
  it("is a multipart/report: QSBMF text, delivery-status, the original as message/rfc822", () => {
    const n = buildNotice(single(), bounceParagraph("a@b.test", "b.test does not like recipient.\nRemote host said: 550 5.1.1 gone\n"), O);
    assert.equal(n.headersOnly, false);
    const [header] = n.head.split("\n\n");
    assert.match(header!, /^Message-ID: <1767323045000\.42\.bounce@mx\.example\.test>$/m);
    assert.match(header!, /^Auto-Submitted: auto-replied$/m);
    assert.match(header!, /^Content-Type: multipart\/report; report-type=delivery-status;\n\tboundary="1767323045000\.42\/mx\.example\.test"$/m);
    assert.match(n.head, /\n\nHi\. This is the qmail-send program at mx\.example\.test\.\n/);
    assert.match(n.head, /\nReporting-MTA: dns;mx\.example\.test\nArrival-Date: 2 Jan 2026 03:03:05 -0000\n\nFinal-Recipient: rfc822;a@b\.test\nAction: failed\nStatus: 5\.1\.1\nRemote-MTA: dns;b\.test\nDiagnostic-Code: smtp;550 5\.1\.1 gone\nLast-Attempt-Date: 2 Jan 2026 03:04:05 -0000\n/);
    assert.match(n.head, /\nContent-Type: message\/rfc822\n[^]*\n\nReturn-Path: <joe@x\.test>\n$/);
    assert.equal(n.tail, "\n--1767323045000.42/mx.example.test--\n");
  });
  it("puts the nonce (the runner's random text) into the boundary, so a quoted original cannot guess it", () => {
    const n = buildNotice(single(), bounceParagraph("a@b.test", "no\n"), { ...O, nonce: "Xy_9-z\n\"" });
    assert.match(n.head, /\tboundary="1767323045000\.42\.Xy_9-z\/mx\.example\.test"\n/);
    assert.equal(n.tail, "\n--1767323045000.42.Xy_9-z/mx.example.test--\n");
  });
  it("RET=HDRS: text/rfc822-headers; ENVID and ORCPT are reported", () => {
    const dsn = { ret: "HDRS" as const, envid: "env 1", rcpts: new Map([["a@b.test", { orcpt: "rfc822;A@B.test" }]]) };
    const n = buildNotice(single(), bounceParagraph("a@b.test", "no\n"), { ...O, dsn });
    assert.equal(n.headersOnly, true);
    assert.match(n.head, /\nContent-Type: text\/rfc822-headers\n/);
    assert.match(n.head, /\nOriginal-Envelope-Id: env 1\n/);
    assert.match(n.head, /\n\nOriginal-Recipient: rfc822;A@B\.test\nFinal-Recipient: rfc822;a@b\.test\n/);
  });
  it("delay and success notices quote the header only", () => {
    for (const action of ["delayed", "delivered", "relayed"] as const) {
      const n = buildNotice(single(), bounceParagraph("a@b.test", "ok\n"), { ...O, action });
      assert.equal(n.headersOnly, true);
      assert.match(n.head, new RegExp(`\\nAction: ${action}\\n`));
      assert.match(n.head, /\nMessage-ID: <\d+\.42\.(delayed|delivered|relayed)@/);
    }
  });
  it("keeps field values on one printable line (a hostile remote reply)", () => {
    const n = buildNotice(single(), bounceParagraph("a@b.test", "Remote host said: 550 5.1.1 x\u00ff\r\nInjected: yes\n"), O);
    const status = n.head.slice(n.head.indexOf("Reporting-MTA"));
    assert.match(status, /\nDiagnostic-Code: smtp;550 5\.1\.1 x\?\n/);
    assert.doesNotMatch(status, /^Injected:/m);
  });
  it("control/bouncestyle qsbmf and double bounces: qmail's plain form, with a Message-ID", () => {
    const n = buildNotice(single(), bounceParagraph("a@b", "no\n"), { ...O, controls: { ...C, style: "qsbmf" } });
    assert.equal(n.tail, "");
    assert.doesNotMatch(n.head, /MIME-Version/);
    assert.match(n.head, /\nMessage-ID: <\d+\.42\.bounce@mx\.example\.test>\n/);
    const d = planBounce("", C);
    assert.ok(d.kind === "double");
    assert.match(buildNotice(d, bounceParagraph("a@b", "no\n"), O).head, /--- Below this line is the original bounce\.\n\nReturn-Path: <>\n$/);
  });
});
