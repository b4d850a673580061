// Issue 15 items 1 and 2 end to end: `qm start` with three listeners from
// control/listen (port 25's policy, submission, smtps; each on 127.0.0.1 and
// a port the listener picks and reports), AUTH checked by a real Dovecot auth
// service (Debian's dovecot-core, a passwd-file, started under the test's
// temp dir and stopped by its PID), Python's smtplib as the mail client, and
// a scripted SMTP peer (via control/smtproutes) as the remote domain the
// authenticated clients relay to.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { runProcess, runQm, tempDir } from "../support/qm.ts";
import { makeCert, startPeer, type Peer } from "../support/smtp-peer.ts";
import { Client, have, isRoot } from "../support/smtpd.ts";
import { DOVECOT, startDovecotAuth, stopChild } from "../support/dovecot.ts";
import { Started } from "../support/started.ts";

const CERT = makeCert();
const skip = !isRoot
  ? "needs root: the listeners drop to nobody, Dovecot runs as root"
  : !existsSync(DOVECOT)
    ? "dovecot is not installed (Debian dovecot-core)"
    : !CERT
      ? "openssl is missing"
      : !have("python3")
        ? "python3 is missing"
        : false;


async function waitFor(what: string, test: () => boolean, ms = 30_000, detail = () => ""): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Python's smtplib, one scenario a run; prints what happened.
const PY = `
import smtplib, ssl, sys
what, port = sys.argv[1], int(sys.argv[2])
ctx = ssl._create_unverified_context()
msg = "From: joe@example.test\\r\\nTo: bob@remote.test\\r\\nSubject: %s\\r\\n\\r\\nhello from python\\r\\n" % what
def submission():
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.ehlo("py.test")
    s.starttls(context=ctx)
    s.ehlo("py.test")
    return s
try:
    if what == "smtps":
        s = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=20)
        s.login("joe", "s3cret")
    elif what == "submission":
        s = submission()
        s.login("joe", "s3cret")
    elif what == "submission-login":
        s = submission()
        s.user, s.password = "joe", "s3cret"
        s.auth("LOGIN", s.auth_login)
    elif what == "nologin":
        s = submission()
    elif what == "nologin-notls":
        s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    elif what == "badpass":
        s = submission()
        s.login("joe", "Wr0ngPa55")
    elif what == "notmine":
        s = submission()
        s.login("joe", "s3cret")
        s.sendmail("ceo@example.test", ["bob@remote.test"], msg)
    s.sendmail("joe@example.test", ["bob@remote.test"], msg)
    s.quit()
    print("sent")
except smtplib.SMTPSenderRefused as e:
    print("sender refused", e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPAuthenticationError as e:
    print("auth refused", e.smtp_code, e.smtp_error.decode())
`;

