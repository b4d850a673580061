// RFC 3461 end to end (issue 20): a real qm smtpd session with DSN parameters,
// the queue, qm send with the real lspawn and rspawn, a scripted SMTP peer
// with and without DSN; sendmail -N; delay warnings. Notices land in the
// sender's Maildir and are read with Python's email package.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localHome, newMail, put, queueFiles, runBin } from "../support/send-env.ts";
import { parseWithPython } from "../support/dsn-parse.ts";
import { EHLO_DEFAULT, startPeer } from "../support/smtp-peer.ts";

const root = (process.getuid?.() ?? -1) === 0;
const skip = root ? false : "needs root: deliveries switch to uid 65534";
const SMTP_ENV = { TCPREMOTEIP: "127.0.0.1", TCPLOCALIP: "127.0.0.1", TCPLOCALHOST: "mx.example.test", RELAYCLIENT: "" };
const replies = (out: Buffer) => out.toString("latin1").split("\r\n").filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3));
const DSN_EHLO = `${EHLO_DEFAULT.replace("250 SIZE 100000", "250-SIZE 100000")}\r\n250 DSN`;

/** A home whose remote mail goes to 127.0.0.1:port, and its env without the fake rspawn. */
async function homeFor(port: number, controls: Record<string, string> = {}) {
  const h = await localHome(controls);
  writeFileSync(join(h.home, "control", "smtproutes"), `:127.0.0.1:${port}\n`);
  const { QM_RSPAWN: _fake, ...env } = h.env;
  return { ...h, env };
}

async function smtpIn(env: NodeJS.ProcessEnv, input: string): Promise<void> {
  const r = await runBin(["smtpd"], { ...env, ...SMTP_ENV }, input);
  assert.deepEqual(replies(r.stdout), ["220", "250", "250", "250", "354", "250", "221"], r.stdout.toString() + r.stderr.toString());
}
const TX = "EHLO client.test\r\nMAIL FROM:<alice@example.test> RET=HDRS ENVID=abc\r\nRCPT TO:<b@far.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;B+40far.test\r\nDATA\r\nSubject: dsn\r\nMessage-ID: <m1@example.test>\r\n\r\nbody\r\n.\r\nQUIT\r\n";

