// RFC 3464 bounces from a real run: qm send, qm lspawn and qm rspawn deliver,
// fail, and the bounce lands in the sender's Maildir, where Python's email
// package reads it (issue 20's "done when").
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { localHome, newMail, put, queueFiles, runBin } from "../support/send-env.ts";
import { parseWithPython, type Parsed } from "../support/dsn-parse.ts";
import { startPeer } from "../support/smtp-peer.ts";

const root = (process.getuid?.() ?? -1) === 0;
const skip = root ? false : "needs root: deliveries switch to uid 65534";

function part(p: Parsed, type: string) {
  const found = p.parts.find((x) => x.type === type);
  assert.ok(found, `no ${type} part in ${p.parts.map((x) => x.type).join(", ")}`);
  return found;
}

describe("RFC 3464 bounces", { skip, timeout: 300_000 }, () => {
  it("a local and a remote failure: multipart/report with the QSBMF text first, a delivery-status block each, the original", async () => {
    const peer = await startPeer({ answer: (l) => (/^RCPT TO:<gone@far\.test>/i.test(l) ? "550 5.1.1 <gone@far.test>: no such user here" : undefined) });
    try {
      const { home, env, maildir } = await localHome();
      writeFileSync(join(home, "control", "smtproutes"), `:127.0.0.1:${peer.port}\n`);
      await put(home, "alice@example.test", ["nosuchuser@example.test", "gone@far.test", "bob@example.test"], "Subject: lost\nMessage-ID: <orig@example.test>\n\nwhere did it go\n");
      const { QM_RSPAWN: _fake, ...real } = env; // the real qm rspawn
      const r = await runBin(["send", "--once"], real);
      assert.equal(r.code, 0, r.stderr.toString());
      assert.equal(newMail(maildir("bob")).length, 1);
      const got = newMail(maildir("alice"));
      assert.equal(got.length, 1, r.stdout.toString());
      const p = parseWithPython(got[0]!);
      assert.deepEqual(p.defects, []);
      assert.equal(p.type, "multipart/report");
      assert.equal(p.report_type, "delivery-status");
      assert.match(p.headers["Message-ID"] ?? "", /^<\d+\.\d+\.bounce@example\.test>$/);
      assert.ok(p.headers.Date);
      assert.equal(p.headers["Auto-Submitted"], "auto-replied");
      assert.equal(p.headers.Subject, "failure notice");
      assert.deepEqual(p.parts.map((x) => x.type), ["text/plain", "message/delivery-status", "message/rfc822"]);
      const text = p.parts[0]!.text!;
      assert.match(text, /^Hi\. This is the qmail-send program at example\.test\.\n/);
      assert.match(text, /\n\nnosuchuser@example\.test:\nSorry, no mailbox here by that name\. \(#5\.1\.1\)\n/);
      assert.match(text, /\n\ngone@far\.test:\n127\.0\.0\.1 does not like recipient\.\nRemote host said: 550 5\.1\.1/);
      const blocks = part(p, "message/delivery-status").blocks!;
      assert.equal(blocks[0]!["Reporting-MTA"], "dns;example.test");
      assert.ok(blocks[0]!["Arrival-Date"]);
      const per = new Map(blocks.slice(1).map((b) => [b["Final-Recipient"], b]));
      assert.deepEqual([...per.keys()].sort(), ["rfc822;gone@far.test", "rfc822;nosuchuser@example.test"]);
      for (const b of per.values()) {
        assert.equal(b.Action, "failed");
        assert.equal(b.Status, "5.1.1");
        assert.ok(b["Last-Attempt-Date"]);
      }
      const remote = per.get("rfc822;gone@far.test")!;
      assert.equal(remote["Remote-MTA"], "dns;127.0.0.1");
      assert.equal(remote["Diagnostic-Code"], "smtp;550 5.1.1 <gone@far.test>: no such user here");
      assert.match(per.get("rfc822;nosuchuser@example.test")!["Diagnostic-Code"]!, /^X-qm;Sorry, no mailbox here by that name/);
      const orig = part(p, "message/rfc822");
      assert.equal(orig.headers!["Return-Path"], "<alice@example.test>");
      assert.equal(orig.headers!["Message-ID"], "<orig@example.test>");
      assert.equal(orig.body, "where did it go\n");
      assert.deepEqual(queueFiles(home), []);
    } finally {
      await peer.close();
    }
  });

  it("keeps control/bouncemaxbytes: a big original is cut inside the message/rfc822 part, and the report still closes", async () => {
    const { home, env, maildir } = await localHome({ bouncemaxbytes: "1000" });
    await put(home, "alice@example.test", ["nosuchuser@example.test"], `Subject: big\n\n${`${"w".repeat(49)}\n`.repeat(5000)}last line\n`);
    const r = await runBin(["send", "--once"], env);
    assert.equal(r.code, 0, r.stderr.toString());
    const got = newMail(maildir("alice"));
    assert.equal(got.length, 1, r.stdout.toString());
    assert.ok(got[0]!.length < 5000, `${got[0]!.length} bytes`);
    const p = parseWithPython(got[0]!);
    assert.deepEqual(p.defects, []);
    const orig = part(p, "message/rfc822");
    assert.equal(orig.body, `${"w".repeat(49)}\n`.repeat(20));
    assert.match(got[0]!, /\n--[^\n]+--\n$/, "the closing boundary ends the bounce");
  });

  it("control/bouncestyle qsbmf: qmail's plain form, with a Message-ID", async () => {
    const { home, env, maildir } = await localHome({ bouncestyle: "qsbmf" });
    await put(home, "alice@example.test", ["nosuchuser@example.test"], "Subject: lost\n\nwhere did it go\n");
    const r = await runBin(["send", "--once"], env);
    assert.equal(r.code, 0, r.stderr.toString());
    const got = newMail(maildir("alice"));
    assert.equal(got.length, 1, r.stdout.toString());
    const p = parseWithPython(got[0]!);
    assert.equal(p.type, "text/plain");
    assert.doesNotMatch(got[0]!, /^MIME-Version:/m);
    assert.match(p.headers["Message-ID"] ?? "", /^<\d+\.\d+\.bounce@example\.test>$/);
    assert.match(p.text!, /^Hi\. This is the qmail-send program at example\.test\.\n[^]*\n--- Below this line is a copy of the message\.\n\nReturn-Path: <alice@example\.test>\n/);
  });

  it("a bad control/bouncestyle stops qm send from starting, with one line saying why", async () => {
    const { env } = await localHome({ bouncestyle: "fancy" });
    const r = await runBin(["send", "--once"], env);
    assert.equal(r.code, 111);
    assert.match(r.stdout.toString() + r.stderr.toString(), /control\/bouncestyle must be dsn or qsbmf/);
  });
});
