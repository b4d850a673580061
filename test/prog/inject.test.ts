import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeHome, runQm, tempDir } from "../support/qm.ts";
import { readDrop } from "../support/maildrop.ts";

// A known environment: none of the caller's QMAIL* or MAIL* variables leak in ("" counts as unset).
const CLEAN = Object.fromEntries(
  ["QMAILUSER", "MAILUSER", "LOGNAME", "QMAILHOST", "MAILHOST", "QMAILNAME", "MAILNAME", "NAME", "QMAILSUSER", "QMAILSHOST", "QMAILINJECT",
    "QMAILMFTFILE", "QMAILQUEUE", "QMAILDEFAULTDOMAIN", "QMAILDEFAULTHOST", "QMAILPLUSDOMAIN", "QMAILIDHOST"].map((k) => [k, ""]),
);
const env = (home: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...CLEAN, USER: "joe", QMHOME: home, ...more });

function queued(home: string): { id: string; mess: string; todo: string }[] {
  return readdirSync(join(home, "queue/todo")).map((id) => ({
    id,
    mess: readFileSync(join(home, "queue/mess", String(Number(id) % 23), id), "latin1"),
    todo: readFileSync(join(home, "queue/todo", id), "latin1"),
  }));
}
function oneLineFatal(stderr: Buffer, pattern: RegExp): void {
  const text = stderr.toString("latin1");
  assert.equal(text.split("\n").length, 2, text);
  assert.match(text, /^qm inject: (fatal|temporary): /);
  assert.match(text, pattern);
}

