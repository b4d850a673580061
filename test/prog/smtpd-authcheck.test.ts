import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fastQm, runProcess, runQm, tempDir, type Run } from "../support/qm.ts";
import { Client, control, queued, smtpdHome, startListener } from "../support/smtpd.ts";
import { NO_DNSMASQ, startDnsmasq, type Dnsmasq } from "../support/dnsmasq.ts";
import { startDnsServer, type DnsServer } from "../support/dns-server.ts";
import { startPeer } from "../support/smtp-peer.ts";

// qm smtpd's authentication checks (qm-smtpd(8), "Authentication checks")
// against real DNS: Debian's dnsmasq on loopback serves the SPF, DKIM and
// DMARC records of crafted senders; messages are signed by dkimpy (Debian's
// python3-dkim), an independent signer; the sessions run through the real
// qm smtpd (inetd mode, the client address from TCPREMOTEIP), on Node and
// as the standalone binary. What arrives is read back from the queue.

const PY = "/usr/bin/python3";
const NO_DKIMPY = spawnSync(PY, ["-c", "import dkim, nacl"], { timeout: 30_000 }).status === 0 ? false : "python3-dkim and python3-nacl are not installed";
const SKIP = NO_DNSMASQ || NO_DKIMPY;
const T = { timeout: 120_000 };
const CLIENT = "192.0.2.9";

const SIGN = `
import sys, dkim
sel, dom, algo, keyfile = sys.argv[1:5]
key = open(keyfile, "rb").read()
msg = sys.stdin.buffer.read()
sig = dkim.sign(msg, sel.encode(), dom.encode(), key, canonicalize=(b"relaxed", b"relaxed"),
                signature_algorithm=algo.encode(), include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
sys.stdout.buffer.write(sig + msg)
`;

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ed = generateKeyPairSync("ed25519");
const rsaPub = rsa.publicKey.export({ format: "der", type: "spki" }).toString("base64");
const edRaw = ed.publicKey.export({ format: "der", type: "spki" });
const edPub = edRaw.subarray(edRaw.length - 32).toString("base64");
const edSeed = (ed.privateKey.export({ format: "der", type: "pkcs8" }) as Buffer).subarray(-32).toString("base64");

const bigSpf = `v=spf1 ${Array.from({ length: 300 }, (_, i) => `ip4:198.18.${i >> 8}.${i & 255}/32`).join(" ")} -all`;

const ZONE = {
  txt: [
    ["pass.test", `v=spf1 ip4:${CLIENT} -all`],
    ["_dmarc.pass.test", "v=DMARC1; p=reject"],
    ["fail.test", "v=spf1 ip4:198.51.100.7 -all"],
    ["_dmarc.fail.test", "v=DMARC1; p=reject"],
    ["soft.test", "v=spf1 ~all"],
    ["_dmarc.soft.test", "v=DMARC1; p=none"],
    ["quar.test", "v=spf1 -all"],
    ["_dmarc.quar.test", "v=DMARC1; p=quarantine"],
    ["mx.test", "v=spf1 mx -all"],
    ["client.pass.test", `v=spf1 ip4:${CLIENT} -all`],
    ["loopback.test", "v=spf1 ip4:127.0.0.1 -all"],
    ["signed.test", "v=spf1 -all"],
    ["_dmarc.signed.test", "v=DMARC1; p=reject"],
    ["s1._domainkey.signed.test", `v=DKIM1; k=rsa; p=${rsaPub}`],
    ["e1._domainkey.signed.test", `v=DKIM1; k=ed25519; p=${edPub}`],
    ["loop.test", "v=spf1 include:loop.test -all"],
    ...Array.from({ length: 12 }, (_, i) => [`c${i}.test`, `v=spf1 include:c${i + 1}.test -all`] as const),
    ["void.test", "v=spf1 a:nx1.void.test a:nx2.void.test a:nx3.void.test ip4:192.0.2.9 -all"],
  ] as [string, string][],
  a: [["none.test", "192.0.2.50"], ["mail.mx.test", CLIENT]] as [string, string][],
  mx: [["mx.test", "mail.mx.test", 10]] as [string, string, number][],
};

