import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runQm, tempDir } from "../support/qm.ts";
import { control, smtpdHome } from "../support/smtpd.ts";
import { FAKE, localHome, put, startDaemon } from "../support/send-env.ts";

// SRS end to end (qm-control(5) srs): a .qmail forward, qm forward and qm
// fastforward leave with an SRS sender at our domain; qm smtpd takes a bounce
// to such an address and refuses a forged or expired one at RCPT; qm send
// routes the bounce back to the original sender. The forwards go into a
// QMAILQUEUE stub that records the envelope, or (last test) through a real
// queue, a real qm lspawn/qm local and qm send with a stand-in remote spawner.
const ROOT_RUN = process.getuid?.() === 0;
const UID = ROOT_RUN ? 65534 : process.getuid!();
const SECRET = "a long enough test secret";
const MSG = "Subject: fw\n\nbody\n";
const T = { timeout: 120_000 };

/** An SRS0 address as the scheme makes it (libsrs2's layout; HMAC-SHA1 over the lowercased fields), for any day. */
function srs0(local: string, domain: string, day: number, secret = SECRET, at = "example.test"): string {
  const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const d = day % 1024;
  const tt = B32[d >> 5]! + B32[d & 31]!;
  const hash = createHmac("sha1", secret).update(`${tt}${domain}${local}`.toLowerCase(), "latin1").digest("base64").slice(0, 6);
  return `SRS0=${hash}=${tt}=${domain}=${local}@${at}`;
}
const today = () => Math.floor(Date.now() / 86_400_000);

function stubSetup() {
  const top = tempDir("qm-srs-");
  chmodSync(top, 0o755);
  const qm = join(top, "qm");
  const home = join(top, "home");
  for (const d of [qm, join(qm, "control"), join(qm, "alias"), home]) mkdirSync(d, { mode: 0o755 });
  writeFileSync(join(qm, "control/me"), "example.test\n");
  writeFileSync(join(qm, "control/locals"), "example.test\nlocal.test\n");
  writeFileSync(join(qm, "control/srs"), `${SECRET}\n`);
  chownSync(home, UID, UID);
  chownSync(join(qm, "alias"), UID, UID);
  const spool = join(top, "spool");
  mkdirSync(spool, { mode: 0o777 });
  chmodSync(spool, 0o777);
  const stub = join(top, "fake-queue");
  writeFileSync(stub, `#!/bin/sh\ncat > ${spool}/msg\ncat 0<&1 > ${spool}/env\nexit 0\n`, { mode: 0o755 });
  const envelope = () => readFileSync(join(spool, "env"), "latin1");
  return { top, qm, home, spool, envelope, env: { QMHOME: qm, QMAILQUEUE: stub } };
}

describe("SRS on forwards", { timeout: 300_000 }, () => {
  it(".qmail forward, qm forward and qm fastforward rewrite a foreign sender; local senders and bounces stay", T, async () => {
    const s = stubSetup();
    writeFileSync(join(s.home, ".qmail"), "&friend@remote.test\n");
    const local = (sender: string) => runQm(["local", "--", "bob", s.home, "bob", "", "", "example.test", sender, "./Maildir/"], { input: MSG, env: s.env });
    let r = await local("alice@pass.test");
    assert.equal(r.code, 0, r.stdout.toString());
    assert.equal(s.envelope(), `F${srs0("alice", "pass.test", today())}\0Tfriend@remote.test\0\0`);
    for (const [sender, kept] of [["carol@local.test", "carol@local.test"], ["", ""], ["dave@EXAMPLE.test", "dave@EXAMPLE.test"]]) {
      r = await local(sender!);
      assert.equal(r.code, 0);
      assert.equal(s.envelope(), `F${kept}\0Tfriend@remote.test\0\0`, `sender <${sender}>`);
    }
    r = await runQm(["forward", "--", "x@remote.test"], { input: MSG, env: { ...s.env, NEWSENDER: "alice@pass.test", DTLINE: "Delivered-To: me@x\n" } });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(s.envelope(), `F${srs0("alice", "pass.test", today())}\0Tx@remote.test\0\0`);
    const aliases = join(s.top, "aliases");
    writeFileSync(aliases, "team: friend@remote.test\n");
    writeFileSync(join(s.qm, "control/aliases"), `${aliases}\n`);
    assert.equal((await runQm(["newaliases"], { env: s.env })).code, 0);
    r = await runQm(["fastforward"], { input: MSG, env: { ...s.env, RECIPIENT: "team@example.test", SENDER: "alice@pass.test", DTLINE: "Delivered-To: team@example.test\n", HOME: s.top } });
    assert.equal(r.code, 0, r.stdout.toString());
    assert.equal(s.envelope(), `F${srs0("alice", "pass.test", today())}\0Tfriend@remote.test\0\0`);
  });

  it("a sender already SRS'd by another forwarder becomes SRS1 at our domain", T, async () => {
    const s = stubSetup();
    writeFileSync(join(s.home, ".qmail"), "&friend@remote.test\n");
    const r = await runQm(["local", "--", "bob", s.home, "bob", "", "", "example.test", "SRS0=abcd=XY=orig.test=bob@hop1.test", "./Maildir/"], { input: MSG, env: s.env });
    assert.equal(r.code, 0, r.stdout.toString());
    assert.match(s.envelope(), /^FSRS1=[^=]{6}=hop1\.test==abcd=XY=orig\.test=bob@example\.test\0/);
  });

  it("a short or unreadable control/srs defers the forward with the reason; no unrewritten forward leaves", T, async () => {
    const s = stubSetup();
    writeFileSync(join(s.home, ".qmail"), "&friend@remote.test\n");
    writeFileSync(join(s.qm, "control/srs"), "short\n");
    const r = await runQm(["local", "--", "bob", s.home, "bob", "", "", "example.test", "alice@pass.test", "./Maildir/"], { input: MSG, env: s.env });
    assert.equal(r.code, 111);
    assert.match(r.stdout.toString(), /Unable to forward message: control\/srs: a secret is shorter than 16 characters/);
    const f = await runQm(["forward", "--", "x@remote.test"], { input: MSG, env: { ...s.env, NEWSENDER: "alice@pass.test", DTLINE: "x\n" } });
    assert.equal(f.code, 111);
    assert.match(f.stderr.toString(), /control\/srs/);
    assert.throws(() => s.envelope(), /ENOENT/, "nothing was queued");
  });
});

