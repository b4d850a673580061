// The sendmail wrapper driven as its users drive it: through links named
// sendmail and mailq, through Debian's bsd-mailx, and with a scripted -bs session.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { asText, fastQm, ROOT, runProcess, tempDir } from "../support/qm.ts";
import { readDrop } from "../support/maildrop.ts";

interface Out {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The qm under test, reached through a link called `name` (what install.sh makes). */
function linkAs(name: string): { cmd: string; args: string[]; path: string } {
  const dir = tempDir("qm-link-");
  chmodSync(dir, 0o755); // also reached by other users
  const path = join(dir, name);
  if (process.env.QM_BIN) {
    symlinkSync(process.env.QM_BIN, path);
    return { cmd: path, args: [], path };
  }
  symlinkSync(join(ROOT, "cli/qm.ts"), path);
  return { cmd: process.execPath, args: ["--import", "tsx", path], path };
}

function run(cmd: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number } = {}): Promise<Out> {
  const spawn = opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid };
  return runProcess(cmd, args, { input: opts.input, env: opts.env, timeoutMs: opts.timeoutMs, spawn }).then(asText);
}

// Helpers (init, inject, qread...) run the fast standalone binary; the links under test run the qm under test.
let fast = "";
before(async () => {
  fast = await fastQm();
});
function runQm(args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Out> {
  return run(fast, args, opts);
}
async function makeHome(): Promise<string> {
  const home = join(tempDir(), "qm");
  const r = await runQm(["init", "--me", "example.test"], { env: { QMHOME: home } });
  assert.equal(r.code, 0, r.stderr);
  return home;
}

interface Queued {
  readonly sender: string;
  readonly recipients: string[];
  readonly message: string;
}
/** Every message waiting in todo/ (no queue manager runs in these tests). */
function queued(home: string): Queued[] {
  const q = join(home, "queue");
  return readdirSync(join(q, "todo")).map((id) => {
    const fields = readFileSync(join(q, "todo", id), "latin1").split("\0");
    return {
      sender: (fields.find((f) => f.startsWith("F")) ?? "F").slice(1),
      recipients: fields.filter((f) => f.startsWith("T")).map((f) => f.slice(1)),
      message: readFileSync(join(q, "mess", String(Number(id) % 23), id), "latin1"),
    };
  });
}
function only(home: string): Queued {
  const all = queued(home);
  assert.equal(all.length, 1, `one message queued, found ${all.length}`);
  return all[0]!;
}

describe("sendmail (a link to qm)", { timeout: 300_000 }, () => {
  let sendmail: ReturnType<typeof linkAs>;
  before(() => {
    sendmail = linkAs("sendmail");
  });

  it("queues -t mail to To, Cc and Bcc and drops the Bcc line", async () => {
    const home = await makeHome();
    const msg = "To: bob@example.org\nCc: Carol <carol@example.net>\nBcc: dave@example.com\nSubject: t\n\nbody\n.\nmore\n";
    const r = await run(sendmail.cmd, [...sendmail.args, "-t", "-i"], { input: msg, env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr);
    const m = only(home);
    assert.deepEqual(m.recipients.sort(), ["bob@example.org", "carol@example.net", "dave@example.com"]);
    assert.doesNotMatch(m.message, /^Bcc:/im);
    assert.match(m.message, /^Cc: Carol <carol@example\.net>$/m);
    assert.match(m.message, /\n\nbody\n\.\nmore\n$/, "a lone dot is data, -i or not");
  });

  it("takes recipients from the arguments only without -t, and sets the sender with -f and the name with -F", async () => {
    const home = await makeHome();
    const msg = "To: notme@example.org\nSubject: t\n\nbody\n";
    const r = await run(sendmail.cmd, [...sendmail.args, "-oi", "-f", "list-owner@lists.example.org", "-F", "The List", "--", "-dash@example.org"], { input: msg, env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr);
    const m = only(home);
    assert.deepEqual(m.recipients, ["-dash@example.org"]);
    assert.equal(m.sender, "list-owner@lists.example.org");
    assert.match(m.message, /^From: "?The List"? <list-owner@lists\.example\.org>$/m);
  });

  it("accepts the flags users pass out of habit", async () => {
    const home = await makeHome();
    const r = await run(sendmail.cmd, [...sendmail.args, "-v", "-oem", "-odb", "-B8BITMIME", "-oi", "-i", "bob@example.org"], { input: "Subject: x\n\nbody\n", env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(only(home).recipients, ["bob@example.org"]);
  });

  it("refuses an unknown flag with exit 100 and a one-line reason, queueing nothing", async () => {
    const home = await makeHome();
    const r = await run(sendmail.cmd, [...sendmail.args, "-X", "bob@example.org"], { input: "Subject: x\n\nbody\n", env: { QMHOME: home } });
    assert.equal(r.code, 100);
    assert.match(r.stderr, /^sendmail: fatal: Unsupported option -X; usage: sendmail /);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
    assert.deepEqual(queued(home), []);
  });

  it("exits 100 when there is no recipient", async () => {
    const home = await makeHome();
    const r = await run(sendmail.cmd, [...sendmail.args, "-i"], { input: "Subject: x\n\nbody\n", env: { QMHOME: home } });
    assert.equal(r.code, 100);
    assert.match(r.stderr, /No recipients/);
  });

  it("queues through maildrop/ for a user who is neither root nor the queue's owner (no setuid)", { skip: process.getuid?.() !== 0 ? "needs root to run as nobody" : false }, async () => {
    const home = await makeHome();
    chmodSync(join(home, ".."), 0o755);
    const r = await run(sendmail.cmd, [...sendmail.args, "-t"], { input: "To: bob@example.org\nSubject: drop\n\nbody\n", env: { QMHOME: home, HOME: "/tmp" }, uid: 65534 });
    assert.equal(r.code, 0, r.stderr);
    const drops = readdirSync(join(home, "queue", "maildrop")).filter((f) => !f.startsWith("."));
    assert.equal(drops.length, 1);
    const file = readDrop(join(home, "queue", "maildrop", drops[0]!));
    assert.match(file.envelope, /^F[^\0]*\0Tbob@example\.org\0\0$/);
    assert.match(file.message, /^Subject: drop$/m);
    assert.deepEqual(queued(home), [], "nothing written into the queue itself");
  });

  it("exits 111 when the home is missing", async () => {
    const r = await run(sendmail.cmd, [...sendmail.args, "bob@example.org"], { input: "x\n", env: { QMHOME: join(tempDir(), "nothing") } });
    assert.equal(r.code, 111, r.stderr);
  });

  it("speaks SMTP on stdin/stdout with -bs as a trusted local client (relaying allowed)", async () => {
    const home = await makeHome();
    const script = ["HELO localhost", "MAIL FROM:<root@example.test>", "RCPT TO:<far@example.net>", "DATA", "Subject: bs", "", "hello", ".", "QUIT", ""].join("\r\n");
    const r = await run(sendmail.cmd, [...sendmail.args, "-bs"], { input: script, env: { QMHOME: home, PROTO: undefined } });
    assert.equal(r.code, 0, r.stderr);
    const codes = r.stdout.split("\r\n").filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3));
    assert.deepEqual(codes, ["220", "250", "250", "250", "354", "250", "221"]);
    const m = only(home);
    assert.deepEqual(m.recipients, ["far@example.net"]);
    assert.equal(m.sender, "root@example.test");
    assert.match(m.message, /\n\nhello\n$/);
  });

  it("lists the queue with -bp exactly as qm qread does", async () => {
    const home = await makeHome();
    const q = await runQm(["inject", "bob@example.org"], { input: "Subject: q\n\nx\n", env: { QMHOME: home } });
    assert.equal(q.code, 0, q.stderr);
    const bp = await run(sendmail.cmd, [...sendmail.args, "-bp"], { env: { QMHOME: home } });
    const qread = await runQm(["qread"], { env: { QMHOME: home } });
    assert.equal(bp.code, 0, bp.stderr);
    assert.match(bp.stdout, /bob@example\.org/);
    assert.equal(bp.stdout, qread.stdout);
  });
});

describe("mailq (a link to qm)", { timeout: 300_000 }, () => {
  it("prints the queue listing: date, id, size, sender, then one line per recipient", async () => {
    const home = await makeHome();
    for (const to of ["bob@example.org", "carol@example.net"]) {
      const q = await runQm(["inject", "-f", "sender@example.test", to], { input: "Subject: q\n\nx\n", env: { QMHOME: home } });
      assert.equal(q.code, 0, q.stderr);
    }
    const mailq = linkAs("mailq");
    const r = await run(mailq.cmd, [...mailq.args, "-v"], { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr);
    const heads = r.stdout.split("\n").filter((l) => /^\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT  #\d+  \d+  <sender@example\.test> /.test(l));
    assert.equal(heads.length, 2, r.stdout);
    assert.match(r.stdout, /\tbob@example\.org\n/);
    assert.match(r.stdout, /\tcarol@example\.net\n/);
  });
});

describe("newaliases (a link to qm)", { timeout: 300_000 }, () => {
  it("compiles the aliases file named in control/aliases", async () => {
    const home = await makeHome();
    const file = join(tempDir(), "aliases");
    writeFileSync(file, "webmaster: bob@example.org\n");
    writeFileSync(join(home, "control", "aliases"), `${file}\n`);
    const link = linkAs("newaliases");
    const r = await run(link.cmd, link.args, { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(`${file}.cdb`), "aliases.cdb written");
  });
});

describe("bsd-mailx through sendmail", { timeout: 300_000 }, () => {
  const mailx = spawnSync("sh", ["-c", "command -v bsd-mailx"], { encoding: "utf8", timeout: 60_000 }).stdout.trim();
  it("queues `echo body | mail -s subject user`", { skip: mailx === "" ? "bsd-mailx is not installed (Debian package bsd-mailx)" : false }, async () => {
    const home = await makeHome();
    const dir = tempDir("qm-mailx-");
    let program = join(dir, "sendmail");
    if (process.env.QM_BIN) {
      symlinkSync(process.env.QM_BIN, program);
    } else {
      // mailx runs an executable; this one runs the source through a link named sendmail.
      const link = linkAs("sendmail");
      program = join(dir, "sendmail-source");
      writeFileSync(program, `#!/bin/sh\ncd '${ROOT}' && exec '${process.execPath}' --import tsx '${link.path}' "$@"\n`);
      chmodSync(program, 0o755);
    }
    writeFileSync(join(dir, "mailrc"), `set sendmail=${program}\nset sendwait\n`);
    // HOME and MBOX keep mailx away from the real user's files; /usr/sbin/sendmail is never touched.
    const r = await run(mailx, ["-s", "subject line", "bob@example.org"], { input: "body of the message\n", env: { QMHOME: home, MAILRC: join(dir, "mailrc"), HOME: dir } });
    assert.equal(r.code, 0, r.stderr);
    const m = only(home);
    assert.deepEqual(m.recipients, ["bob@example.org"]);
    assert.match(m.message, /^Subject: subject line$/m);
    assert.match(m.message, /^To: bob@example\.org$/m);
    assert.match(m.message, /\n\nbody of the message\n$/);
  });
});

describe("sendmail -q", { timeout: 300_000 }, () => {
  it("runs the queue once and delivers to a local Maildir", { skip: process.getuid?.() !== 0 ? "needs root to deliver as another uid" : false }, async () => {
    const home = await makeHome();
    const user = join(tempDir("qm-user-"), "joe");
    mkdirSync(user, { recursive: true });
    const md = await runQm(["maildirmake", join(user, "Maildir")]);
    assert.equal(md.code, 0, md.stderr);
    spawnSync("chown", ["-R", "65534:65534", user], { timeout: 60_000 });
    chmodSync(join(user, ".."), 0o755);
    writeFileSync(join(home, "users", "assign"), `=joe:nobody:65534:65534:${user}:::\n.\n`);
    assert.equal((await runQm(["newu"], { env: { QMHOME: home } })).code, 0);
    const q = await runQm(["inject", "joe@example.test"], { input: "Subject: run\n\nqueued\n", env: { QMHOME: home } });
    assert.equal(q.code, 0, q.stderr);
    const sendmail = linkAs("sendmail");
    const r = await run(sendmail.cmd, [...sendmail.args, "-q"], { env: { QMHOME: home }, timeoutMs: 45_000 });
    assert.equal(r.code, 0, r.stderr);
    const files = readdirSync(join(user, "Maildir", "new"));
    assert.equal(files.length, 1, r.stdout + r.stderr);
    assert.match(readFileSync(join(user, "Maildir", "new", files[0]!), "latin1"), /\n\nqueued\n$/);
  });
});