/** A whole SMTP session for one message (CR LF, dot-stuffed). */
function transcript(helo: string, from: string, message: string): string {
  const body = message.replace(/\r?\n/g, "\r\n").split("\r\n").map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n");
  return `EHLO ${helo}\r\nMAIL FROM:<${from}>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n${body.endsWith("\r\n") ? body : `${body}\r\n`}.\r\nQUIT\r\n`;
}

function mail(from: string, subject: string, extra: string[] = []): string {
  return [...extra, `From: <${from}>`, "To: <postmaster@example.test>", `Subject: ${subject}`, "Date: Sun, 6 Dec 2026 12:00:00 +0000", `Message-ID: <${subject}@x>`, "", "Hello.", ".dot line", ""].join("\r\n");
}

const ARC_VERIFY = `
import sys, json, dkim
records = json.load(open(sys.argv[1]))
def dnsfunc(name, timeout=5):
    n = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
    r = records.get(n)
    return r.encode() if r is not None else None
cv, results, comment = dkim.arc_verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc)
print(json.dumps({"cv": cv.decode(), "comment": comment}))
`;

/** A DATA body as the peer got it (CR LF, dots doubled) back to the message. */
const unstuff = (body: string) => body.split("\r\n").map((l) => (l.startsWith("..") ? l.slice(1) : l)).join("\r\n");

const codes = (r: Run) => r.stdout.toString("latin1").split("\r\n").filter((l) => /^\d{3} /.test(l));

/** The queued message whose Subject is `subject`, and its Authentication-Results field (unfolded). */
function arrived(home: string, subject: string): { msg: string; ar: string } {
  const msg = queued(home).find((m) => m.includes(`\nSubject: ${subject}\n`)) ?? "";
  const m = /\nAuthentication-Results: ([^\n]*(?:\n[ \t][^\n]*)*)\n/.exec(msg);
  return { msg, ar: m ? m[1]!.replace(/\n[ \t]+/g, " ") : "" };
}

