import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseFields } from "../../../core/lib/base/header.ts";
import { parseInjectArgs } from "../../../core/lib/inject/args.ts";
import { readInjectEnv } from "../../../core/lib/inject/env.ts";
import { prepareHeader, type Prepared } from "../../../core/lib/inject/header.ts";
import type { Result } from "../../../core/lib/base/result.ts";

const NOW = Date.UTC(2026, 10, 29, 9, 5, 7);
const DATE = "29 Nov 2026 09:05:07 -0000";
const HOSTS = { defaulthost: "dhost.test", defaultdomain: "ddom.test", plusdomain: "pdom.test" };

function run(header: string, argv: string[] = [], env: Record<string, string> = {}, mft: string[] | null = null): Result<Prepared> {
  const opts = parseInjectArgs(argv);
  assert.equal(opts.kind, "ok");
  if (opts.kind !== "ok") throw new Error("unreachable");
  return prepareHeader(parseFields(header), opts.value, { hosts: HOSTS, idhost: "id.test", env: readInjectEnv({ USER: "joe", ...env }), mft, now: NOW, pid: 42 });
}
function good(header: string, argv: string[] = [], env: Record<string, string> = {}, mft: string[] | null = null): Prepared {
  const r = run(header, argv, env, mft);
  assert.equal(r.kind, "ok", r.kind === "ok" ? "" : r.reason);
  if (r.kind !== "ok") throw new Error("unreachable");
  return r.value;
}

describe("prepareHeader()", () => {
  it("adds Date, Message-ID, From and Cc, in that order, before the original fields", () => {
    const p = good("Subject: hi\n", ["a@x.test"]);
    assert.equal(p.header, `Date: ${DATE}\nMessage-ID: <20261129090507.42.qm@id.test>\nFrom: joe@dhost.test\nCc: recipient list not shown: ;\nSubject: hi\n`);
    assert.equal(p.sender, "joe@dhost.test");
    assert.deepEqual(p.recipients, ["a@x.test"]);
  });
  it("adds nothing that is already there", () => {
    const h = "Date: yesterday\nMessage-ID: <x@y>\nFrom: a@x.test\nTo: b@x.test\n";
    assert.equal(good(h, ["c@x.test"]).header, h);
  });
  it("drops Bcc, Resent-Bcc when resent, Return-Path and Content-Length, keeps Apparently-To", () => {
    const p = good("To: a@x.test\nBcc: b@x.test\nApparently-To: c@x.test\nReturn-Path: <r@x.test>\nContent-Length: 3\nDate: d\nMessage-ID: m\nFrom: f@x.test\n", ["-h"]);
    assert.equal(p.header, "To: a@x.test\nApparently-To: c@x.test\nDate: d\nMessage-ID: m\nFrom: f@x.test\n");
    assert.deepEqual(p.recipients, ["a@x.test", "b@x.test", "c@x.test"]);
    assert.equal(p.sender, "r@x.test");
  });
  it("rewrites every address field with defaulthost, plusdomain and defaultdomain", () => {
    const p = good("To: joe, Eric <eric@mammoth+>\nReply-To: djb@silverton\nX-Other: joe\n", ["-h"]);
    assert.match(p.header, /^To: joe@dhost\.test, Eric <eric@mammoth\.pdom\.test>\nReply-To: djb@silverton\.ddom\.test\nX-Other: joe\n/m);
    assert.deepEqual(p.recipients, ["joe@dhost.test", "eric@mammoth.pdom.test"]);
  });
  it("handles a resent message: recipients from Resent- fields, Resent- fields added", () => {
    const p = good("To: orig@x.test\nResent-To: new@x.test\nResent-Bcc: hidden@x.test\nDate: d\n", ["-h"]);
    assert.deepEqual(p.recipients, ["new@x.test", "hidden@x.test"]);
    assert.equal(p.header, `Resent-Date: ${DATE}\nResent-Message-ID: <20261129090507.42.qm@id.test>\nResent-From: joe@dhost.test\nTo: orig@x.test\nResent-To: new@x.test\nDate: d\n`);
  });
  it("adds Resent-Cc when a resent message names no Resent-To or Resent-Cc", () => {
    assert.match(good("Resent-From: a@x.test\n", ["b@x.test"]).header, /^Resent-Cc: recipient list not shown: ;$/m);
  });
  const MODES = [
    [["arg@x.test"], ["arg@x.test"]],
    [[], ["to@x.test", "bcc@x.test"]],
    [["-a", "arg@x.test"], ["arg@x.test"]],
    [["-a"], []],
    [["-h", "arg@x.test"], ["to@x.test", "bcc@x.test"]],
    [["-H", "arg@x.test"], ["to@x.test", "bcc@x.test", "arg@x.test"]],
    [["-A", "arg@x.test"], ["arg@x.test"]],
  ] as const;
  for (const [argv, want] of MODES) {
    it(`takes recipients ${JSON.stringify(want)} with ${JSON.stringify(argv)}`, () => {
      assert.deepEqual(good("To: to@x.test\nBcc: bcc@x.test\n", [...argv]).recipients, want);
    });
  }
  it("takes the sender from -f over Return-Path over the default", () => {
    assert.equal(good("Return-Path: <rp@x.test>\n", ["-f", "f@x.test", "a@x.test"]).sender, "f@x.test");
    assert.equal(good("Return-Path: <rp@x.test>\nReturn-Path: <second@x.test>\n", ["a@x.test"]).sender, "rp@x.test");
    assert.equal(good("", ["-f", "<>", "a@x.test"]).sender, "");
    assert.equal(good("", ["-f", "", "a@x.test"]).sender, "");
    assert.equal(good("", ["-f", "bounce", "a@x.test"]).sender, "bounce@dhost.test");
  });
  it("uses QMAILUSER, QMAILHOST, QMAILNAME, QMAILSUSER and QMAILSHOST", () => {
    const p = good("", ["a@x.test"], { QMAILUSER: "u", QMAILHOST: "h.test", QMAILNAME: 'Joe "Q" Public', QMAILSUSER: "su", QMAILSHOST: "sh.test" });
    assert.match(p.header, /^From: "Joe \\"Q\\" Public" <u@h\.test>$/m);
    assert.equal(p.sender, "su@sh.test");
  });
  it("writes an address-comment From with QMAILINJECT=c", () => {
    assert.match(good("", ["a@x.test"], { NAME: "Joe (J)", QMAILINJECT: "c" }).header, /^From: joe@dhost\.test \(Joe \\\(J\\\)\)$/m);
  });
  it("deletes From with f, Message-ID with i, ignores Return-Path with s", () => {
    const p = good("From: old@x.test\nMessage-ID: <old>\nReturn-Path: <rp@x.test>\n", ["a@x.test"], { QMAILINJECT: "fis" });
    assert.doesNotMatch(p.header, /old/);
    assert.match(p.header, /^From: joe@dhost\.test$/m);
    assert.equal(p.sender, "joe@dhost.test");
  });
  it("makes VERP senders with r and m", () => {
    assert.equal(good("", ["a@x.test"], { QMAILINJECT: "r" }).sender, "joe-@dhost.test-@[]");
    assert.equal(good("Return-Path: <rp@x.test>\n", ["a@x.test"], { QMAILINJECT: "r" }).sender, "rp@x.test-@[]");
    assert.equal(good("", ["-f", "f@x.test", "a@x.test"], { QMAILINJECT: "r" }).sender, "f@x.test");
    assert.equal(good("", ["a@x.test"], { QMAILINJECT: "m" }).sender, `joe-${NOW / 1000}.42@dhost.test`);
    assert.equal(good("", ["-f", "f@x.test", "a@x.test"], { QMAILINJECT: "m" }).sender, "f@x.test");
  });
  it("adds Mail-Followup-To when To or Cc names a list in QMAILMFTFILE", () => {
    const p = good("To: List@lists.test\nCc: bob@x.test\n", [], {}, ["list@lists.test"]);
    assert.match(p.header, /^Mail-Followup-To: List@lists\.test,\n {2}bob@x\.test\n/m);
    assert.doesNotMatch(good("To: other@x.test\n", [], {}, ["list@lists.test"]).header, /Mail-Followup-To/);
    assert.doesNotMatch(good("To: list@lists.test\nMail-Followup-To: me@x.test\n", [], {}, ["list@lists.test"]).header, /Mail-Followup-To: list/);
  });
  it("gives no recipients for a header without any, so inject can refuse", () => {
    assert.deepEqual(good("Subject: hi\n").recipients, []);
  });
});

