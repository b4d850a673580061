import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { makeHome, runQm, tempDir } from "../support/qm.ts";
import { DOVECOT, startDovecotAuth, stopChild } from "../support/dovecot.ts";
import { makeCert, startPeer, type Peer } from "../support/smtp-peer.ts";

// Issue 15 item 3 end to end: a real `qm remote` (and `qm send`) against a
// real relay that is not qm and requires AUTH: a private Postfix whose
// smtpd asks a private Dovecot auth service (SASL, passwd-file) and
// delivers into a virtual mailbox the test reads. Both run under the
// test's temp dir on a random 127.x.y.z (ports 587 and 465), and are
// stopped by `postfix -c DIR stop` and the Dovecot master's PID.

const isRoot = process.getuid?.() === 0;
const POSTFIX_SMTPD = "/usr/lib/postfix/sbin/smtpd";
const NOBODY = 65534;
const CERT = makeCert();
const skip = !isRoot
  ? "needs root: a private Postfix and Dovecot"
  : !existsSync(POSTFIX_SMTPD)
    ? "postfix is not installed (Debian postfix)"
    : !existsSync(DOVECOT)
      ? "dovecot is not installed (Debian dovecot-core)"
      : !CERT
        ? "openssl is missing"
        : false;

const USER = "alice@relay.test";
const PASSWORD = "pa:ss w\xc3\xb6rd"; // a ':' and UTF-8 bytes, as a byte string
const MESSAGE = "From: a@client.test\nSubject: through the relay\n\nhello\n";