describe("qm smtpd authentication checks (SPF, DKIM, DMARC, ARC)", { timeout: 600_000, skip: SKIP }, () => {
  let home: string;
  let dir: string;
  let dns: Dnsmasq;
  let bin = "";
  const env = { TCPREMOTEIP: CLIENT, TCPLOCALIP: "192.0.2.1", TCPLOCALHOST: "mx.example.test" };
  const node = (input: string, extra: NodeJS.ProcessEnv = {}) => runQm(["smtpd"], { input: Buffer.from(input, "latin1"), env: { QMHOME: home, ...env, ...extra }, timeoutMs: 90_000 });
  const compiled = (input: string, extra: NodeJS.ProcessEnv = {}) => runProcess(bin, ["smtpd"], { input: Buffer.from(input, "latin1"), env: { QMHOME: home, ...env, ...extra }, timeoutMs: 90_000 });

  function dkimpy(message: string, selector: string, algo: "rsa-sha256" | "ed25519-sha256"): string {
    const key = join(dir, `${selector}.key`);
    writeFileSync(key, algo === "rsa-sha256" ? rsa.privateKey.export({ format: "pem", type: "pkcs1" }) : edSeed);
    writeFileSync(join(dir, "sign.py"), SIGN);
    const r = spawnSync(PY, [join(dir, "sign.py"), selector, "signed.test", algo, key], { input: Buffer.from(message, "latin1"), timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr.toString());
    return r.stdout.toString("latin1");
  }

  /** A new ARC key in control/arc.key, control/arcseal naming it, and example.net routed to the peer on `port`. */
  function arcSealing(port: number) {
    const arcKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(home, "control", "arc.key"), arcKey.privateKey.export({ format: "pem", type: "pkcs8" }));
    chmodSync(join(home, "control", "arc.key"), 0o600);
    control(home, "arcseal", "example.test:arc1:arc.key\n");
    control(home, "smtproutes", `example.net:127.0.0.1:${port}\n`);
    return arcKey;
  }

  /** dkimpy's ARC chain verdict (cv) on a DATA body as the peer got it, with the key's record. */
  function arcVerdict(body: string, arcKey: ReturnType<typeof generateKeyPairSync>): string {
    const records = { "arc1._domainkey.example.test": `v=DKIM1; k=rsa; p=${arcKey.publicKey.export({ format: "der", type: "spki" }).toString("base64")}` };
    writeFileSync(join(dir, "records.json"), JSON.stringify(records));
    writeFileSync(join(dir, "arc.py"), ARC_VERIFY);
    const v = spawnSync(PY, [join(dir, "arc.py"), join(dir, "records.json")], { input: Buffer.from(body.replace(/\r\n\.\r\n$/, "\r\n"), "latin1"), timeout: 30_000 });
    assert.equal(v.status, 0, v.stderr.toString());
    return JSON.parse(v.stdout.toString()).cv;
  }

  before(async () => {
    bin = await fastQm();
    dir = tempDir("qm-authcheck-");
    home = await smtpdHome();
    dns = await startDnsmasq(dir, ZONE);
    control(home, "resolvers", `127.0.0.1:${dns.port}\n`);
    control(home, "authpolicy", "# header only\n");
  });
  after(async () => {
    await dns?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("SPF pass, fail, softfail and none, and DMARC pass, fail and none, each in one Authentication-Results field on top", T, async () => {
    const cases = [
      ["pass.test", "spf=pass", "dmarc=pass"],
      ["fail.test", "spf=fail", "dmarc=fail"],
      ["soft.test", "spf=softfail", "dmarc=fail"],
      ["none.test", "spf=none", "dmarc=none"],
      ["mx.test", "spf=pass", null],
    ] as const;
    for (const [domain, spf, dmarc] of cases) {
      const subject = `crafted-${domain}`;
      const r = await node(transcript("client.pass.test", `a@${domain}`, mail(`a@${domain}`, subject)));
      assert.deepEqual(codes(r).map((l) => l.slice(0, 3)), ["220", "250", "250", "250", "354", "250", "221"], r.stderr.toString());
      const { msg, ar } = arrived(home, subject);
      assert.match(msg, /^Received: \(qmail \d+ invoked from network\); [^\n]*\nAuthentication-Results: example\.test;\n\t/, "first after the queue's own line, authserv-id = control/me");
      assert.equal(msg.match(/^Authentication-Results:/gm)?.length, 1);
      assert.match(msg, /\nReceived: from unknown \(HELO client\.pass\.test\)/);
      assert.ok(msg.indexOf("Authentication-Results:") < msg.indexOf("\nReceived: from"), "above smtpd's Received line (RFC 8601 §5)");
      assert.match(ar, new RegExp(`${spf} \\([^)]*\\) smtp\\.mailfrom=a@${domain.replace(".", "\\.")}`), ar);
      assert.match(ar, /spf=pass \([^)]*\) smtp\.helo=client\.pass\.test/, "the HELO identity is checked too");
      if (dmarc) assert.match(ar, new RegExp(`${dmarc}\\b.*header\\.from=${domain.replace(".", "\\.")}`), ar);
      assert.match(ar, /dkim=none/);
    }
  });

  it("messages signed by dkimpy (RSA and Ed25519) verify, on Node and in the standalone binary: dkim=pass, DMARC passes through DKIM though SPF fails", T, async () => {
    for (const [run, subject] of [[node, "dkimpy-ok"], [compiled, "dkimpy-ok-bin"]] as const) {
      const signed = dkimpy(dkimpy(mail("a@signed.test", subject), "s1", "rsa-sha256"), "e1", "ed25519-sha256");
      const r = await run(transcript("client.pass.test", "a@signed.test", signed));
      assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m, r.stderr.toString());
      const { ar } = arrived(home, subject);
      assert.match(ar, /spf=fail/);
      assert.match(ar, /dkim=pass [^;]*header\.i=@signed\.test header\.s=s1 header\.a=rsa-sha256/, ar);
      assert.match(ar, /dkim=pass [^;]*header\.i=@signed\.test header\.s=e1 header\.a=ed25519-sha256/, ar);
      assert.match(ar, /dmarc=pass/);
    }
  });

  it("a message over 35 MiB (databytes 0) is not held: it is queued whole with the SPF results only, forged fields still removed", T, async () => {
    control(home, "databytes", "0\n");
    const body = `${"x".repeat(998)}\r\n`.repeat(36 * 1024); // 36 MiB
    const big = mail("a@pass.test", "over-held", ["Authentication-Results: example.test; dmarc=pass"]).replace("Hello.\r\n", body);
    const r = await node(transcript("client.pass.test", "a@pass.test", big));
    assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m, r.stderr.toString());
    const { msg, ar } = arrived(home, "over-held");
    assert.match(ar, /^example\.test; spf=pass [^;]*smtp\.mailfrom=a@pass\.test; spf=pass [^;]*smtp\.helo=client\.pass\.test$/, ar);
    assert.equal(msg.match(/^Authentication-Results:/gm)?.length, 1);
    assert.ok(msg.endsWith(`${"x".repeat(998)}\n.dot line\n`) && msg.length > 36 * 1024 * 999);
    control(home, "databytes", "36700160\n");
  });

  it("a tampered dkimpy message does not verify (mailauth says neutral: body hash), dmarc=fail", T, async () => {
    const tampered = dkimpy(mail("a@signed.test", "dkimpy-bad"), "s1", "rsa-sha256").replace("Hello.", "Hello, changed.");
    const r = await node(transcript("client.pass.test", "a@signed.test", tampered));
    assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m);
    const { ar } = arrived(home, "dkimpy-bad");
    assert.match(ar, /dkim=(fail|neutral) \(body hash did not verify\) header\.i=@signed\.test/, ar);
    assert.match(ar, /dmarc=fail/);
  });

  it("removes forged Authentication-Results fields that claim our authserv-id, keeps others'", T, async () => {
    const forged = ["Authentication-Results: EXAMPLE.TEST; dkim=pass header.d=bank.test", "Authentication-Results: (comment) example.test 1;", " spf=pass", "Authentication-Results: other.test; spf=pass"];
    const r = await node(transcript("client.pass.test", "a@fail.test", mail("a@fail.test", "forged", forged)));
    assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m);
    const { msg } = arrived(home, "forged");
    assert.equal(msg.match(/^Authentication-Results:/gim)?.length, 2, msg);
    assert.match(msg, /\nAuthentication-Results: other\.test; spf=pass\n/);
    assert.doesNotMatch(msg, /bank\.test|^ spf=pass$/m);
  });

  it("spf:reject refuses an SPF fail at MAIL with 550 5.7.23 (softfail passes); the standalone binary does the same", T, async () => {
    control(home, "authpolicy", "spf:reject\n");
    try {
      for (const run of [node, compiled]) {
        const r = await run(transcript("client.pass.test", "a@fail.test", mail("a@fail.test", "spf-refused")));
        const got = codes(r);
        assert.match(got[2] ?? "", /^550 5\.7\.23 .*fail\.test.*192\.0\.2\.9/, got.join("\n"));
        assert.match(got[3] ?? "", /^503 /, "RCPT after the refused MAIL");
        assert.match(r.stderr.toString(), /refused 192\.0\.2\.9 MAIL <a@fail\.test>: 550 5\.7\.23/);
        const soft = await run(transcript("client.pass.test", "a@soft.test", mail("a@soft.test", `soft-${run === node ? "n" : "c"}`)));
        assert.match(codes(soft).join("\n"), /^250 2\.0\.0 ok/m);
      }
      assert.equal(arrived(home, "spf-refused").msg, "");
      assert.match(arrived(home, "soft-c").ar, /spf=softfail/, "the compiled binary checks too");
    } finally {
      control(home, "authpolicy", "\n");
    }
  });

  it("dmarc:reject refuses a DMARC fail under p=reject after DATA with 550 5.7.1; p=quarantine and DKIM-aligned mail pass", T, async () => {
    control(home, "authpolicy", "dmarc:reject\n");
    try {
      const r = await node(transcript("client.pass.test", "a@fail.test", mail("a@fail.test", "dmarc-refused")));
      const got = codes(r);
      assert.match(got[5] ?? "", /^550 5\.7\.1 .*DMARC.*fail\.test/, got.join("\n"));
      assert.equal(arrived(home, "dmarc-refused").msg, "", "nothing queued");
      const q = await node(transcript("client.pass.test", "a@quar.test", mail("a@quar.test", "dmarc-quarantine")));
      assert.match(codes(q).join("\n"), /^250 2\.0\.0 ok/m);
      const signed = dkimpy(mail("a@signed.test", "dmarc-dkim"), "s1", "rsa-sha256");
      const s = await node(transcript("client.pass.test", "a@fail.test", signed));
      assert.match(codes(s).join("\n"), /^250 2\.0\.0 ok/m);
    } finally {
      control(home, "authpolicy", "\n");
    }
  });

  it("RELAYCLIENT senders are not checked: no field, no refusal", T, async () => {
    control(home, "authpolicy", "spf:reject\ndmarc:reject\n");
    try {
      const r = await node(transcript("client.pass.test", "a@fail.test", mail("a@fail.test", "relayclient")), { RELAYCLIENT: "" });
      assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m);
      assert.doesNotMatch(arrived(home, "relayclient").msg, /Authentication-Results/);
    } finally {
      control(home, "authpolicy", "\n");
    }
  });

  it("hostile SPF: an include loop and an 11-include chain (10-lookup limit), three void lookups: a result each", T, async () => {
    for (const [domain, want] of [["loop.test", "permerror"], ["c0.test", "permerror"], ["void.test", "permerror"]] as const) {
      const r = await node(transcript("client.pass.test", `a@${domain}`, mail(`a@${domain}`, `hostile-${domain}`)));
      assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m, r.stderr.toString());
      const { ar } = arrived(home, `hostile-${domain}`);
      assert.match(ar, new RegExp(`spf=${want} [^;]*smtp\\.mailfrom=a@${domain.replace(".", "\\.")}`), ar);
    }
    assert.match(arrived(home, "hostile-loop.test").ar, /Too many DNS requests/);
    assert.match(arrived(home, "hostile-void.test").ar, /void/i);
  });

  it("hostile DKIM: malformed signatures, a huge h= list and 30 signatures get results, not a crash", T, async () => {
    const huge = `DKIM-Signature: v=1; a=rsa-sha256; d=signed.test; s=s1; c=relaxed/relaxed; bh=AAAA; h=${Array.from({ length: 5000 }, () => "from").join(":")}; b=AAAA`;
    const bad = ["DKIM-Signature: v=1; a=rsa-sha256; d=signed.test; s=s1; b=!!!; bh=", "DKIM-Signature: ;;;===;", "DKIM-Signature: v=1; a=rsa-sha256; d=; s=s1; h=from; bh=x; b=y", "DKIM-Signature: v=1; a=rsa-sha256; d=nx.test; s=nx; h=from; bh=x; b=y", huge];
    const many = Array.from({ length: 30 }, (_, i) => `DKIM-Signature: v=1; a=rsa-sha256; d=d${i}.test; s=s; h=from; bh=x; b=y`);
    for (const [subject, extra] of [["dkim-malformed", bad], ["dkim-many", many]] as const) {
      const r = await node(transcript("client.pass.test", "a@pass.test", mail("a@pass.test", subject, [...extra])));
      assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m, r.stderr.toString());
      const { ar } = arrived(home, subject);
      assert.match(ar, /dkim=(fail|neutral|permerror|policy)/, ar);
      assert.match(ar, /dmarc=pass/, "SPF still aligns");
    }
    assert.match(arrived(home, "dkim-many").ar, /dkim=neutral \(20 signatures over the limit of 10 not verified\)/);
  });

  it("a message that arrived with our results leaves through qm remote ARC-sealed (control/arcseal); dkimpy verifies the seal", T, async () => {
    const peer = await startPeer();
    try {
      const arcKey = arcSealing(peer.port);
      const r = await node(transcript("client.pass.test", "a@pass.test", mail("a@pass.test", "to-forward")));
      assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m);
      const { msg, ar } = arrived(home, "to-forward");
      assert.match(ar, /spf=pass/);
      for (const run of [(a: string[], i: string) => runQm(a, { input: Buffer.from(i, "latin1"), env: { QMHOME: home } }), (a: string[], i: string) => runProcess(bin, a, { input: Buffer.from(i, "latin1"), env: { QMHOME: home } })]) {
        const sent = await run(["remote", "--", "example.net", "a@pass.test", "bob@example.net"], msg);
        assert.equal(sent.code, 0, sent.stderr.toString());
        assert.match(sent.stdout.toString(), /^r/, sent.stdout.toString());
        const body = unstuff(peer.sessions.flatMap((x) => x.bodies).at(-1) ?? "");
        assert.match(body, /^ARC-Seal: i=1; a=rsa-sha256; [^]*cv=none[^]*\r\nARC-Message-Signature: i=1; [^]*\r\nARC-Authentication-Results: i=1; example\.test; spf=pass/, body.slice(0, 600));
        assert.equal(arcVerdict(body, arcKey), "pass");
      }
      const plain = await runQm(["remote", "--", "example.net", "a@example.test", "bob@example.net"], { input: "Subject: local\n\nnot from outside\n", env: { QMHOME: home } });
      assert.equal(plain.code, 0);
      assert.doesNotMatch(peer.sessions.flatMap((x) => x.bodies).at(-1) ?? "", /ARC-Seal/, "mail without our results is not sealed");
    } finally {
      await peer.close();
      rmSync(join(home, "control", "arcseal"), { force: true });
      rmSync(join(home, "control", "smtproutes"), { force: true });
    }
  });

  it("a .qmail forward of an SPF-protected message leaves with an SRS sender (control/srs) and an ARC seal dkimpy verifies", T, async () => {
    const peer = await startPeer();
    const top = tempDir("qm-srs-arc-");
    try {
      const arcKey = arcSealing(peer.port);
      control(home, "srs", "a secret for forwarding tests\n");
      const r = await node(transcript("client.pass.test", "a@pass.test", mail("a@pass.test", "srs-arc")));
      assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m);
      const { msg, ar } = arrived(home, "srs-arc");
      assert.match(ar, /spf=pass [^;]*smtp\.mailfrom=a@pass\.test/);
      // the user's .qmail forwards it: qm local, as the user, into a QMAILQUEUE that keeps message and envelope
      const user = join(top, "user");
      mkdirSync(user, { recursive: true });
      chmodSync(top, 0o755);
      writeFileSync(join(user, ".qmail"), "&bob@example.net\n");
      const spool = join(top, "spool");
      mkdirSync(spool, { mode: 0o777 });
      chmodSync(spool, 0o777);
      if (process.getuid?.() === 0) spawnSync("chown", ["-R", "65534:65534", user], { timeout: 30_000 });
      const stub = join(top, "queue-stub");
      writeFileSync(stub, `#!/bin/sh\ncat > ${spool}/msg\ncat 0<&1 > ${spool}/env\n`, { mode: 0o755 });
      const body = msg.slice(msg.indexOf("\n") + 1); // what qm local reads: the message without the queue's own Received line is fine either way
      const loc = await runQm(["local", "--", "joe", user, "joe", "", "", "example.test", "a@pass.test", "./Maildir/"], { input: Buffer.from(body, "latin1"), env: { QMHOME: home, QMAILQUEUE: stub } });
      assert.equal(loc.code, 0, loc.stdout.toString());
      const env = readFileSync(join(spool, "env"), "latin1");
      const sender = /^F([^\0]*)\0/.exec(env)?.[1] ?? "";
      assert.match(sender, /^SRS0=[^=]{6}=[A-Z2-7]{2}=pass\.test=a@example\.test$/);
      const sent = await runQm(["remote", "--", "example.net", sender, "bob@example.net"], { input: readFileSync(join(spool, "msg")), env: { QMHOME: home } });
      assert.equal(sent.code, 0, sent.stderr.toString());
      assert.match(sent.stdout.toString(), /^r/, sent.stdout.toString());
      const session = peer.sessions.at(-1)!;
      assert.ok(session.commands.some((c) => c.startsWith(`MAIL FROM:<${sender}>`)), session.commands.join("\n"));
      const out = unstuff(session.bodies.at(-1) ?? "");
      assert.match(out, /^ARC-Seal: i=1; [^]*\r\nARC-Authentication-Results: i=1; example\.test; spf=pass/);
      assert.equal(arcVerdict(out, arcKey), "pass");
    } finally {
      await peer.close();
      for (const f of ["arcseal", "smtproutes", "srs"]) rmSync(join(home, "control", f), { force: true });
      rmSync(top, { recursive: true, force: true });
    }
  });

  it("checks in listener mode too (after dropping to the smtpd user), the client address from the socket", T, async () => {
    control(home, "authpolicy", "spf:reject\n");
    const qm = await startListener(home, ["--listen", "127.0.0.1:0"]);
    try {
      const c = await Client.open(qm.ports[0]!);
      await c.replies(1);
      c.send("EHLO loopback.test\r\nMAIL FROM:<a@fail.test>\r\nMAIL FROM:<a@loopback.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n");
      const got = await c.replies(5);
      assert.match(got[1] ?? "", /^550 5\.7\.23 /, got.join("\n"));
      c.send(`${mail("a@loopback.test", "listener")}.\r\nQUIT\r\n`);
      assert.match((await c.replies(2))[0] ?? "", /^250 2\.0\.0 ok/);
      await new Promise((r) => setTimeout(r, 200));
      assert.match(arrived(home, "listener").ar, /spf=pass [^;]*smtp\.mailfrom=a@loopback\.test/);
    } finally {
      await qm.stop();
      control(home, "authpolicy", "\n");
    }
  });

  it("a bad control/authpolicy line: 421, and the log says why", T, async () => {
    control(home, "authpolicy", "dmarc:rejet\n");
    try {
      const r = await node("QUIT\r\n");
      assert.match(r.stdout.toString(), /^421 4\.3\.0/);
      assert.match(r.stderr.toString(), /control\/authpolicy: unusable line "dmarc:rejet"/);
    } finally {
      control(home, "authpolicy", "\n");
    }
  });
});

