// qm inject -> qm send -> qm lspawn -> Maildir, with the real local parts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFence } from "../../core/io/queue/fence.ts";
import { localHome, newMail, put, queueFiles, runBin, startDaemon } from "../support/send-env.ts";

const root = (process.getuid?.() ?? -1) === 0;
const skip = root ? false : "needs root: deliveries switch to uid 65534";

/** The QSBMF recipients and explanations of a bounce message. */
function parseQsbmf(msg: string): { intro: string; recipients: Map<string, string>; rest: string } {
  const b = /^Content-Type: multipart\/report;[^]*?boundary="([^"]+)"/m.exec(msg.slice(0, msg.indexOf("\n\n")));
  if (b) {
    // an RFC 3464 report: the QSBMF text is its first part, the original its last
    const parts = msg.split(`\n--${b[1]}`);
    const first = parts[1]!.slice(parts[1]!.indexOf("\n\n") + 2);
    const last = parts[3]!.slice(parts[3]!.indexOf("\n\n") + 2);
    const q = parseQsbmf(`X: y\n\n${first}`);
    return { ...q, rest: last };
  }
  const body = msg.slice(msg.indexOf("\n\n") + 2);
  assert.ok(body.startsWith("Hi. This is the"), body.slice(0, 200));
  const paras = body.split("\n\n");
  const recipients = new Map<string, string>();
  let i = 1;
  for (; i < paras.length && !paras[i]!.startsWith("-"); i++) {
    const [first, ...rest] = paras[i]!.split("\n");
    assert.match(first!, /^<?[^\s]+>?:$/);
    recipients.set(first!.slice(0, -1).replace(/^<|>$/g, ""), rest.join("\n"));
  }
  return { intro: paras[0]!, recipients, rest: paras.slice(i + 1).join("\n\n") };
}

