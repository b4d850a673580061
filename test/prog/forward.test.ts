import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runQm, tempDir } from "../support/qm.ts";

// Forwards from .qmail lines and `qm forward`, through a QMAILQUEUE stub that
// records the message (fd 0) and the envelope (fd 1).
const ROOT_RUN = process.getuid?.() === 0;
const UID = ROOT_RUN ? 65534 : process.getuid!();
const MSG = "Subject: fw\n\nbody\n";

function setup(): { home: string; spool: string; env: NodeJS.ProcessEnv } {
  const top = tempDir("qm-fwd-");
  chmodSync(top, 0o755);
  const home = join(top, "home");
  const spool = join(top, "spool");
  mkdirSync(home, { mode: 0o755 });
  mkdirSync(spool, { mode: 0o777 });
  chmodSync(spool, 0o777);
  chownSync(home, UID, UID);
  const stub = join(top, "fake-queue");
  writeFileSync(stub, `#!/bin/sh\ncat > ${spool}/msg\ncat 0<&1 > ${spool}/env\nexit 0\n`, { mode: 0o755 });
  return { home, spool, env: { QMAILQUEUE: stub } };
}
function dotQmail(home: string, name: string, text: string, mode = 0o644): void {
  writeFileSync(join(home, name), text);
  chmodSync(join(home, name), mode);
}
function local(s: { home: string; env: NodeJS.ProcessEnv }, local: string, ext: string, sender = "s@x.org") {
  return runQm(["local", "--", "bob", s.home, local, ext ? "-" : "", ext, "example.test", sender, "./Maildir/"], { input: MSG, env: s.env });
}

describe("forwarding from .qmail", { timeout: 300_000 }, () => {
  it("queues DTLINE + message once to all & and bare addresses, after the other lines", async () => {
    const s = setup();
    dotQmail(s.home, ".qmail", "&one@a.example\ntwo@b.example\n./mbox\n");
    const r = await local(s, "bob", "");
    assert.equal(r.code, 0, r.stdout.toString());
    assert.match(r.stdout.toString(), /^did 1\+2\+0\nqp \d+\n$/);
    assert.equal(readFileSync(join(s.spool, "msg"), "latin1"), `Delivered-To: bob@example.test\n${MSG}`);
    assert.equal(readFileSync(join(s.spool, "env"), "latin1"), "Fs@x.org\0Tone@a.example\0Ttwo@b.example\0\0");
  });
  it("rewrites the sender to ext-owner@host when .qmail-ext-owner exists, VERP with -owner-default", async () => {
    const s = setup();
    dotQmail(s.home, ".qmail-list", "m1@a.example\n");
    dotQmail(s.home, ".qmail-list-owner", "boss@a.example\n");
    await local(s, "bob-list", "list");
    assert.equal(readFileSync(join(s.spool, "env"), "latin1"), "Fbob-list-owner@example.test\0Tm1@a.example\0\0");
    dotQmail(s.home, ".qmail-list-owner-default", "boss@a.example\n");
    await local(s, "bob-list", "list");
    assert.equal(readFileSync(join(s.spool, "env"), "latin1"), "Fbob-list-owner-@example.test-@[]\0Tm1@a.example\0\0");
    await local(s, "bob-list", "list", "");
    assert.equal(readFileSync(join(s.spool, "env"), "latin1"), "F\0Tm1@a.example\0\0", "bounces keep the null sender");
  });
  it("allows forwards but not files under the x bit", async () => {
    const s = setup();
    dotQmail(s.home, ".qmail", "fw@a.example\n", 0o744);
    assert.equal((await local(s, "bob", "")).code, 0);
    assert.equal(readFileSync(join(s.spool, "env"), "latin1"), "Fs@x.org\0Tfw@a.example\0\0");
  });
  it("fails like the queue fails: permanent 11-40, temporary otherwise", async () => {
    const s = setup();
    dotQmail(s.home, ".qmail", "fw@a.example\n");
    writeFileSync(s.env.QMAILQUEUE!, "#!/bin/sh\ncat >/dev/null\nexit 31\n");
    assert.equal((await local(s, "bob", "")).code, 100);
    writeFileSync(s.env.QMAILQUEUE!, "#!/bin/sh\ncat >/dev/null\nexit 71\n");
    const r = await local(s, "bob", "");
    assert.equal(r.code, 111);
    assert.match(r.stdout.toString(), /Unable to forward message/);
  });
});

describe("qm forward", { timeout: 300_000 }, () => {
  it("queues DTLINE + stdin from $NEWSENDER to its arguments", async () => {
    const s = setup();
    const r = await runQm(["forward", "--", "-dash@a.example", "b@b.example"], { input: MSG, env: { ...s.env, NEWSENDER: "ns@x", DTLINE: "Delivered-To: me@x\n" } });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.match(r.stderr.toString(), /forward: qp \d+/);
    assert.equal(readFileSync(join(s.spool, "msg"), "latin1"), `Delivered-To: me@x\n${MSG}`);
    assert.equal(readFileSync(join(s.spool, "env"), "latin1"), "Fns@x\0T-dash@a.example\0Tb@b.example\0\0");
  });
  it("exits 100 without NEWSENDER or DTLINE", async () => {
    const s = setup();
    assert.equal((await runQm(["forward", "--", "a@b"], { input: MSG, env: { ...s.env, NEWSENDER: undefined, DTLINE: "x" } })).code, 100);
    assert.equal((await runQm(["forward", "--", "a@b"], { input: MSG, env: { ...s.env, NEWSENDER: "x", DTLINE: undefined } })).code, 100);
  });
});