describe("qm inject", { timeout: 600_000 }, () => {
  it("queues a message with its header completed and rewritten, and the body byte for byte", async () => {
    const home = await makeHome("example.test");
    const body = "line 1\n\xff\xfe 8-bit \0 nul\r\n.\nFrom me\n";
    const input = Buffer.from(`To: alice, Bob <bob@elsewhere.test>\nBcc: carol\nSubject: \xe9t\xe9\n\n${body}`, "latin1");
    const r = await runQm(["inject", "-h"], { input, env: env(home, { NAME: "Joe User" }) });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stderr.length, 0);
    const [m, ...more] = queued(home);
    assert.equal(more.length, 0);
    assert.match(m!.todo, /^u0\0p\d+\0Fjoe@example\.test\0Talice@example\.test\0Tbob@elsewhere\.test\0Tcarol@example\.test\0$/);
    const lines = m!.mess.split("\n");
    assert.match(lines[0]!, /^Received: \(qmail \d+ invoked by uid 0\); /);
    assert.match(lines[1]!, /^Date: \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d -0000$/);
    assert.match(lines[2]!, /^Message-ID: <\d{14}\.\d+\.qm@example\.test>$/);
    assert.equal(lines[3], 'From: "Joe User" <joe@example.test>');
    assert.ok(m!.mess.endsWith(`\nTo: alice@example.test, Bob <bob@elsewhere.test>\nSubject: \xe9t\xe9\n\n${body}`), m!.mess);
    assert.doesNotMatch(m!.mess, /Bcc|carol/);
  });

  it("keeps UTF-8 in arguments and environment as UTF-8 bytes", async () => {
    const home = await makeHome("example.test");
    const r = await runQm(["inject", "-f", "j\u00f6rg@x.test", "\u00e5sa@x.test"], { input: "\n", env: env(home, { NAME: "J\u00f6rg \u{1F600}" }) });
    assert.equal(r.code, 0, r.stderr.toString());
    const [m] = queued(home);
    assert.equal(Buffer.from(m!.todo, "latin1").toString("utf8").replace(/^u0\0p\d+\0/, ""), "Fj\u00f6rg@x.test\0T\u00e5sa@x.test\0");
    assert.match(Buffer.from(m!.mess, "latin1").toString("utf8"), /^From: "J\u00f6rg \u{1F600}" <joe@example\.test>$/mu);
  });

  it("reads QMAILMFTFILE and QMAILINJECT from the environment", async () => {
    const home = await makeHome("example.test");
    const mft = join(tempDir(), "lists");
    writeFileSync(mft, "# lists\nqm-users@lists.test\n");
    const r = await runQm(["inject", "-n"], { input: "To: QM-Users@lists.test\nCc: bob\nFrom: me@x.test\n\nb\n", env: env(home, { QMAILMFTFILE: mft, QMAILINJECT: "fr" }) });
    assert.equal(r.code, 0, r.stderr.toString());
    const out = r.stdout.toString();
    assert.match(out, /^Return-Path: <joe-@example\.test-@\[\]>\n/);
    assert.match(out, /\nFrom: joe@example\.test\nMail-Followup-To: QM-Users@lists\.test,\n {2}bob@example\.test\n/);
    assert.doesNotMatch(out, /me@x\.test/);
    const missing = await runQm(["inject", "-n"], { input: "To: qm-users@lists.test\n\n", env: env(home, { QMAILMFTFILE: `${mft}.missing` }) });
    assert.equal(missing.code, 0);
    assert.doesNotMatch(missing.stdout.toString(), /Mail-Followup-To/);
  });

  it("prints with -n instead of queueing, Return-Path first", async () => {
    const home = await makeHome("example.test");
    const r = await runQm(["inject", "-n", "-f", "sender", "--", "a@x.test"], { input: "Subject: s\n\nb\n", env: env(home, { QMAILDEFAULTHOST: "dh.test" }) });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.match(r.stdout.toString(), /^Return-Path: <sender@dh\.test>\nDate: .*\nMessage-ID: .*\nFrom: joe@dh\.test\nCc: recipient list not shown: ;\nSubject: s\n\nb\n$/);
    assert.deepEqual(readdirSync(join(home, "queue/todo")), []);
  });

  const REFUSED = [
    ["no recipients", [], "Subject: hi\n\nbody\n", /No recipients/],
    ["an unknown option", ["-x", "a@x.test"], "\n", /Unknown option -x/],
    ["an unparsable recipient", ["Joe <joe@x.test"], "\n", /Unable to parse address/],
    ["an unparsable header address", ["-h"], "To: \"unterminated@x.test\n\n", /To field/],
    ["a control character inside an address (argv cannot carry NUL)", ["jo\u0001e@x.test"], "\n", /Control character/],
    ["a NUL inside a header address", ["-h"], "To: jo\0e@x.test\n\n", /Control character/],
    ["a CR inside a quoted header address", ["-h"], "To: \"jo\\\re\"@x.test\n\n", /Control character/],
    ["an LF cutting a quoted header address", ["-h"], "To: \"jo\\\ne\"@x.test\n\n", /Unterminated quoted string/],
    ["a header over 1 MB", ["a@x.test"], `X-Big: ${"x".repeat(1 << 20)}\n\nbody\n`, /header longer than 1048576 bytes/],
  ] as const;
  for (const [what, args, input, pattern] of REFUSED) {
    it(`exits 100 with one line on stderr for ${what}, queueing nothing`, async () => {
      const home = await makeHome();
      const r = await runQm(["inject", ...args], { input, env: env(home) });
      assert.equal(r.code, 100, r.stderr.toString());
      oneLineFatal(r.stderr, pattern);
      assert.deepEqual(readdirSync(join(home, "queue/todo")), []);
    });
  }

  it("exits 111 with one line on stderr when the queue cannot be written", async () => {
    const home = join(tempDir(), "missing");
    const r = await runQm(["inject", "a@x.test"], { input: "Subject: x\n\nb\n", env: env(home) });
    assert.equal(r.code, 111, r.stderr.toString());
    oneLineFatal(r.stderr, /qm inject: temporary: /);
  });

  it("hands the message to $QMAILQUEUE and maps its exit codes", async () => {
    const home = await makeHome();
    const out = join(tempDir(), "qq");
    const script = join(tempDir(), "fake-qq");
    writeFileSync(script, `#!/bin/sh\ncat > ${out}.msg\ncat <&1 > ${out}.env\nexit \${FAKE_QQ_EXIT:-0}\n`, { mode: 0o755 });
    const r = await runQm(["inject", "-f", "s@x.test", "r@y.test"], { input: "Subject: q\n\nb\n", env: env(home, { QMAILQUEUE: script }) });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(readFileSync(`${out}.env`, "latin1"), "Fs@x.test\0Tr@y.test\0\0");
    assert.match(readFileSync(`${out}.msg`, "latin1"), /\nSubject: q\n\nb\n$/);
    const perm = await runQm(["inject", "r@y.test"], { input: "\n", env: env(home, { QMAILQUEUE: script, FAKE_QQ_EXIT: "31" }) });
    assert.equal(perm.code, 100);
    const temp = await runQm(["inject", "r@y.test"], { input: "\n", env: env(home, { QMAILQUEUE: script, FAKE_QQ_EXIT: "53" }) });
    assert.equal(temp.code, 111);
  });

  it("streams a 20 MB body and takes 10 000 recipients from the header", async () => {
    const home = await makeHome();
    const rcpts = Array.from({ length: 10_000 }, (_, i) => `r${i}@x.test`);
    const body = Buffer.alloc(20 << 20, "0123456789abcdef\n");
    const r = await runQm(["inject"], { input: Buffer.concat([Buffer.from(`To: ${rcpts.join(", ")}\n\n`), body]), env: env(home), timeoutMs: 50_000 });
    assert.equal(r.code, 0, r.stderr.toString());
    const [m] = queued(home);
    assert.equal(m!.todo.split("\0T").length - 1, 10_000);
    assert.ok(m!.todo.endsWith("\0Tr9999@x.test\0"));
    assert.ok(m!.mess.endsWith(`\n\n${body.toString("latin1")}`));
  });

  it("writes into maildrop/ when run as a user who does not own the queue", { skip: process.getuid?.() !== 0 && "needs root to run as nobody" }, async () => {
    const home = await makeHome();
    chmodSync(join(home, ".."), 0o755);
    const r = await runQm(["inject", "a@x.test"], { input: "Subject: drop\n\nx\n", env: env(home, { HOME: "/tmp", USER: "nobody" }), spawn: { uid: 65534, gid: 65534 } });
    assert.equal(r.code, 0, r.stderr.toString());
    const dropped = readdirSync(join(home, "queue/maildrop")).filter((n) => !n.startsWith("."));
    assert.equal(dropped.length, 1);
    const file = join(home, "queue/maildrop", dropped[0]!);
    assert.equal(statSync(file).uid, 65534);
    const drop = readDrop(file);
    assert.equal(drop.envelope, "Fnobody@example.test\0Ta@x.test\0\0");
    assert.match(drop.message, /^Date: .*\nSubject: drop\n\nx\n$/s);
  });
});