describe("qm send with qm lspawn", { skip, timeout: 300_000 }, () => {
  it("delivers an injected message into the recipient's Maildir", async () => {
    const { home, env, maildir } = await localHome();
    const inj = await runBin(["inject", "-f", "alice@example.test", "--", "bob@example.test"], env, "Subject: hello bob\n\nbody line\n");
    assert.equal(inj.code, 0, inj.stderr.toString());
    const r = await runBin(["send", "--once"], env);
    assert.equal(r.code, 0, r.stderr.toString() + r.stdout.toString());
    assert.match(r.stdout.toString(), /^delivery 1: success: /m);
    const mail = newMail(maildir("bob"));
    assert.equal(mail.length, 1);
    assert.match(mail[0]!, /\nSubject: hello bob\n/);
    assert.match(mail[0]!, /\n\nbody line\n$/);
    assert.deepEqual(queueFiles(home), []);
  });

  it("bounces an unknown local user into the sender's Maildir, parsable as QSBMF", async () => {
    const { home, env, maildir } = await localHome();
    await put(home, "alice@example.test", ["nosuchuser@example.test", "bob@example.test"], "Subject: lost\n\nwhere did it go\n");
    const r = await runBin(["send", "--once"], env);
    assert.equal(r.code, 0, r.stderr.toString());
    assert.match(r.stdout.toString(), /^delivery \d+: failure: /m);
    assert.match(r.stdout.toString(), /^bounce msg \d+ qp \d+$/m);
    assert.equal(newMail(maildir("bob")).length, 1);
    const got = newMail(maildir("alice"));
    assert.equal(got.length, 1, r.stdout.toString());
    const b = parseQsbmf(got[0]!);
    assert.deepEqual([...b.recipients.keys()], ["nosuchuser@example.test"]);
    assert.match(b.recipients.get("nosuchuser@example.test")!, /#5\.1\.1/);
    assert.match(got[0]!, /^Return-Path: <>$/m);
    assert.match(b.rest, /^Return-Path: <alice@example.test>\n/);
    assert.match(b.rest, /where did it go/);
    assert.deepEqual(queueFiles(home), []);
  });

  it("a hanging .qmail program holds at most concurrencyrecipient local slots: another user's mail is delivered meanwhile", async () => {
    const { home, env, maildir } = await localHome({ concurrencylocal: "4" }); // concurrencyrecipient defaults to half: 2
    const alice = join(home, "..", "alice");
    writeFileSync(join(alice, ".qmail"), "|sleep 8\n");
    chownSync(join(alice, ".qmail"), 65534, 65534);
    for (let i = 0; i < 6; i++) await put(home, "carol@example.test", ["alice@example.test"], `Subject: hang ${i}\n\nx\n`);
    await put(home, "carol@example.test", ["bob@example.test"], "Subject: for bob\n\nnot stuck\n");
    const d = await startDaemon(env);
    try {
      const bob = await d.waitFor(/starting delivery (\d+): msg \d+ to local bob@example\.test/, 20_000);
      const n = /delivery (\d+)/.exec(bob)![1];
      await d.waitFor(new RegExp(`^delivery ${n}: success`), 20_000);
      assert.equal(newMail(maildir("bob")).length, 1);
      const log = d.lines();
      assert.equal(log.filter((l) => / to local alice@example\.test$/.test(l)).length, 2, "two of alice's six started, no more");
      assert.ok(!log.some((l) => /^delivery \d+: success/.test(l) && !l.startsWith(`delivery ${n}:`)), "bob's came before any of alice's ended");
    } finally {
      d.child.kill("SIGTERM");
      await d.exited;
    }
  });

  it("bounces a 50 MB message as a notice under 100 KB: the original's header and its first bouncemaxbytes, Auto-Submitted", async () => {
    const { home, env, maildir } = await localHome();
    const line = `${"z".repeat(99)}\n`;
    const big = `Subject: huge\nX-Mark: original-header\n\nfirst body line\n${line.repeat(500_000)}last body line\n`;
    await put(home, "alice@example.test", ["nosuchuser@example.test"], big);
    const r = await runBin(["send", "--once"], env);
    assert.equal(r.code, 0, r.stderr.toString());
    const got = newMail(maildir("alice"));
    assert.equal(got.length, 1, r.stdout.toString());
    assert.ok(got[0]!.length < 100_000, `bounce of ${got[0]!.length} bytes`);
    assert.match(got[0]!, /^Auto-Submitted: auto-replied$/m);
    const b = parseQsbmf(got[0]!);
    assert.match(b.rest, /^X-Mark: original-header$/m);
    assert.match(b.rest, /\n\nfirst body line\n/);
    assert.doesNotMatch(b.rest, /last body line/);
    const quoted = b.rest.slice(b.rest.indexOf("\n\n") + 2);
    assert.ok(quoted.length <= 50_000 && quoted.length > 49_000, `${quoted.length} bytes of the body quoted`);
    assert.deepEqual(queueFiles(home), []);
  });

  it("quotes what control/bouncemaxbytes says", async () => {
    const { home, env, maildir } = await localHome({ bouncemaxbytes: "1000" });
    await put(home, "alice@example.test", ["nosuchuser@example.test"], `Subject: mid\n\n${"y".repeat(49)}\n`.repeat(1) + `${"w".repeat(49)}\n`.repeat(100));
    const r = await runBin(["send", "--once"], env);
    assert.equal(r.code, 0, r.stderr.toString());
    const got = newMail(maildir("alice"));
    assert.equal(got.length, 1, r.stdout.toString());
    const b = parseQsbmf(got[0]!);
    const quoted = b.rest.slice(b.rest.indexOf("\n\n") + 2);
    assert.equal(quoted, `${"y".repeat(49)}\n${`${"w".repeat(49)}\n`.repeat(19)}`, "1000 bytes: 20 whole lines");
  });

  it("sends the bounce of a bounce to postmaster (the alias user's Maildir)", async () => {
    const { home, env, maildir } = await localHome();
    await put(home, "", ["nosuchuser@example.test"], "Subject: a bounce\n\nundeliverable bounce\n");
    const r = await runBin(["send", "--once"], env);
    assert.equal(r.code, 0, r.stderr.toString());
    const got = newMail(maildir("alias"));
    assert.equal(got.length, 1, r.stdout.toString());
    const b = parseQsbmf(got[0]!);
    assert.ok(b.recipients.has("nosuchuser@example.test"));
    assert.match(got[0]!, /^To: postmaster@example.test$/m);
    assert.match(got[0]!, /--- Below this line is the original bounce\./);
    assert.match(b.rest, /undeliverable bounce/);
    assert.deepEqual(queueFiles(home), []);
  });

  it("a SIGKILLed qm send's lspawn exits at once, with a delivery under way, and lets go of lock/fence", async () => {
    const { home, env } = await localHome();
    const dot = join(home, "..", "carol", ".qmail");
    writeFileSync(dot, "|sleep 30\n");
    chownSync(dot, 65534, 65534);
    chmodSync(dot, 0o644);
    await put(home, "alice@example.test", ["carol@example.test"]);
    const d = await startDaemon(env);
    try {
      await d.waitFor(/^starting delivery \d+: msg \d+ to local carol@example.test$/);
      assert.equal((await waitFence(join(home, "queue"), 300)).kind, "temp", "held while the spawners live");
      d.child.kill("SIGKILL");
      // a spawner that finished its delivery first would hold it for the 30 s of the sleep
      const open = await waitFence(join(home, "queue"), 20_000);
      assert.equal(open.kind, "ok", "lspawn (and the fake rspawn, idle) exited");
    } finally {
      d.child.kill("SIGKILL");
      await d.exited; // its stderr may stay open until the sleep ends
    }
  });
});
