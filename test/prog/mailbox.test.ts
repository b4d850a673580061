// Mailbox integration end to end (issue 19): qm send with the real qm lspawn
// and qm rspawn; a private Dovecot (test/support/dovecot.ts) behind LMTP,
// read back over its IMAP; Maildir on demand; extension delimiters.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localHome, newMail, put, queueFiles, runBin } from "../support/send-env.ts";
import { dovecotMissing, readImap, startDovecot, type Dovecot } from "../support/dovecot.ts";
import { runQm } from "../support/qm.ts";

const root = (process.getuid?.() ?? -1) === 0;
const noDovecot = dovecotMissing();

/** localHome's env with the real qm rspawn (localHome fakes it). */
function realSpawners(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { QM_RSPAWN: _fake, ...rest } = env;
  return rest;
}
/** Adds an account to localHome's password file: a home owned by uid (and a Maildir when asked). */
function addUser(home: string, env: NodeJS.ProcessEnv, name: string, uid: number, withMaildir: boolean): string {
  const dir = join(home, "..", name);
  for (const d of ["", ...(withMaildir ? ["/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur"] : [])]) {
    mkdirSync(dir + d, { mode: d === "" ? 0o755 : 0o700 });
    chownSync(dir + d, uid, uid);
  }
  appendFileSync(env.QM_PASSWD!, `${name}:x:${uid}:${uid}::${dir}:/bin/sh\n`);
  return dir;
}
const BIG = `Subject: big\n\n${"x".repeat(70)}\n`.repeat(1) + `${"y".repeat(70)}\n`.repeat(40);

describe("LMTP to a real Dovecot", { skip: noDovecot, timeout: 300_000 }, () => {
  let dv: Dovecot;
  before(async () => {
    dv = await startDovecot([{ name: "ann@virt.test" }, { name: "bob@virt.test" }, { name: "carol@virt.test", quota: "*:storage=1K" }, { name: "dan@virt.test" }]);
  });
  after(async () => {
    await dv?.stop();
  });

  it("delivers a virtual domain's recipients through control/virtualdomains' LMTP route; the one over quota bounces 5.2.2", async () => {
    const { home, env, maildir } = await localHome();
    writeFileSync(join(home, "control", "virtualdomains"), `virt.test:lmtp:unix:${dv.lmtp}\n`);
    await put(home, "alice@example.test", ["ann@virt.test", "bob@virt.test", "carol@virt.test", "nosuch@virt.test"], BIG);
    const r = await runBin(["send", "--once"], realSpawners(env));
    const log = r.stdout.toString();
    assert.equal(r.code, 0, r.stderr.toString() + log);
    assert.match(log, /to remote ann@virt\.test$/m);
    assert.equal((log.match(/: success: LMTP_server_unix:/g) ?? []).length, 2, log);
    // qm send starts a message's recipients back to back: rspawn puts them in one LMTP transaction
    assert.equal((dv.log().match(/lmtp\(\d+\): Info: Connect from local/g) ?? []).length, 1, dv.log());
    const ann = await readImap(dv.imap, "ann@virt.test");
    assert.equal(ann.length, 1, dv.log());
    assert.match(ann[0]!, /\r\nSubject: big\r\n/);
    assert.match(ann[0]!, /^Return-Path: <alice@example\.test>\r\n/);
    assert.equal((await readImap(dv.imap, "bob@virt.test")).length, 1);
    assert.equal((await readImap(dv.imap, "carol@virt.test")).length, 0);
    const bounce = newMail(maildir("alice"));
    assert.equal(bounce.length, 1, log);
    assert.match(bounce[0]!, /\ncarol@virt\.test:\n[^\n]*\nRemote host said: 552 5\.2\.2 <carol@virt\.test> Quota exceeded/);
    assert.match(bounce[0]!, /\nnosuch@virt\.test:\n[^\n]*does not like recipient\.\nRemote host said: 550 5\.1\.1/);
    assert.doesNotMatch(bounce[0]!, /\nann@virt\.test:|\nbob@virt\.test:/);
    assert.deepEqual(queueFiles(home), []);
  });

  it("delivers a .qmail line lmtp:unix:... as its user, with the Delivered-To line", async () => {
    const { home, env } = await localHome();
    const dan = addUser(home, env, "dan", 65534, false);
    writeFileSync(join(dan, ".qmail"), `lmtp:unix:${dv.lmtp}\n`);
    chownSync(join(dan, ".qmail"), 65534, 65534);
    writeFileSync(join(home, "control", "locals"), "example.test\nvirt.test\n");
    await put(home, "alice@example.test", ["dan@virt.test"], "Subject: via dot-qmail\n\nhi dan\n");
    const r = await runBin(["send", "--once"], realSpawners(env));
    assert.match(r.stdout.toString(), /delivery 1: success: did_1\+0\+0/, r.stdout.toString());
    const got = await readImap(dv.imap, "dan@virt.test");
    assert.equal(got.length, 1);
    assert.match(got[0]!, /\r\nDelivered-To: dan@virt\.test\r\n/);
    assert.match(got[0]!, /\r\nSubject: via dot-qmail\r\n\r\nhi dan\r\n$/);
  });
});

