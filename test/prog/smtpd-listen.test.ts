import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import nodemailer from "nodemailer";
import { tempDir } from "../support/qm.ts";
import { Client, control, have, queued, smtpdHome, startListener, todoCount, type Running } from "../support/smtpd.ts";

const PY = "/usr/bin/python3";
let home = "";
let qm: Running;
let port = 0;
let port6 = 0;

before(async () => {
  home = await smtpdHome();
  const dir = tempDir("qm-cert-");
  spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k"), "-out", join(dir, "c"), "-days", "2", "-subj", "/CN=mx.example.test"], { stdio: "ignore", timeout: 60_000 });
  control(home, "servercert.pem", readFileSync(join(dir, "k"), "latin1") + readFileSync(join(dir, "c"), "latin1"));
  chmodSync(join(home, "control", "servercert.pem"), 0o600);
  const check = join(home, "checkpw");
  writeFileSync(check, `#!${PY}\nimport os, sys\nd = os.read(3, 2048).split(b"\\0")\nsys.exit(0 if d[:2] == [b"joe", b"s3cret"] else 1)\n`);
  chmodSync(check, 0o755);
  control(home, "checkpassword", `${check}\n`);
  control(home, "databytes", "200000\n");
  qm = await startListener(home, ["--listen", "127.0.0.1:0", "--listen", "[::1]:0", "--max", "300", "--max-per-ip", "300"]);
  [port = 0, port6 = 0] = qm.ports;
});
after(async () => {
  await qm?.stop();
});

