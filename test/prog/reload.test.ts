// A reload that reloads: control files changed under a running `qm start`,
// then SIGHUP, and the next message uses them (smtproutes, helohost, locals,
// me, concurrencyremote, timeoutremote, bouncefrom); a new
// control/servercert.pem is served to the next STARTTLS without any signal.
// Real qm start, real sockets, test SMTP peers on 127.0.0.1.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect, type PeerCertificate } from "node:tls";
import { joeHome } from "../support/joe-home.ts";
import { fastQm, tempDir } from "../support/qm.ts";
import { startPeer, type Peer } from "../support/smtp-peer.ts";
import { makeCa, type TestCa } from "../support/tls-ca.ts";
import { Started, waitFor } from "../support/started.ts";

const ROOT_ONLY = process.getuid?.() !== 0 ? "needs root: parts drop to other users, deliveries run as the recipient's uid" : false;
const NO_OPENSSL = spawnSync("openssl", ["version"], { timeout: 60_000 }).status === 0 ? false : "openssl is missing";

/** A running `qm start` and its output without the time stamps. */


/**
 * An SMTP server that holds each end-of-data reply for `holdMs` (or for
 * ever, with Infinity) and counts the transactions open at once.
 */
async function slowPeer(holdMs: number): Promise<{ port: number; maxOpen: () => number; reset(): void; got: () => number; answered: () => number; close(): Promise<void> }> {
  let open = 0;
  let max = 0;
  let got = 0;
  let answered = 0;
  const socks = new Set<Socket>();
  const server: Server = createServer((sock) => {
    socks.add(sock);
    sock.on("error", () => {});
    sock.on("close", () => socks.delete(sock));
    let buf = "";
    let inData = false;
    let inTx = false;
    sock.write("220 slow.test ESMTP\r\n");
    sock.on("data", (b: Buffer) => {
      buf += b.toString("latin1");
      for (let nl = buf.indexOf("\r\n"); nl >= 0; nl = buf.indexOf("\r\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (inData) {
          if (line !== ".") continue;
          inData = false;
          got++;
          if (holdMs === Infinity) continue;
          setTimeout(() => {
            if (inTx) (open--, (inTx = false));
            answered++;
            sock.write("250 ok\r\n");
          }, holdMs);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "MAIL") {
          inTx = true;
          max = Math.max(max, ++open);
        }
        if (verb === "DATA") inData = true;
        if (verb === "RSET" && inTx) (open--, (inTx = false));
        sock.write(verb === "EHLO" ? "250-slow.test\r\n250 PIPELINING\r\n" : verb === "DATA" ? "354 go\r\n" : verb === "QUIT" ? "221 bye\r\n" : "250 ok\r\n");
      }
    });
    sock.on("close", () => {
      if (inTx) (open--, (inTx = false));
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  return {
    port: (server.address() as { port: number }).port,
    maxOpen: () => max,
    reset: () => void (max = open),
    got: () => got,
    answered: () => answered,
    close: () => new Promise<void>((res) => {
      for (const s of socks) s.destroy();
      server.close(() => res());
    }),
  };
}

/** STARTTLS on the listener; the certificate it showed. */
function starttlsCert(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    sock.setTimeout(20_000, () => sock.destroy(new Error("smtp timeout")));
    sock.on("error", reject);
    let got = "";
    let step = 0;
    const onData = (b: Buffer) => {
      got += b.toString("latin1");
      if (step === 0 && /^220 .*\r\n/m.test(got)) {
        step = 1;
        got = "";
        sock.write("EHLO client.test\r\n");
      } else if (step === 1 && /^250 .*\r\n/m.test(got)) {
        if (!/STARTTLS/.test(got)) return reject(new Error(`no STARTTLS offered: ${got}`));
        step = 2;
        got = "";
        sock.write("STARTTLS\r\n");
      } else if (step === 2 && /^220 .*\r\n/m.test(got)) {
        step = 3;
        sock.off("data", onData);
        const t = tlsConnect({ socket: sock, rejectUnauthorized: false, servername: "mx.example.test" }, () => {
          const cert = t.getPeerCertificate();
          t.end("QUIT\r\n");
          t.destroy();
          resolve(cert);
        });
        t.on("error", reject);
      }
    };
    sock.on("data", onData);
  });
}

describe("SIGHUP to qm start: every part reads its control files again", { skip: ROOT_ONLY, timeout: 300_000 }, () => {
  let home = "";
  let fast = "";
  let maildir = "";
  let qm: Started;
  let port = 0;
  let ca: TestCa | null = null;
  const peers: { close(): Promise<unknown> }[] = [];
  let peerA: Peer;
  let peerB: Peer;
  const ctl = (name: string, text: string) => writeFileSync(join(home, "control", name), text);
  const newMail = () => (existsSync(join(maildir, "new")) ? readdirSync(join(maildir, "new")).map((f) => readFileSync(join(maildir, "new", f), "latin1")) : []);
  const inject = (to: string[], subject: string, from = "joe@example.test") => {
    const r = spawnSync(fast, ["inject", "-f", from, ...to], { input: `From: ${from}\nSubject: ${subject}\n\n${subject} body\n`, env: { ...process.env, QMHOME: home }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr.toString());
  };
  const localMail = (subject: string) => waitFor(`local delivery of ${subject}`, () => newMail().find((m) => m.includes(`Subject: ${subject}\n`)));
  const peerGot = (p: Peer, subject: string) => waitFor(`${subject} at the peer`, () => p.sessions.find((s) => s.bodies.some((b) => b.includes(`Subject: ${subject}\r\n`))));
  /** SIGHUP to start; resolves when send, rspawn, lspawn and smtpd have each logged their reload line. */
  const hup = async () => {
    const from = qm.text.length;
    qm.child.kill("SIGHUP");
    await qm.wait(/^start: SIGHUP: passed to send, smtpd$/m, from);
    const lines: Record<string, string> = {};
    for (const part of ["send", "rspawn", "lspawn", "smtpd"]) lines[part] = (await qm.wait(new RegExp(`^${part}: reload: reloaded control files; (.*)$`, "m"), from))[1]!;
    return lines;
  };

  before(async () => {
    fast = await fastQm();
    ({ home, maildir } = joeHome(fast));
    peerA = await startPeer();
    peerB = await startPeer();
    peers.push(peerA, peerB);
    ctl("smtproutes", `:127.0.0.1:${peerA.port}\n`); // every remote domain to peer A
    ctl("helohost", "helo-one.test\n");
    ca = makeCa();
    if (ca) {
      const one = ca.leaf(["mx.example.test"], "cert-one");
      writeFileSync(join(home, "control", "servercert.pem"), one.key + one.cert, { mode: 0o644 });
    }
    qm = new Started(home, ["--listen", "127.0.0.1:0", "--smtpd-user", "nobody"]);
    port = Number((await qm.wait(/smtpd: listening on 127\.0\.0\.1:(\d+)/))[1]);
    await qm.wait(/^status: local 0\/10 remote 0\/20$/m);
  });
  after(async () => {
    if (qm && qm.child.exitCode === null && qm.child.signalCode === null) {
      qm.child.kill("SIGTERM");
      const t = setTimeout(() => qm.child.kill("SIGKILL"), 20_000);
      await qm.exited();
      clearTimeout(t);
    }
    for (const p of peers) await p.close();
    ca?.close();
  });

  it("smtproutes: the next remote delivery goes to the new route", async () => {
    inject(["bob@remote.test"], "route-one");
    await peerGot(peerA, "route-one");
    ctl("smtproutes", `:127.0.0.1:${peerB.port}\n`);
    const lines = await hup();
    assert.equal(lines.rspawn, "changed: smtproutes");
    assert.equal(lines.send, "none changed");
    assert.equal(lines.lspawn, "none changed");
    assert.equal(lines.smtpd, "none changed");
    const before = peerA.sessions.length;
    inject(["bob@remote.test"], "route-two");
    await peerGot(peerB, "route-two");
    assert.equal(peerA.sessions.length, before, "nothing more went to the old route");
  });

  it("helohost: the peer sees the new HELO name", async () => {
    assert.ok(peerB.sessions.every((s) => s.commands[0] === "EHLO helo-one.test"), JSON.stringify(peerB.sessions.map((s) => s.commands[0])));
    ctl("helohost", "helo-two.test\n");
    assert.equal((await hup()).rspawn, "changed: helohost");
    inject(["bob@remote.test"], "helo-two");
    const s = await peerGot(peerB, "helo-two");
    assert.equal(s.commands[0], "EHLO helo-two.test");
  });

  it("locals: a domain added is delivered locally from the next message on", async () => {
    inject(["joe@other.test"], "other-remote");
    await peerGot(peerB, "other-remote");
    ctl("locals", "example.test\nother.test\n");
    const lines = await hup();
    assert.equal(lines.send, "changed: locals");
    assert.equal(lines.rspawn, "changed: locals");
    assert.equal(lines.smtpd, "changed: locals");
    inject(["joe@other.test"], "other-local");
    await localMail("other-local");
    assert.ok(!peerB.sessions.some((s) => s.bodies.some((b) => b.includes("Subject: other-local"))));
  });

  it("me: without locals, the new name is the local domain", async () => {
    inject(["joe@renamed.test"], "renamed-remote");
    await peerGot(peerB, "renamed-remote");
    rmSync(join(home, "control", "locals"));
    ctl("me", "renamed.test\n");
    const lines = await hup();
    assert.equal(lines.send, "changed: me locals");
    inject(["joe@renamed.test"], "renamed-local");
    await localMail("renamed-local");
    inject(["joe@example.test"], "old-name-remote"); // example.test is no longer this host's
    await peerGot(peerB, "old-name-remote");
    ctl("me", "example.test\n");
    await hup();
  });

  it("bouncefrom: the next bounce comes from the new sender", async () => {
    const rejecting = await startPeer({ answer: (l) => (/^RCPT/i.test(l) ? "550 5.1.1 no such user" : undefined) });
    peers.push(rejecting);
    ctl("smtproutes", `reject.test:127.0.0.1:${rejecting.port}\n:127.0.0.1:${peerB.port}\n`);
    ctl("bouncefrom", "bounce-two\n");
    const lines = await hup();
    assert.equal(lines.send, "changed: bouncefrom");
    assert.equal(lines.rspawn, "changed: smtproutes");
    inject(["nobody@reject.test"], "to-bounce");
    const bounce = await localMail("failure notice");
    assert.match(bounce, /^From: bounce-two@example\.test$/m);
  });

  it("concurrencyremote: the new limit holds for the next deliveries", async () => {
    const slow = await slowPeer(1500);
    peers.push(slow);
    ctl("smtproutes", `:127.0.0.1:${slow.port}\n`);
    await hup();
    const from0 = qm.text.length;
    inject(["a@one.test", "b@two.test", "c@three.test"], "parallel"); // three domains: three transactions
    await waitFor("three transactions", () => (slow.got() >= 3 ? true : null));
    assert.ok(slow.maxOpen() >= 2, `with concurrencyremote 20 they overlap (${slow.maxOpen()})`);
    await qm.wait(/^end msg \d+$/m, from0); // all three reported to send
    ctl("concurrencyremote", "1\n");
    const from = qm.text.length;
    const lines = await hup();
    assert.equal(lines.send, "changed: concurrencyremote");
    await qm.wait(/^status: local 0\/10 remote 0\/1$/m, from);
    slow.reset();
    const from2 = qm.text.length;
    inject(["a@one.test", "b@two.test", "c@three.test"], "serial");
    await waitFor("three more transactions", () => (slow.got() >= 6 ? true : null), 60_000);
    assert.equal(slow.maxOpen(), 1, "one at a time");
    assert.doesNotMatch(qm.text.slice(from2), /remote [2-9]\/1\b/);
    ctl("concurrencyremote", "20\n");
    await hup();
  });

  it("timeoutremote: a peer that never answers is given up after the new timeout", async () => {
    const hang = await slowPeer(Infinity);
    peers.push(hang);
    ctl("smtproutes", `hang.test:127.0.0.1:${hang.port}\n:127.0.0.1:${peerB.port}\n`);
    ctl("timeoutremote", "2\n");
    const lines = await hup();
    assert.equal(lines.rspawn, "changed: smtproutes timeoutremote");
    const from = qm.text.length;
    const t0 = Date.now();
    inject(["x@hang.test"], "hanging");
    const d = (await qm.wait(/starting delivery (\d+): msg \d+ to remote x@hang\.test/, from))[1];
    await qm.wait(new RegExp(`delivery ${d}: deferral: `), from, 60_000);
    assert.ok(Date.now() - t0 < 60_000, "well before the default 1200 s");
  });

  it("servercert.pem: a renewed certificate is served to the next STARTTLS, without a signal or restart", { skip: NO_OPENSSL }, async () => {
    const first = await starttlsCert(port);
    assert.equal(first.subject.CN, "cert-one");
    const two = ca!.leaf(["mx.example.test"], "cert-two");
    const tmp = join(home, "control", "servercert.pem.new");
    writeFileSync(tmp, two.key + two.cert, { mode: 0o644 });
    renameSync(tmp, join(home, "control", "servercert.pem")); // as an ACME client installs it
    const second = await starttlsCert(port);
    assert.equal(second.subject.CN, "cert-two");
    assert.notEqual(second.fingerprint256, first.fingerprint256);
    // smtpd's lines reach the test through qm start's relay, which may come after the TLS answer: wait for them
    await qm.wait(/^smtpd: control\/servercert\.pem changed: new sessions get the new certificate$/m);
    // a broken new file: the certificate in use stays, with a warning
    writeFileSync(tmp, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", { mode: 0o644 });
    renameSync(tmp, join(home, "control", "servercert.pem"));
    const third = await starttlsCert(port);
    assert.equal(third.fingerprint256, second.fingerprint256);
    await qm.wait(/^smtpd: warning: control\/servercert\.pem is not a usable key and certificate: .*; the certificate in use stays$/m);
    assert.equal(qm.text.match(/^start: smtpd started, pid (\d+)$/gm)!.length, 1, "smtpd was never restarted");
  });
});

describe("SIGHUP to qm send run on its own", { skip: ROOT_ONLY, timeout: 120_000 }, () => {
  it("send and its spawners each log their reload line", async () => {
    const fast = await fastQm();
    const home = join(tempDir(), "qm");
    assert.equal(spawnSync(fast, ["init", "--me", "example.test"], { env: { ...process.env, QMHOME: home }, timeout: 60_000 }).status, 0);
    const child = spawn(fast, ["send"], { env: { ...process.env, QMHOME: home }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString("latin1")));
    child.stderr.on("data", (b: Buffer) => (out += b.toString("latin1")));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitFor(() => out, () => (/status: local 0\/10 remote 0\/20/.test(out) ? true : null));
      const reloaded = async () => {
        const from = out.length;
        child.kill("SIGHUP");
        await waitFor(() => out, () => ["send", "lspawn", "rspawn"].every((p) => new RegExp(`^${p}: reload: `, "m").test(out.slice(from))) ? true : null);
        return out.slice(from);
      };
      await reloaded(); // the spawners are up and have read their files: what changes now, they have not seen
      writeFileSync(join(home, "control", "concurrencylocal"), "3\n");
      writeFileSync(join(home, "control", "defaultdelivery"), "./Mailbox\n");
      out = await reloaded();
      assert.match(out, /^send: reload: reloaded control files; changed: concurrencylocal$/m);
      assert.match(out, /^status: local 0\/3 remote 0\/20$/m);
      assert.match(out, /^lspawn: reload: reloaded control files; changed: defaultdelivery$/m);
      assert.match(out, /^rspawn: reload: reloaded control files; none changed$/m);
    } finally {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
      assert.equal(await exited, 0);
      clearTimeout(t);
    }
  });
});