describe("qm start with smtp, submission and smtps listeners; AUTH through a real Dovecot", { skip, timeout: 300_000 }, () => {
  let dir = "";
  let home = "";
  let dovecot: ChildProcess | null = null;
  let peer: Peer | null = null;
  let qm: Started | null = null;
  const port = { smtp: 0, submission: 0, smtps: 0 };
  const python = async (what: string, p: number) => {
    const r = await runProcess("python3", ["-c", PY, what, String(p)], { timeoutMs: 60_000 });
    return r.stdout.toString().trim() + r.stderr.toString();
  };
  const delivered = (subject: string) => (peer?.sessions ?? []).flatMap((s) => s.bodies).find((b) => b.includes(`Subject: ${subject}\r\n`));
  const dovecotLog = () => (existsSync(join(dir, "dovecot.log")) ? readFileSync(join(dir, "dovecot.log"), "latin1") : "");

  before(async () => {
    dir = tempDir("qm-sub-");
    chmodSync(dir, 0o755);
    dovecot = startDovecotAuth(dir, { passwd: "joe:{PLAIN}s3cret\n", socket: "auth-qm", plaintext: false });
    await waitFor("Dovecot's auth socket", () => existsSync(join(dir, "auth-qm")), 15_000, dovecotLog);
    peer = await startPeer({});
    home = join(tempDir(), "qm");
    chmodSync(join(home, ".."), 0o755); // the listeners run as nobody and must reach control/
    assert.equal((await runQm(["init", "--me", "example.test"], { env: { QMHOME: home } })).code, 0);
    const control = (name: string, text: string, mode = 0o644) => writeFileSync(join(home, "control", name), text, { mode });
    control("servercert.pem", CERT!.key + CERT!.cert, 0o600);
    control("dovecotauth", `${join(dir, "auth-qm")}\n`);
    control("smtproutes", `remote.test:127.0.0.1:${peer.port}\n`);
    control("rcptcheck", "0\n");
    control("rules25", "127.0.0.1:allow,DATABYTES=100\n");
    control("listen", "# port 25, submission, smtps\n127.0.0.1:0 rules=rules25\n127.0.0.1:0 submission max-per-ip=2\n127.0.0.1:0 smtps max=3\n");
    qm = new Started(home, ["--smtpd-user", "nobody"]);
    for (const mode of ["smtp", "submission", "smtps"] as const) {
      const m = await qm.wait(new RegExp(`^smtpd: listening on 127\\.0\\.0\\.1:(\\d+) mode ${mode} max (\\d+) max-per-ip (\\d+) rules (\\S+)$`, "m"));
      port[mode] = Number(m[1]);
    }
  });
  after(async () => {
    await qm?.stop();
    await peer?.close();
    await stopChild(dovecot);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (home) rmSync(join(home, ".."), { recursive: true, force: true });
  });

  it("starts one listener a line, each with its own mode and limits", () => {
    const text = qm!.text;
    assert.match(text, /^start: smtpd 127\.0\.0\.1:0 started, pid \d+$/m);
    assert.match(text, /^smtpd: listening on 127\.0\.0\.1:\d+ mode smtp max 40 max-per-ip 10 rules rules25$/m);
    assert.match(text, /^smtpd: listening on 127\.0\.0\.1:\d+ mode submission max 40 max-per-ip 2 rules smtprules$/m);
    assert.match(text, /^smtpd: listening on 127\.0\.0\.1:\d+ mode smtps max 3 max-per-ip 10 rules smtprules$/m);
  });

  it("smtps: Python's SMTP_SSL logs in (Dovecot) and relays to a remote domain; the Received line says ESMTPSA and who", async () => {
    assert.equal(await python("smtps", port.smtps), "sent");
    await waitFor("the message at the remote peer", () => delivered("smtps") !== undefined, 60_000, () => qm!.text);
    const body = delivered("smtps")!;
    assert.match(body, /^Received: from unknown \(HELO \S+\) \(joe@127\.0\.0\.1\)\r\n {2}by 127\.0\.0\.1 with ESMTPSA; /m);
    assert.match(qm!.text, /^smtpd: \d+\.\d+ tls 127\.0\.0\.1 TLSv1\.[23] \S+$/m);
    assert.match(qm!.text, /^smtpd: \d+\.\d+ auth ok 127\.0\.0\.1 user joe mech PLAIN via dovecot$/m);
    assert.match(qm!.text, /^smtpd: \d+\.\d+ accepted 127\.0\.0\.1 maildrop\/\S+ from <joe@example\.test> rcpts 1 user joe$/m);
  });

  it("submission: STARTTLS and login() (PLAIN, and LOGIN) relay to a remote domain", async () => {
    assert.equal(await python("submission", port.submission), "sent");
    assert.equal(await python("submission-login", port.submission), "sent");
    await waitFor("both messages at the remote peer", () => delivered("submission") !== undefined && delivered("submission-login") !== undefined, 60_000, () => qm!.text);
    assert.match(delivered("submission")!, /\(HELO py\.test\) \(joe@127\.0\.0\.1\)\r\n {2}by 127\.0\.0\.1 with ESMTPSA; /);
    assert.match(qm!.text, /^smtpd: \d+\.\d+ auth ok 127\.0\.0\.1 user joe mech LOGIN via dovecot$/m);
  });

  it("submission without login() gets 530 at MAIL, with TLS or without", async () => {
    assert.equal(await python("nologin", port.submission), "sender refused 530 5.7.0 authentication required");
    assert.equal(await python("nologin-notls", port.submission), "sender refused 530 5.7.0 must issue a STARTTLS command first");
    assert.match(qm!.text, /^smtpd: \d+\.\d+ refused 127\.0\.0\.1 MAIL <joe@example\.test>: 530 5\.7\.0 authentication required$/m);
  });

  it("a wrong password gets 535; the failure is logged with the client IP and the user, never the password", async () => {
    assert.equal(await python("badpass", port.submission), "auth refused 535 5.7.8 authentication failed");
    assert.match(qm!.text, /^smtpd: \d+\.\d+ auth failed 127\.0\.0\.1 user joe mech PLAIN via dovecot$/m);
    assert.match(dovecotLog(), /passwd-file\(joe,127\.0\.0\.1\): Password mismatch/, "Dovecot judged it");
    assert.doesNotMatch(qm!.text, /Wr0ngPa55|s3cret/);
  });

  it("AUTH before STARTTLS on submission gets 538 and no password is read: Dovecot never hears of it", async () => {
    const c = await Client.open(port.submission);
    try {
      await c.replies(1);
      c.send(`EHLO raw.test\r\nAUTH PLAIN ${Buffer.from("\0mallory\0Secr3t").toString("base64")}\r\nAUTH LOGIN\r\nQUIT\r\n`);
      const r = await c.replies(4);
      assert.deepEqual(r.slice(1).map((l) => l.slice(0, 3)), ["538", "538", "221"]);
      assert.match(r[1]!, /^538 5\.7\.11 encryption required/);
    } finally {
      c.sock.destroy();
    }
    await qm!.wait(/refused 127\.0\.0\.1 AUTH: 538 5\.7\.11 encryption required: use STARTTLS first\n[^]*refused 127\.0\.0\.1 AUTH: 538/);
    assert.doesNotMatch(dovecotLog(), /mallory/);
    assert.doesNotMatch(qm!.text, /mallory|Secr3t/);
  });

  it("ten failed AUTHs end the session (a base64 error is 501), logged", async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: "127.0.0.1", port: port.smtps, rejectUnauthorized: false }, () => {
        s.write(`EHLO raw.test\r\n${"AUTH PLAIN !!!!\r\n".repeat(12)}`);
      });
      let text = "";
      s.setEncoding("latin1");
      s.setTimeout(20_000, () => s.destroy(new Error(`no end: ${text}`)));
      s.on("data", (d: string) => (text += d));
      s.on("error", reject);
      s.on("close", () => resolve(text));
    });
    const finals = got.split("\r\n").filter((l) => /^\d{3} /.test(l));
    assert.equal(finals.filter((l) => l.startsWith("501 5.5.2 cannot decode the base64 response")).length, 10, `${JSON.stringify(got)}\n${qm!.text.slice(-2500)}`);
    assert.equal(finals.at(-1), "421 4.7.0 too many failed authentication attempts, closing");
    await qm!.wait(/^smtpd: \d+\.\d+ dropped 127\.0\.0\.1: 421 4\.7\.0 too many failed authentication attempts, closing$/m);
  });

  it("password guessing: each failed AUTH is answered later than the last, and an address over control/authfailures an hour is not asked again", async () => {
    writeFileSync(join(home, "control", "authfailures"), "3\n");
    try {
      await new Promise((r) => setTimeout(r, 1100)); // the listener reads control/ at most once a second
      const bad = `AUTH PLAIN ${Buffer.from("\0guess\0wrong").toString("base64")}\r\n`;
      const replies: { line: string; at: number }[] = [];
      await new Promise<void>((resolve, reject) => {
        const s = tlsConnect({ host: "127.0.0.1", port: port.smtps, rejectUnauthorized: false });
        let buf = "";
        s.setEncoding("latin1");
        s.setTimeout(60_000, () => s.destroy(new Error(`no end: ${JSON.stringify(replies)}`)));
        s.on("data", (d: string) => {
          buf += d;
          for (let i = buf.indexOf("\r\n"); i >= 0; i = buf.indexOf("\r\n")) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (!/^\d{3} /.test(line)) continue;
            replies.push({ line, at: Date.now() });
            if (line.startsWith("220 ")) s.write("EHLO guess.test\r\n");
            else if (line.startsWith("250 ") || line.startsWith("535 ")) s.write(bad);
          }
        });
        s.on("error", reject);
        s.on("close", () => resolve());
      });
      const fails = replies.filter((r) => r.line.startsWith("535 "));
      assert.ok(fails.length >= 1 && fails.length <= 3, JSON.stringify(replies));
      assert.equal(replies.at(-1)?.line, "421 4.7.0 too many failed authentication attempts from your address in the last hour; try again later");
      if (fails.length >= 2) assert.ok(fails[1]!.at - fails[0]!.at >= 900, `the second failure waited ${fails[1]!.at - fails[0]!.at} ms (1000 ms expected)`);
      assert.ok((dovecotLog().match(/passwd-file\(guess,/g) ?? []).length <= 3, "Dovecot is not asked once the address is over its limit");
      await qm!.wait(/dropped 127\.0\.0\.1: 421 4\.7\.0 too many failed authentication attempts from your address/);
    } finally {
      rmSync(join(home, "control", "authfailures"));
    }
  });

  it("control/senderlogins: an authenticated user may use only its own senders (553 5.7.1)", async () => {
    writeFileSync(join(home, "control", "senderlogins"), "joe:joe@example.test\n");
    try {
      await new Promise((r) => setTimeout(r, 1100)); // the listener reads control/ at most once a second
      assert.match(await python("notmine", port.submission), /^sender refused 553 5\.7\.1 sorry, you are not allowed to use that sender address/);
      assert.equal(await python("submission", port.submission), "sent");
    } finally {
      rmSync(join(home, "control", "senderlogins"));
    }
  });

  it("port 25 keeps its policy: no AUTH without a back end in clear, no relaying, its own rules (DATABYTES=100)", async () => {
    const c = await Client.open(port.smtp);
    try {
      await c.replies(1);
      c.send("EHLO raw.test\r\n");
      const ehlo = await c.replies(1);
      assert.equal(ehlo[0], "250 STARTTLS");
      c.send("MAIL FROM:<a@elsewhere.test>\r\nRCPT TO:<postmaster@example.test>\r\nRCPT TO:<bob@remote.test>\r\nDATA\r\n");
      const r = await c.replies(4);
      assert.deepEqual(r.map((l) => l.slice(0, 3)), ["250", "250", "553", "354"]);
      c.send(`Subject: big\r\n\r\n${"x".repeat(200)}\r\n.\r\nQUIT\r\n`);
      const end = await c.replies(2);
      assert.match(end[0]!, /^552 /);
    } finally {
      c.sock.destroy();
    }
  });

  it("each listener keeps its own session limits: max-per-ip=2 on submission, max=3 on smtps", async () => {
    const open: Client[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const c = await Client.open(port.submission);
        open.push(c);
        assert.match((await c.replies(1))[0]!, /^220 /);
      }
      const third = await Client.open(port.submission);
      open.push(third);
      assert.deepEqual(await third.replies(1), ["421 4.7.0 too many sessions from your address, try again later"]);
      // smtps: three sessions still in their TLS handshake fill it; the fourth is refused (in clear, before any TLS)
      for (let i = 0; i < 3; i++) open.push(await Client.open(port.smtps));
      await new Promise((r) => setTimeout(r, 500));
      const fourth = await Client.open(port.smtps);
      open.push(fourth);
      assert.deepEqual(await fourth.replies(1), ["421 4.3.2 too many sessions, try again later"]);
      // port 25 is not touched by either limit
      const c25 = await Client.open(port.smtp);
      open.push(c25);
      assert.match((await c25.replies(1))[0]!, /^220 /);
    } finally {
      for (const c of open) c.sock.destroy();
    }
  });
});