async function transaction(c: Client, rcpt: string, body = "Subject: t\r\n\r\nhello\r\n"): Promise<string[]> {
  await c.replies(1);
  c.send(`EHLO client.test\r\nMAIL FROM:<s@client.test>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
  const first = await c.replies(4);
  c.send(`${body}.\r\nQUIT\r\n`);
  return [...first, ...(await c.replies(2))];
}

describe("qm smtpd --listen", { timeout: 300_000 }, () => {
  it("takes a message from Python's smtplib and queues it", () => {
    const script = `import smtplib,sys\ns=smtplib.SMTP("127.0.0.1", ${port}, timeout=20)\ns.ehlo("py.test")\nr=s.sendmail("a@py.test", ["postmaster@example.test"], "Subject: from python\\r\\n\\r\\n.leading dot\\r\\n")\ns.quit()\nprint("sent", r)\n`;
    const r = spawnSync(PY, ["-c", script], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const msg = queued(home).find((m) => m.includes("Subject: from python"));
    assert.ok(msg, "message in the queue");
    assert.match(msg, /\n\.leading dot\n/);
    assert.match(msg, /^Received: \(qmail \d+ invoked from network\);.*\nReceived: from unknown \(HELO py\.test\) \(127\.0\.0\.1\)\n  by 127\.0\.0\.1 with ESMTP; /);
  });

  it("talks to swaks, with PIPELINING", { skip: have("swaks") ? false : "swaks is not installed (Debian package swaks)" }, () => {
    const r = spawnSync("swaks", ["--server", "127.0.0.1", "--port", String(port), "--from", "s@swaks.test", "--to", "postmaster@example.test", "--pipeline", "--header", "Subject: via swaks"], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /<[-~]? +250 2\.0\.0 ok \d+ qp \d+/);
    assert.ok(queued(home).some((m) => m.includes("Subject: via swaks")));
  });

  it("refuses relaying to swaks without rights", { skip: have("swaks") ? false : "swaks is not installed" }, () => {
    const r = spawnSync("swaks", ["--server", "127.0.0.1", "--port", String(port), "--from", "s@swaks.test", "--to", "victim@elsewhere.test", "--quit-after", "RCPT"], { encoding: "utf8", timeout: 30_000 });
    assert.match(r.stdout, /553 5\.7\.1 sorry, that domain isn't in my list of allowed rcpthosts/);
  });

  it("lets nodemailer relay after STARTTLS and AUTH PLAIN", async () => {
    const t = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: "joe", pass: "s3cret" }, authMethod: "PLAIN" });
    const info = await t.sendMail({ from: "joe@example.test", to: "friend@elsewhere.test", subject: "via nodemailer", text: "hi" });
    assert.match(info.response, /^250 2\.0\.0 ok/);
    const msg = queued(home).find((m) => m.includes("Subject: via nodemailer"));
    assert.match(msg ?? "", /with ESMTPSA;/);
    t.close();
  });

  it("refuses a wrong password with 535 (AUTH LOGIN)", async () => {
    const t = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: "joe", pass: "wrong" }, authMethod: "LOGIN" });
    await assert.rejects(t.sendMail({ from: "joe@example.test", to: "friend@elsewhere.test", text: "x" }), /535/);
    t.close();
  });

  it("discards commands pipelined behind STARTTLS", async () => {
    const c = await Client.open(port);
    await c.replies(1);
    c.send("EHLO x\r\nSTARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n");
    assert.deepEqual((await c.replies(2)).map((l) => l.slice(0, 3)), ["250", "220"]);
    const sec = tlsConnect({ socket: c.sock, rejectUnauthorized: false });
    await new Promise((r) => sec.once("secureConnect", r));
    const tls = new Client(sec);
    tls.send("RCPT TO:<postmaster@example.test>\r\nQUIT\r\n");
    assert.deepEqual((await tls.replies(2)).map((l) => l.slice(0, 4)), ["503 ", "221 "]);
  });

  it("answers on IPv6", async () => {
    const c = await Client.open(port6, "::1");
    const r = await transaction(c, "postmaster@example.test");
    assert.deepEqual(r.map((l) => l.slice(0, 3)), ["250", "250", "250", "354", "250", "221"]);
  });

  it("serves 200 concurrent sessions", async () => {
    const before = todoCount(home) + queued(home).length;
    const clients = await Promise.all(Array.from({ length: 200 }, () => Client.open(port)));
    const results = await Promise.all(clients.map((c, i) => transaction(c, "postmaster@example.test", `Subject: load ${i}\r\n\r\nx\r\n`)));
    for (const r of results) assert.equal(r[4]?.slice(0, 3), "250", r.join(" | "));
    assert.equal(queued(home).filter((m) => m.includes("Subject: load ")).length, 200);
    assert.ok(todoCount(home) + queued(home).length >= before + 200);
  });

  it("refuses a message over databytes with 552 and queues nothing", async () => {
    const n = queued(home).length;
    const c = await Client.open(port);
    const r = await transaction(c, "postmaster@example.test", `Subject: big\r\n\r\n${`${"x".repeat(998)}\r\n`.repeat(250)}`);
    assert.equal(r[4]?.slice(0, 9), "552 5.3.4");
    assert.equal(queued(home).length, n);
  });
});

describe("qm smtpd --listen limits and rules", { timeout: 300_000 }, () => {
  it("limits sessions per client IP and obeys deny rules", async () => {
    const home = await smtpdHome();
    control(home, "smtprules", "127.0.0.1:allow\n::1:deny\n");
    const qm = await startListener(home, ["--listen", "127.0.0.1:0", "--listen", "[::1]:0", "--max-per-ip", "2"]);
    try {
      const [p4 = 0, p6 = 0] = qm.ports;
      const a = await Client.open(p4);
      const b = await Client.open(p4);
      assert.deepEqual([await a.replies(1), await b.replies(1)].map((r) => r[0]?.slice(0, 3)), ["220", "220"]);
      const c = await Client.open(p4);
      assert.match((await c.replies(1))[0] ?? "", /^421 4\.7\.0 too many sessions from your address/);
      const d = await Client.open(p6, "::1");
      assert.match((await d.replies(1))[0] ?? "", /^554 5\.7\.1/);
      a.send("QUIT\r\n");
      assert.deepEqual(await a.replies(1), ["221 2.0.0 example.test"]);
      for (const x of [a, b, c, d]) x.sock.destroy();
    } finally {
      await qm.stop();
    }
  });
});