describe("DSN end to end", { skip, timeout: 300_000 }, () => {
  it("keeps the parameters in the queue (qm qread still reads it) and passes them to a server that offers DSN; no notice of ours", async () => {
    const peer = await startPeer({ answer: (l) => (/^EHLO /i.test(l) ? DSN_EHLO : undefined) });
    try {
      const { home, env, maildir } = await homeFor(peer.port);
      await smtpIn(env, TX);
      const todo = readdirSync(join(home, "queue", "todo"));
      assert.equal(todo.length, 1);
      const rec = readFileSync(join(home, "queue", "todo", todo[0]!), "latin1");
      assert.match(rec, /\0Falice@example\.test\0MHDRS abc\0NSUCCESS,DELAY rfc822;B@far\.test\0Tb@far\.test\0$/);
      const show = await runBin(["qctl", "show", todo[0]!], env);
      assert.equal(show.code, 0, show.stderr.toString());
      assert.match(show.stdout.toString(), /\n {2}dsn: ret HDRS, envid abc\n {2}dsn: b@far\.test notify SUCCESS,DELAY orcpt rfc822;B@far\.test\n\n/);
      const q = await runBin(["qread"], env);
      assert.equal(q.code, 0, q.stderr.toString());
      assert.match(q.stdout.toString(), /b@far\.test/);
      const r = await runBin(["send", "--once"], env);
      assert.equal(r.code, 0, r.stderr.toString());
      assert.match(r.stdout.toString(), /delivery \d+: success: 127\.0\.0\.1_accepted_message/);
      const cmds = peer.sessions.flatMap((s) => s.commands);
      assert.ok(cmds.includes("MAIL FROM:<alice@example.test> BODY=8BITMIME SIZE=" + cmds.find((c) => c.startsWith("MAIL"))!.split("SIZE=")[1]!.split(" ")[0] + " RET=HDRS ENVID=abc"), cmds.join("\n"));
      assert.ok(cmds.includes("RCPT TO:<b@far.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;B@far.test"), cmds.join("\n")); // "@" needs no xtext escape
      assert.equal(newMail(maildir("alice")).length, 0, "the next server sends the success notice");
      assert.deepEqual(queueFiles(home), []);
    } finally {
      await peer.close();
    }
  });

  it("a server without DSN: the parameters are not sent, and the sender gets a relayed notice", async () => {
    const peer = await startPeer();
    try {
      const { home, env, maildir } = await homeFor(peer.port);
      await smtpIn(env, TX);
      const r = await runBin(["send", "--once"], env);
      assert.equal(r.code, 0, r.stderr.toString());
      assert.match(r.stdout.toString(), /^notice msg \d+ qp \d+: delivered$/m);
      const cmds = peer.sessions.flatMap((s) => s.commands);
      assert.ok(!cmds.some((c) => /RET=|ENVID=|NOTIFY=|ORCPT=/.test(c)), cmds.join("\n"));
      const got = newMail(maildir("alice"));
      assert.equal(got.length, 1, r.stdout.toString());
      const p = parseWithPython(got[0]!);
      assert.deepEqual(p.defects, []);
      assert.equal(p.report_type, "delivery-status");
      assert.equal(p.headers["Auto-Submitted"], "auto-replied");
      assert.match(p.headers["Message-ID"] ?? "", /^<\d+\.\d+\.relayed@example\.test>$/);
      assert.deepEqual(p.parts.map((x) => x.type), ["text/plain", "message/delivery-status", "text/rfc822-headers"]);
      assert.match(p.parts[0]!.text!, /^Hi\. This is the qmail-send program at example\.test\.\n/);
      const [msgFields, per] = p.parts[1]!.blocks!;
      assert.equal(msgFields!["Original-Envelope-Id"], "abc");
      assert.equal(per!["Original-Recipient"], "rfc822;B@far.test");
      assert.equal(per!["Final-Recipient"], "rfc822;b@far.test");
      assert.equal(per!.Action, "relayed");
      assert.equal(per!.Status, "2.0.0");
      assert.match(p.parts[2]!.text!, /^Return-Path: <alice@example\.test>\n[^]*Message-ID: <m1@example\.test>\n/);
      assert.doesNotMatch(p.parts[2]!.text!, /\nbody\n/);
      assert.deepEqual(queueFiles(home), []);
    } finally {
      await peer.close();
    }
  });

  it("NOTIFY=NEVER: a failure is logged and bounced to nobody; NOTIFY=FAILURE still bounces", async () => {
    const peer = await startPeer({ answer: (l) => (/^RCPT /i.test(l) ? "550 5.1.1 no such user" : undefined) });
    try {
      const { home, env, maildir } = await homeFor(peer.port);
      const input = "EHLO client.test\r\nMAIL FROM:<alice@example.test>\r\nRCPT TO:<never@far.test> NOTIFY=NEVER\r\nRCPT TO:<ghost@far.test> NOTIFY=FAILURE\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
      const s = await runBin(["smtpd"], { ...env, ...SMTP_ENV }, input);
      assert.deepEqual(replies(s.stdout), ["220", "250", "250", "250", "250", "354", "250", "221"]);
      const r = await runBin(["send", "--once"], env);
      assert.equal(r.code, 0, r.stderr.toString());
      assert.equal((r.stdout.toString().match(/: failure: /g) ?? []).length, 2);
      const got = newMail(maildir("alice"));
      assert.equal(got.length, 1);
      const per = parseWithPython(got[0]!).parts[1]!.blocks!.slice(1);
      assert.deepEqual(per.map((b) => b["Final-Recipient"]), ["rfc822;ghost@far.test"]);
      assert.deepEqual(queueFiles(home), []);
    } finally {
      await peer.close();
    }
  });

  it("sendmail -N success -V: a delivered notice for a local delivery", async () => {
    const { home, env, maildir } = await homeFor(9);
    const inj = await runBin(["sendmail", "-f", "alice@example.test", "-N", "success", "-V", "my-id", "bob@example.test"], env, "Subject: hi bob\n\nhello\n");
    assert.equal(inj.code, 0, inj.stderr.toString());
    const r = await runBin(["send", "--once"], env);
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(newMail(maildir("bob")).length, 1);
    const got = newMail(maildir("alice"));
    assert.equal(got.length, 1, r.stdout.toString());
    const p = parseWithPython(got[0]!);
    assert.equal(p.headers.Subject, "delivery notice");
    const [msgFields, per] = p.parts[1]!.blocks!;
    assert.equal(msgFields!["Original-Envelope-Id"], "my-id");
    assert.equal(per!.Action, "delivered");
    assert.equal(per!["Final-Recipient"], "rfc822;bob@example.test");
    assert.deepEqual(queueFiles(home), []);
  });

  it("control/delaywarning: a message held past it gets exactly one delay warning", async () => {
    const peer = await startPeer({ answer: (l) => (/^RCPT /i.test(l) ? "451 4.3.0 try again later" : undefined) });
    try {
      const { home, env, maildir } = await homeFor(peer.port, { delaywarning: "3600" });
      const id = await put(home, "alice@example.test", ["slow@far.test"], "Subject: slow\n\nbody\n");
      const first = await runBin(["send", "--once"], env);
      assert.match(first.stdout.toString(), /: deferral: /);
      assert.equal(newMail(maildir("alice")).length, 0, "not old enough yet");
      const old = Date.now() / 1000 - 7200; // two hours in the queue: touching info/ is the documented way
      utimesSync(join(home, "queue", "info", String(id % 23), String(id)), old, old);
      for (let i = 0; i < 3; i++) {
        const r = await runBin(["send", "--once", "--force"], env);
        assert.equal(r.code, 0, r.stderr.toString());
        assert.match(r.stdout.toString(), /: deferral: /);
      }
      const got = newMail(maildir("alice"));
      assert.equal(got.length, 1, "exactly one warning");
      const p = parseWithPython(got[0]!);
      assert.equal(p.headers.Subject, "delivery delayed");
      const per = p.parts[1]!.blocks![1]!;
      assert.equal(per.Action, "delayed");
      assert.equal(per.Status, "4.3.0");
      assert.equal(per["Final-Recipient"], "rfc822;slow@far.test");
      assert.ok(queueFiles(home).includes(`dsn/${id % 23}/${id}`), "the flag is kept with the message");
    } finally {
      await peer.close();
    }
  });
});