describe("SRS bounces: qm smtpd at RCPT, qm send routing", { timeout: 300_000 }, () => {
  let home = "";
  after(() => {
    if (home) rmSync(join(home, ".."), { recursive: true, force: true });
  });

  it("qm smtpd takes a bounce to a good SRS address and refuses a forged, tampered or expired one with 550", T, async () => {
    home = await smtpdHome();
    control(home, "srs", `# rotated: the new secret first\nanother secret of enough length\n${SECRET}\n`);
    control(home, "rcptcheck", "1\n");
    const good = srs0("alice", "pass.test", today());
    const session = (rcpt: string) =>
      runQm(["smtpd"], { input: `HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<${rcpt}>\r\nQUIT\r\n`, env: { QMHOME: home, TCPREMOTEIP: "192.0.2.7", TCPLOCALIP: "192.0.2.1" } });
    const rcptReply = async (rcpt: string) => (await session(rcpt)).stdout.toString("latin1").split("\r\n")[3] ?? "";
    assert.match(await rcptReply(good), /^250 /);
    assert.match(await rcptReply(srs0("alice", "pass.test", today(), "not the secret at all")), /^550 /);
    assert.match(await rcptReply(good.replace("=alice@", "=mallory@")), /^550 /);
    assert.match(await rcptReply(srs0("alice", "pass.test", today() - 30)), /^550 /, "older than 21 days");
  });

  it("qm send routes a bounce to an SRS address back to the original sender; a whole forward through lspawn leaves SRS'd", T, async () => {
    const l = await localHome({ srs: SECRET });
    const top = join(l.home, "..");
    writeFileSync(join(top, "alice", ".qmail"), "&okfriend@remote.test\n");
    const log = join(top, "spawn.log");
    writeFileSync(log, "");
    chmodSync(log, 0o666); // the spawner may run as another user
    const d = await startDaemon({ ...l.env, QM_RSPAWN: FAKE, FAKE_SPAWN_LOG: log });
    try {
      await put(l.home, "okcarol@pass.test", ["alice@example.test"]);
      await d.waitFor(/to remote okfriend@remote\.test/);
      let start = "";
      for (let i = 0; i < 200 && start === ""; i++) {
        start = readFileSync(log, "latin1").split("\n").find((x) => x.startsWith("start ") && x.includes("okfriend@remote.test")) ?? "";
        if (start === "") await new Promise((r) => setTimeout(r, 50));
      }
      const sender = start.split(" ").at(-1) ?? "";
      assert.match(sender, /^SRS0=[^=]{6}=[A-Z2-7]{2}=pass\.test=okcarol@example\.test$/, start);
      await put(l.home, "", [sender]);
      await d.waitFor(/to remote okcarol@pass\.test/);
      await put(l.home, "", [sender.replace("okcarol", "okmallory")]);
      await d.waitFor(/to local example\.test-SRS0|to local SRS0/i);
    } finally {
      d.child.kill("SIGTERM");
      await d.exited;
    }
  });
});