// dnsmasq's config takes no line of 4 KB, and cannot be told to stay silent:
// the SPF record over 4 KB (UDP truncated, the answer over TCP) and the DNS
// that never answers come from the test DNS server (test/support/dns-server.ts).
describe("qm smtpd authentication checks: a TXT over 4 KB, and DNS that does not answer", { timeout: 300_000 }, () => {
  let dns: DnsServer;
  let home: string;
  const txt = (text: string) => ({ type: "TXT" as const, data: text.match(/.{1,255}/g) ?? [] });
  before(async () => {
    dns = await startDnsServer(new Map([
      ["slow.test", { behave: "drop" as const }],
      ["_dmarc.slow.test", { behave: "drop" as const }],
      ["big.test", { behave: "truncate" as const, records: [txt(bigSpf)] }],
    ]));
    home = await smtpdHome();
    control(home, "resolvers", `127.0.0.1:${dns.port}\n`);
    control(home, "authpolicy", "spf:reject\ndmarc:reject\n");
  });
  after(() => dns.close());

  it("SPF and DMARC time out as temperror; the message is taken, the session goes on", { timeout: 120_000 }, async () => {
    const input = transcript("helo.test", "a@slow.test", mail("a@slow.test", "timeout")).replace("QUIT\r\n", "NOOP\r\nQUIT\r\n");
    const r = await runQm(["smtpd"], { input: Buffer.from(input, "latin1"), env: { QMHOME: home, TCPREMOTEIP: CLIENT }, timeoutMs: 100_000 });
    assert.deepEqual(codes(r).map((l) => l.slice(0, 3)), ["220", "250", "250", "250", "354", "250", "250", "221"], r.stderr.toString());
    const { ar } = arrived(home, "timeout");
    assert.match(ar, /spf=temperror [^;]*smtp\.mailfrom=a@slow\.test/, ar);
    assert.match(ar, /dmarc=temperror/, ar);
  });

  it("an SPF record over 4 KB (over TCP) gives its result", { timeout: 60_000 }, async () => {
    assert.ok(bigSpf.length > 4096);
    control(home, "authpolicy", "\n");
    const r = await runQm(["smtpd"], { input: Buffer.from(transcript("helo.test", "a@big.test", mail("a@big.test", "big")), "latin1"), env: { QMHOME: home, TCPREMOTEIP: CLIENT }, timeoutMs: 50_000 });
    assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m, r.stderr.toString());
    assert.match(arrived(home, "big").ar, /spf=fail [^;]*smtp\.mailfrom=a@big\.test/);
    assert.ok(dns.queries.includes("tcp TXT big.test"));
  });
});