describe("local mailboxes", { skip: root ? false : "needs root: deliveries switch uid", timeout: 300_000 }, () => {
  it("makes ~/Maildir on the first delivery, owned by the user, mode 700 (control/maildircreate 0: deferred)", async () => {
    const { home, env } = await localHome();
    const dave = addUser(home, env, "dave", 4242, false);
    writeFileSync(join(home, "control", "maildircreate"), "0\n");
    await put(home, "alice@example.test", ["dave@example.test"], "Subject: first\n\nwelcome\n");
    const off = await runBin(["send", "--once"], env);
    assert.match(off.stdout.toString(), /delivery 1: deferral: Unable_to_open_.*no_such_file/, off.stdout.toString());
    assert.equal(existsSync(join(dave, "Maildir")), false);
    writeFileSync(join(home, "control", "maildircreate"), "1\n");
    const on = await runBin(["send", "--once", "--force"], env);
    assert.match(on.stdout.toString(), /: success: did_1\+0\+0/, on.stdout.toString());
    for (const d of ["Maildir", "Maildir/new", "Maildir/cur", "Maildir/tmp"]) {
      const st = statSync(join(dave, d));
      assert.equal(st.uid, 4242, d);
      assert.equal(st.gid, 4242, d);
      assert.equal(st.mode & 0o777, 0o700, d);
    }
    const mail = newMail(join(dave, "Maildir"));
    assert.equal(mail.length, 1);
    assert.equal(statSync(join(dave, "Maildir", "new", readdirSync(join(dave, "Maildir", "new"))[0]!)).uid, 4242);
    assert.match(mail[0]!, /\n\nwelcome\n$/);
    assert.deepEqual(queueFiles(home), []);
  });

  it("honours Maildir++ quotas: the recipient over quota bounces 5.2.2, the others in the message are delivered; RCPT refuses a full mailbox", async () => {
    const { home, env, maildir } = await localHome();
    const quota = (user: string, text: string) => {
      writeFileSync(join(maildir(user), "maildirsize"), text);
      chownSync(join(maildir(user), "maildirsize"), 65534, 65534);
    };
    quota("bob", "100000S\n");
    quota("carol", "1000S,100C\n");
    await put(home, "alice@example.test", ["bob@example.test", "carol@example.test"], BIG);
    const r = await runBin(["send", "--once"], env);
    const log = r.stdout.toString();
    assert.equal((log.match(/: success: /g) ?? []).length, 2, log); // bob, then the bounce to alice
    assert.equal(newMail(maildir("bob")).length, 1);
    assert.match(readFileSync(join(maildir("bob"), "maildirsize"), "latin1"), /^100000S\n\d{4} 1\n$/);
    assert.equal(newMail(maildir("carol")).length, 0);
    const bounce = newMail(maildir("alice"));
    assert.equal(bounce.length, 1, log);
    assert.match(bounce[0]!, /\ncarol@example\.test:\nThe mailbox is full: 0 of 1000 bytes and 0 of 100 messages used, this message has \d+ bytes\. \(#5\.2\.2\)\n/);
    assert.doesNotMatch(bounce[0]!, /\nbob@example\.test:/);
    assert.deepEqual(queueFiles(home), []);
    quota("carol", "1000S,100C\n1000 3\n");
    const rcpt = "HELO c\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<carol@example.test>\r\nRCPT TO:<bob@example.test>\r\nQUIT\r\n";
    const smtp = () => runQm(["smtpd"], { input: rcpt, env: { ...env, TCPREMOTEIP: "192.0.2.9" } }).then((x) => x.stdout.toString().split("\r\n").filter((l) => /^\d{3} /.test(l)));
    assert.deepEqual((await smtp()).slice(3, 5), ["552 5.2.2 sorry, that mailbox is full", "250 2.1.5 ok"]);
    writeFileSync(join(home, "control", "quotawarn"), "1\n");
    assert.deepEqual((await smtp()).slice(3, 5), ["452 4.2.2 that mailbox is full; try again later", "250 2.1.5 ok"]);
    await put(home, "alice@example.test", ["carol@example.test"], BIG);
    const t = await runBin(["send", "--once"], env);
    assert.match(t.stdout.toString(), /delivery \d+: deferral: The_mailbox_is_full:_1000_of_1000_bytes.*\(#4\.2\.2\)/, t.stdout.toString());
  });

  it("delivers control/virtualusers' users with no account and no .qmail: their uid, their Maildir made on demand, their quota", async () => {
    const { home, env, maildir } = await localHome();
    const vmail = join(home, "..", "vmail");
    for (const d of ["", "/zed", "/amy"]) {
      mkdirSync(vmail + d, { mode: 0o755 });
      chownSync(vmail + d, 4300, 4300);
    }
    writeFileSync(join(home, "control", "locals"), "example.test\nvirt2.test\n");
    writeFileSync(join(home, "control", "virtualdomains"), "virt3.test:v3\n");
    writeFileSync(join(home, "control", "virtualusers"), [
      "# address:uid:gid:mailbox:quota:hash",
      `Zed@virt2.test:4300:4300:${vmail}/zed/Maildir/:2000S:$6$salt$hash`,
      `amy@virt3.test:4300:4300:${vmail}/amy/Maildir/`,
      "",
    ].join("\n"));
    await put(home, "alice@example.test", ["zed@virt2.test", "amy@virt3.test"], "Subject: small\n\nhello\n");
    const r = await runBin(["send", "--once"], env);
    assert.equal((r.stdout.toString().match(/: success: did_1\+0\+0/g) ?? []).length, 2, r.stdout.toString());
    for (const u of ["zed", "amy"]) {
      const box = join(vmail, u, "Maildir");
      assert.equal(statSync(box).uid, 4300);
      assert.equal(newMail(box).length, 1, u);
    }
    assert.match(readFileSync(join(vmail, "zed", "Maildir", "maildirsize"), "latin1"), /^2000S\n0 0\n\d+ 1\n$/);
    assert.equal(existsSync(join(vmail, "amy", "Maildir", "maildirsize")), false);
    await put(home, "alice@example.test", ["zed@virt2.test", "amy@virt3.test"], BIG);
    const big = await runBin(["send", "--once"], env);
    assert.equal(newMail(join(vmail, "amy", "Maildir")).length, 2, big.stdout.toString());
    assert.equal(newMail(join(vmail, "zed", "Maildir")).length, 1);
    const bounce = newMail(maildir("alice"));
    assert.equal(bounce.length, 1, big.stdout.toString());
    assert.match(bounce[0]!, /\nzed@virt2\.test:\nThe mailbox is full: \d+ of 2000 bytes.*\(#5\.2\.2\)/);
    const rcpt = "HELO c\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<ZED@virt2.test>\r\nRCPT TO:<nobody@virt2.test>\r\nRCPT TO:<amy@virt3.test>\r\nQUIT\r\n";
    const smtp = await runQm(["smtpd"], { input: rcpt, env: { ...env, TCPREMOTEIP: "192.0.2.9", RELAYCLIENT: "" } });
    assert.deepEqual(smtp.stdout.toString().split("\r\n").filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3)).slice(3, 6), ["250", "550", "250"]);
    writeFileSync(join(home, "control", "virtualusers"), "broken line\n");
    await put(home, "alice@example.test", ["zed@virt2.test"], "Subject: later\n\nx\n");
    const bad = await runBin(["send", "--once"], env);
    assert.match(bad.stdout.toString(), /deferral: .*control\/virtualusers:_bad_line_1/, bad.stdout.toString());
  });

  it("with control/extdelimiters -+, ann+tag@ and ann-tag@ both reach ann, and smtpd's RCPT check agrees", async () => {
    const { home, env } = await localHome();
    const ann = addUser(home, env, "ann", 4243, true);
    writeFileSync(join(ann, ".qmail-default"), "./Maildir/\n");
    chownSync(join(ann, ".qmail-default"), 4243, 4243);
    const rcpt = "HELO c\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<ann+tag@example.test>\r\nRCPT TO:<ann-tag@example.test>\r\nQUIT\r\n";
    const smtp = () => runQm(["smtpd"], { input: rcpt, env: { ...env, TCPREMOTEIP: "192.0.2.9", RELAYCLIENT: "" } })
      .then((r) => r.stdout.toString().split("\r\n").filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3)));
    assert.deepEqual(await smtp(), ["220", "250", "250", "550", "250", "221"]); // default "-": ann+tag is nobody's
    writeFileSync(join(home, "control", "extdelimiters"), "-+\n");
    assert.deepEqual(await smtp(), ["220", "250", "250", "250", "250", "221"]);
    await put(home, "alice@example.test", ["ann+tag@example.test", "ann-tag@example.test"], "Subject: tagged\n\nplus and dash\n");
    const r = await runBin(["send", "--once"], env);
    assert.equal((r.stdout.toString().match(/: success: /g) ?? []).length, 2, r.stdout.toString());
    const got = newMail(join(ann, "Maildir"));
    assert.equal(got.length, 2);
    assert.deepEqual(got.map((m) => /^Delivered-To: (.*)$/m.exec(m)?.[1]).sort(), ["ann+tag@example.test", "ann-tag@example.test"]);
    assert.deepEqual(queueFiles(home), []);
  });
});
