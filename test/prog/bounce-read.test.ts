// qm bounce-read (issue 20 item 4) in a real run: a list mails with a VERP
// return path, a remote server refuses a subscriber, qm send's RFC 3464
// bounce comes back to the owner's VERP address, whose .qmail runs
// `qm bounce-read`, and the failed subscriber is named in the log.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localHome, newMail, put, queueFiles, runBin } from "../support/send-env.ts";
import { fastQm } from "../support/qm.ts";
import { startPeer } from "../support/smtp-peer.ts";

const root = (process.getuid?.() ?? -1) === 0;
const skip = root ? false : "needs root: deliveries switch to uid 65534";

describe("qm bounce-read", { skip, timeout: 300_000 }, () => {
  it("names the subscriber a bounce is about in the owner's delivery log line: qm's own RFC 3464 bounce, and a foreign one to the VERP address", async () => {
    const peer = await startPeer({ answer: (l) => (/^RCPT TO:<gone@far\.test>/i.test(l) ? "550 5.1.1 gone" : undefined) });
    try {
      const { home, env, maildir } = await localHome();
      writeFileSync(join(home, "control", "smtproutes"), `:127.0.0.1:${peer.port}\n`);
      const dot = join(maildir("carol"), "..", ".qmail-owner-default");
      writeFileSync(dot, `|${await fastQm()} bounce-read\n./Maildir/\n`);
      chownSync(dot, 65534, 65534);
      chmodSync(dot, 0o644);
      await put(home, "carol-owner-@example.test-@[]", ["gone@far.test", "bob@example.test"], "Subject: list post\n\nhello list\n");
      const { QM_RSPAWN: _fake, ...real } = env;
      const r = await runBin(["send", "--once"], real);
      assert.equal(r.code, 0, r.stderr.toString());
      const log = r.stdout.toString();
      // qm's own bounce goes to the sender without -@[] (docs/qmail.md §2.9): the report names the subscriber
      assert.match(log, /^delivery \d+: success: bounce_to_carol-owner-@example\.test:_gone@far\.test_failed_5\.1\.1_\(rfc3464\)\/did_1\+0\+1\/$/m, log);
      assert.equal(newMail(maildir("carol")).length, 1, "the .qmail goes on to the Maildir");
      assert.equal(newMail(maildir("bob")).length, 1);
      // a remote server's later bounce, in a form nobody parses, to the VERP address it saw
      const smtp = "EHLO mx.far.test\r\nMAIL FROM:<>\r\nRCPT TO:<carol-owner-ann=far.test@example.test>\r\nDATA\r\nSubject: Undelivered Mail\r\n\r\nThis message was created automatically by mail delivery software.\r\n  ann@far.test\r\n.\r\nQUIT\r\n";
      const s = await runBin(["smtpd"], { ...real, TCPREMOTEIP: "127.0.0.1", TCPLOCALIP: "127.0.0.1", TCPLOCALHOST: "example.test" }, smtp);
      assert.match(s.stdout.toString(), /\r\n250 [^\r]*\r\n221 /, s.stdout.toString());
      const again = await runBin(["send", "--once"], real);
      assert.match(again.stdout.toString(), /^delivery \d+: success: bounce_to_carol-owner-ann=far\.test@example\.test:_ann@far\.test_failed_5\.0\.0_\(verp\)\/did_1\+0\+1\/$/m, again.stdout.toString());
      assert.deepEqual(queueFiles(home), []);
    } finally {
      await peer.close();
    }
  });

  it("says nothing about a message that is not a bounce", async () => {
    const r = await runBin(["bounce-read"], { SENDER: "joe@x.test", RECIPIENT: "owner-a=b@l.test", DEFAULT: "a=b" }, "Subject: hi\n\nhello\n");
    assert.equal(r.code, 0);
    assert.equal(r.stdout.toString(), "");
    const b = await runBin(["bounce-read"], { SENDER: "", RECIPIENT: "owner-a=b.test@l.test", DEFAULT: "a=b.test" }, "Subject: odd bounce\n\nsomething failed\n");
    assert.equal(b.stdout.toString(), "bounce to owner-a=b.test@l.test: a@b.test failed 5.0.0 (verp)\n");
  });
});