describe("bad listeners", { timeout: 120_000 }, () => {
  it("qm start refuses a control/listen line it does not understand: exit 100, one line naming it", async () => {
    const home = join(tempDir(), "qm");
    assert.equal((await runQm(["init", "--me", "example.test"], { env: { QMHOME: home } })).code, 0);
    writeFileSync(join(home, "control", "listen"), "127.0.0.1:2525\n127.0.0.1:2587 submision\n");
    const r = await runQm(["start"], { env: { QMHOME: home }, timeoutMs: 30_000 });
    assert.equal(r.code, 100);
    assert.equal(r.stderr.toString(), 'qm start: fatal: control/listen line "127.0.0.1:2587 submision": unknown word "submision" (use smtp, submission, smtps, max=N, max-per-ip=N, rules=FILE). (#5.3.5)\n');
    assert.equal(existsSync(join(home, "start.pid")), false);
  });
  it("qm smtpd --submission and --tls-wrapper need control/servercert.pem: exit 100", async () => {
    const home = join(tempDir(), "qm");
    assert.equal((await runQm(["init", "--me", "example.test"], { env: { QMHOME: home } })).code, 0);
    for (const flag of ["--submission", "--tls-wrapper"]) {
      const r = await runQm(["smtpd", "--listen", "127.0.0.1:0", flag], { env: { QMHOME: home }, timeoutMs: 30_000 });
      assert.equal(r.code, 100, flag);
      assert.equal(r.stderr.toString(), `qm smtpd: fatal: ${flag} needs control/servercert.pem: TLS comes before AUTH. (#5.3.5)\n`);
    }
  });
});