function waitFor(what: string, test: () => boolean | Promise<boolean>, ms = 15_000, detail = () => ""): Promise<void> {
  const deadline = Date.now() + ms;
  return (async () => {
    while (!(await test())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = connect(port, host, () => { c.destroy(); res(true); });
    c.on("error", () => res(false));
  });
}

/** Postfix: smtpd on ADDR:587 (STARTTLS) and ADDR:465 (implicit TLS), AUTH through Dovecot, no relaying without it. */
function startPostfix(dir: string, addr: string): void {
  const etc = join(dir, "etc");
  for (const d of ["etc", "spool", "data", "vmail"]) mkdirSync(join(dir, d));
  chownSync(join(dir, "data"), Number(spawnSync("id", ["-u", "postfix"], { timeout: 60_000 }).stdout.toString()), 0);
  chownSync(join(dir, "vmail"), NOBODY, NOBODY);
  writeFileSync(join(dir, "cert.pem"), CERT!.cert);
  writeFileSync(join(dir, "key.pem"), CERT!.key, { mode: 0o600 });
  writeFileSync(join(etc, "main.cf"), `compatibility_level = 3.6
config_directory = ${etc}
queue_directory = ${dir}/spool
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.test
mydomain = relay.test
myorigin = relay.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks =
local_recipient_maps =
maillog_file = ${dir}/maillog
maillog_file_prefixes = ${dir}
syslog_name = qm-test-relay
biff = no
alias_maps =
alias_database =
smtputf8_enable = no
smtpd_error_sleep_time = 0
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = ${dir}/auth-postfix
smtpd_tls_security_level = may
smtpd_tls_cert_file = ${dir}/cert.pem
smtpd_tls_key_file = ${dir}/key.pem
smtpd_tls_auth_only = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
virtual_mailbox_domains = relay.test, tls.relay.test
virtual_mailbox_base = ${dir}/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:${NOBODY}
virtual_gid_maps = static:${NOBODY}
`);
  writeFileSync(join(etc, "master.cf"), `${addr}:587 inet n - n - - smtpd
${addr}:465 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
virtual   unix  -       n       n       -       -       virtual
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`);
  // no set-permissions: `postfix start` makes the queue directories it needs
  const r = spawnSync("postfix", ["-c", etc, "start"], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`private postfix did not start (${r.status}): ${r.stderr}`);
}

/** The messages Postfix's virtual agent delivered. */
function delivered(dir: string): string[] {
  const box = join(dir, "vmail", "box", "new");
  return existsSync(box) ? readdirSync(box).map((f) => readFileSync(join(box, f), "latin1")) : [];
}

const maillog = (dir: string) => (existsSync(join(dir, "maillog")) ? readFileSync(join(dir, "maillog"), "latin1") : "(no maillog)");
const records = (out: Buffer) => out.toString("latin1").split("\0").filter((r) => r !== "");

describe("qm remote through a real relay that requires AUTH (Postfix with Dovecot SASL)", { skip, timeout: 180_000 }, () => {
  let dir = "";
  let home = "";
  let addr = "";
  let dovecot: ChildProcess | null = null;
  let postfixUp = false;
  const remote = (host: string) => runQm(["remote", "--", host, "a@client.test", `bob@${host}`], { input: MESSAGE, env: { QMHOME: home }, timeoutMs: 60_000 });
  const smtpauth = (text: string, mode = 0o600) => {
    writeFileSync(join(home, "control", "smtpauth"), Buffer.from(text, "latin1"));
    chmodSync(join(home, "control", "smtpauth"), mode);
  };

  before(async () => {
    dir = tempDir("qm-relay-");
    chmodSync(dir, 0o755);
    addr = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    dovecot = startDovecotAuth(dir, { passwd: `${USER}:{PLAIN.BASE64}${Buffer.from(PASSWORD, "latin1").toString("base64")}\n`, socket: "auth-postfix", plaintext: true });
    await waitFor("dovecot's auth socket", () => existsSync(join(dir, "auth-postfix")));
    startPostfix(dir, addr);
    postfixUp = true;
    await waitFor("postfix on 587 and 465", async () => (await listening(addr, 587)) && (await listening(addr, 465)));
    home = await makeHome("client.test");
    // relay.test: STARTTLS on 587; tls.relay.test: implicit TLS on 465
    writeFileSync(join(home, "control", "smtproutes"), `relay.test:[${addr}]:587\ntls.relay.test:[${addr}]:465\n`);
  });
  after(async () => {
    if (postfixUp) spawnSync("postfix", ["-c", join(dir, "etc"), "stop"], { stdio: "ignore", timeout: 30_000 });
    await stopChild(dovecot);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (home) rmSync(join(home, ".."), { recursive: true, force: true });
  });

  it("delivers after STARTTLS with the credentials of control/smtpauth (a ':' and UTF-8 in the password)", async () => {
    smtpauth(`# the relay\n[${addr}]:587:${USER}:${PASSWORD}\n`);
    const r = await remote("relay.test");
    const recs = records(r.stdout);
    assert.equal(recs[0], "r", recs.join("|"));
    assert.match(recs[1]!, new RegExp(`^K${addr.replace(/\./g, "\\.")} accepted message\\.\\nRemote host said: 250 2\\.0\\.0 Ok: queued as`));
    await waitFor("the message in the relay's mailbox", () => delivered(dir).some((m) => m.includes("Subject: through the relay")), 30_000, () => maillog(dir));
    const log = readFileSync(join(dir, "maillog"), "latin1");
    assert.match(log, /sasl_method=PLAIN, sasl_username=alice@relay\.test/);
    assert.match(log, /ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1/);
  });

  it("delivers over implicit TLS to a :465 route (RFC 8314)", async () => {
    smtpauth(`[${addr}]:465:${USER}:${PASSWORD}\n`);
    const before = delivered(dir).length;
    const r = await remote("tls.relay.test");
    const recs = records(r.stdout);
    assert.equal(recs[0], "r", recs.join("|"));
    assert.match(recs[1]!, /^K/);
    await waitFor("the second message in the relay's mailbox", () => delivered(dir).length > before, 30_000, () => maillog(dir));
    assert.match(readFileSync(join(dir, "maillog"), "latin1"), /ehlo=1 auth=1 mail=1 rcpt=1 data=1/);
  });

  it("fails permanently (D) with Postfix's 535 reply on a wrong password", async () => {
    smtpauth(`[${addr}]:587:${USER}:wrong\n`);
    const recs = records((await remote("relay.test")).stdout);
    assert.equal(recs.length, 1, recs.join("|"));
    assert.match(recs[0]!, new RegExp(`^DConnected to ${addr.replace(/\./g, "\\.")} but it refused AUTH PLAIN with the credentials from control/smtpauth \\(wrong user name or password\\?\\)\\.\\nRemote host said: 535 5\\.7\\.8 Error: authentication failed`));
  });

  it("bounces the message through qm send with the relay's reply, and logs it", async () => {
    // the sender's domain routes to a scripted peer, which receives the bounce
    let peer: Peer | null = null;
    let qm = "";
    try {
      peer = await startPeer({});
      qm = await makeHome("client.test");
      writeFileSync(join(qm, "control", "smtproutes"), `relay.test:[${addr}]:587\nsink.test:127.0.0.1:${peer.port}\n`);
      writeFileSync(join(qm, "control", "smtpauth"), `[${addr}]:587:${USER}:Wr0ngPa55\n`, { mode: 0o600 });
      const inj = await runQm(["inject", "-f", "a@sink.test", "--", "bob@relay.test"], { input: MESSAGE, env: { QMHOME: qm } });
      assert.equal(inj.code, 0, inj.stderr.toString());
      const send = await runQm(["send", "--once"], { env: { QMHOME: qm }, timeoutMs: 90_000 });
      const log = send.stdout.toString() + send.stderr.toString();
      assert.match(log, /delivery \d+: failure: Connected_to_[\d.]+_but_it_refused_AUTH_PLAIN_with_the_credentials_from_control\/smtpauth.*535_5\.7\.8_Error:_authentication_failed/, log);
      await waitFor("the bounce at the sender's host", () => peer!.sessions.some((s) => s.bodies.length > 0), 30_000);
      const bounce = peer.sessions.flatMap((s) => s.bodies).join("");
      assert.match(bounce, /\r\nbob@relay\.test:\r\nConnected to /);
      assert.match(bounce, /refused AUTH PLAIN with the credentials from control\/smtpauth/);
      assert.doesNotMatch(bounce, /alice|Wr0ngPa55/, "the bounce names neither the user nor the password");
      assert.match(bounce, /Remote host said: 535 5\.7\.8 Error: authentication failed/);
    } finally {
      await peer?.close();
      if (qm) rmSync(join(qm, ".."), { recursive: true, force: true });
    }
  });

  it("defers (Z), sends nothing, and says why when control/smtpauth is open to others", async () => {
    smtpauth(`[${addr}]:587:${USER}:${PASSWORD}\n`, 0o640);
    const recs = records((await remote("relay.test")).stdout);
    assert.deepEqual(recs, ["Zcontrol/smtpauth is open to group or others (mode 0640): refusing to use it; chmod 600 control/smtpauth. (#4.3.0)\n"]);
  });
});

describe("qm remote and a relay without STARTTLS (scripted peer)", { timeout: 60_000 }, () => {
  it("never sends the password, nor any AUTH line, and defers", async () => {
    const peer = await startPeer({ answer: (line) => (/^ehlo/i.test(line) ? "250-plain.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME" : undefined) });
    const home = await makeHome("client.test");
    try {
      writeFileSync(join(home, "control", "smtproutes"), `relay.test:127.0.0.1:${peer.port}\n`);
      writeFileSync(join(home, "control", "smtpauth"), Buffer.from(`127.0.0.1:${peer.port}:${USER}:${PASSWORD}\n`, "latin1"), { mode: 0o600 });
      const r = await runQm(["remote", "--", "relay.test", "a@client.test", "bob@relay.test"], { input: MESSAGE, env: { QMHOME: home } });
      assert.deepEqual(records(r.stdout), ["ZConnected to 127.0.0.1 but it does not offer STARTTLS, and I send the password from control/smtpauth only over TLS.\ntls=none\n"]);
      await waitFor("the peer to see QUIT", () => peer.sessions.every((s) => s.commands.includes("QUIT")), 5000);
      const said = peer.sessions.flatMap((s) => s.commands);
      assert.deepEqual(said, ["EHLO client.test", "QUIT"]);
    } finally {
      await peer.close();
      rmSync(join(home, ".."), { recursive: true, force: true });
    }
  });
});