describe("prepareHeader() with hostile input", () => {
  it("refuses unparsable addresses as permanent, naming the field", () => {
    const r = run("To: <a@x.test\n");
    assert.equal(r.kind, "perm");
    assert.match(r.kind === "perm" ? r.reason : "", /To field/);
    assert.equal(run("Subject: x\n", ["-f", "a@x.test, b@x.test", "c@x.test"]).kind, "perm");
    assert.equal(run("", ["Joe <joe@x.test"]).kind, "perm");
  });
  it("refuses NUL, CR and LF inside addresses", () => {
    for (const bad of ["a\0b@x.test", '"a\\\rb"@x.test', '"a\\\nb"@x.test']) {
      assert.equal(run(`To: ${bad}\n`, ["-h"]).kind, "perm", JSON.stringify(bad));
      assert.equal(run("", [bad]).kind, "perm", JSON.stringify(bad));
      assert.equal(run("", ["-f", bad, "a@x.test"]).kind, "perm", JSON.stringify(bad));
    }
  });
  it("refuses an envelope address too long for the queue", () => {
    assert.equal(run("", [`${"a".repeat(995)}@x.test`]).kind, "perm");
    assert.equal(run("", [`${"a".repeat(990)}@x.test`]).kind, "ok");
  });
  it("handles 10 000 header recipients", () => {
    const list = Array.from({ length: 10_000 }, (_, i) => `r${i}@x.test`);
    const p = good(`To: ${list.join(", ")}\n`);
    assert.deepEqual(p.recipients, list);
    assert.ok(p.header.split("\n").every((l) => l.length <= 78));
  });
  it("copies 8-bit, invalid UTF-8 and NUL bytes in other fields verbatim", () => {
    const h = "Subject: \xc3\x28\xff\0\nX-8bit: \xe9t\xe9\n";
    assert.ok(good(h, ["a@x.test"]).header.endsWith(h));
  });
  it("does not treat constructor or __proto__ fields as address fields", () => {
    assert.ok(good("constructor: x\n__proto__: y\n", ["a@x.test"]).header.endsWith("constructor: x\n__proto__: y\n"));
  });
});
