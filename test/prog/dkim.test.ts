import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { asText, fastQm, runProcess, runQm, tempDir } from "../support/qm.ts";
import { startDnsServer, type DnsServer, type NameEntry } from "../support/dns-server.ts";
import { startPeer, type Peer } from "../support/smtp-peer.ts";
import { spawnInput, spawnReports } from "../support/spawn.ts";

// DKIM end to end (qm-dkim(8)): keys made by `qm dkim keygen`, published in a
// DNS server on loopback, mail signed by a real `qm remote` on its way to an
// SMTP peer, and the capture verified by an independent verifier: dkimpy
// (Debian's python3-dkim), its DNS pointed at the same records. Most runs
// use the standalone binary (bun build --compile: mailauth inside it must
// work too); keygen and the first signing run go through Node.

const PY = "/usr/bin/python3";
const NO_DKIMPY = spawnSync(PY, ["-c", "import dkim, nacl"], { timeout: 30_000 }).status === 0 ? false : "python3-dkim and python3-nacl are not installed";
const T = { timeout: 120_000 };

const VERIFY = `
import sys, json, dkim
records = json.load(open(sys.argv[1]))
def dnsfunc(name, timeout=5):
    n = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
    r = records.get(n)
    return r.encode() if r is not None else None
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
sigs = [h for h in d.headers if h[0].lower() == b"dkim-signature"]
out = []
for i in range(len(sigs)):
    ok = d.verify(idx=i, dnsfunc=dnsfunc)
    tags = dkim.util.parse_tag_value(sigs[i][1])
    out.append({"ok": bool(ok), "a": tags[b"a"].decode(), "s": tags[b"s"].decode(), "d": tags[b"d"].decode(), "h": tags[b"h"].decode()})
print(json.dumps(out))
`;

interface Verdict { ok: boolean; a: string; s: string; d: string; h: string }

function dkimpy(message: string, records: Map<string, string>): Verdict[] {
  const dir = tempDir("qm-dkimpy-");
  try {
    writeFileSync(join(dir, "records.json"), JSON.stringify(Object.fromEntries(records)));
    writeFileSync(join(dir, "verify.py"), VERIFY);
    const r = spawnSync(PY, [join(dir, "verify.py"), join(dir, "records.json")], { input: Buffer.from(message, "latin1"), timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr.toString());
    return JSON.parse(r.stdout.toString()) as Verdict[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A DATA body as the peer got it (CR LF, dots doubled) back to the message. */
function unstuff(body: string): string {
  return body.split("\r\n").map((l) => (l.startsWith("..") ? l.slice(1) : l)).join("\r\n");
}

/** The TXT text of `qm dkim keygen`/`show` output: the zone line's strings joined. */
function recordOf(zoneLine: string): string {
  return [...zoneLine.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join("");
}

const MESSAGE = [
  "From: Alice <alice@mail.example.org>",
  "To: bob@example.net",
  "Subject: signed on the way out",
  "Date: Sun, 6 Dec 2026 12:00:00 +0000",
  "Message-ID: <dkim-1@mail.example.org>",
  "",
  "Hello Bob,",
  ".a line that starts with a dot",
  "trailing spaces   ",
  "",
  "",
].join("\n");

describe("qm dkim and signing in qm remote", { timeout: 600_000 }, () => {
  let home: string;
  let dns: DnsServer;
  let peer: Peer;
  const zone = new Map<string, NameEntry>();
  const published = new Map<string, string>();

  let bin = "";
  const env = () => ({ QMHOME: home, QM_PASSWD: join(home, "passwd") });
  const qm = (args: string[], input?: string | Uint8Array) => runProcess(bin, args, { input, env: env(), timeoutMs: 60_000 }).then(asText);
  const qmNode = (args: string[], input?: string | Uint8Array) => runQm(args, { input, env: env(), timeoutMs: 60_000 }).then(asText);
  const setControl = (name: string, text: string) => writeFileSync(join(home, "control", name), text);
  async function send(message: string | Uint8Array, viaFile = false, run = qm): Promise<{ records: string; body: string | undefined }> {
    const before = peer.sessions.reduce((n, s) => n + s.bodies.length, 0);
    let r;
    if (viaFile) {
      const path = join(home, "msg");
      writeFileSync(path, message);
      const fd = openSync(path, "r");
      try {
        r = asText(await runProcess(bin, ["remote", "--", "example.net", "alice@mail.example.org", "bob@example.net"], { env: env(), spawn: { stdio: [fd, "pipe", "pipe"] } }));
      } finally {
        closeSync(fd);
      }
    } else r = await run(["remote", "--", "example.net", "alice@mail.example.org", "bob@example.net"], message);
    assert.equal(r.code, 0, r.stderr);
    const bodies = peer.sessions.flatMap((s) => s.bodies);
    return { records: r.stdout, body: bodies.length > before ? bodies.at(-1) : undefined };
  }

  before(async () => {
    bin = await fastQm();
    home = join(tempDir("qm-dkim-"), "qm");
    mkdirSync(join(home, "control"), { recursive: true });
    mkdirSync(join(home, "queue", "lock"), { recursive: true });
    writeFileSync(join(home, "passwd"), "root:x:0:0::/root:/bin/sh\n"); // no qmailr: the key stays the caller's
    dns = await startDnsServer(zone);
    peer = await startPeer();
    setControl("me", "client.test\n");
    setControl("resolvers", `127.0.0.1:${dns.port}\n`);
    setControl("smtproutes", `example.net:127.0.0.1:${peer.port}\n`);
  });
  after(async () => {
    await peer.close();
    await dns.close();
    rmSync(join(home, ".."), { recursive: true, force: true });
  });

  it("keygen writes a 0600 key and prints the record for RSA and Ed25519", T, async () => {
    for (const [sel, type] of [["rsa1", "rsa"], ["ed1", "ed25519"]] as const) {
      const r = await qmNode(["dkim", "keygen", "example.org", sel, "--type", type]);
      assert.equal(r.code, 0, r.stderr);
      const line = r.stdout.split("\n").find((l) => l.startsWith(`${sel}._domainkey.example.org. IN TXT`));
      assert.ok(line, r.stdout);
      assert.match(recordOf(line), new RegExp(`^v=DKIM1; k=${type}; p=[A-Za-z0-9+/=]+$`));
      assert.match(r.stdout, new RegExp(`example.org:${sel}:dkim/example.org/${sel}.key`));
      const key = join(home, "control", "dkim", "example.org", `${sel}.key`);
      assert.equal(statSync(key).mode & 0o777, 0o600);
      assert.match(readFileSync(key, "utf8"), /^-----BEGIN PRIVATE KEY-----/);
      published.set(`${sel}._domainkey.example.org`, recordOf(line));
    }
    assert.equal(recordOf(published.get("ed1._domainkey.example.org")!).length < 80, true, "Ed25519 p= is the bare 32-byte key");
    const again = await qm(["dkim", "keygen", "example.org", "rsa1"]);
    assert.equal(again.code, 100);
    assert.match(again.stderr, /already exists/);
  });

  it("keygen as root gives the key to qmailr when the password file has that user", { ...T, skip: process.getuid?.() === 0 ? false : "needs root to chown" }, async () => {
    const passwd = join(home, "passwd");
    writeFileSync(passwd, "root:x:0:0::/root:/bin/sh\nqmailr:x:4321:4322::/nonexistent:/bin/false\n"); // a test account: no host user needed
    try {
      const r = await qm(["dkim", "keygen", "owned.test", "s1", "--type", "ed25519"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\(owner qmailr\)/);
      const st = statSync(join(home, "control", "dkim", "owned.test", "s1.key"));
      assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [4321, 4322, 0o600]);
    } finally {
      writeFileSync(passwd, "root:x:0:0::/root:/bin/sh\n");
    }
  });

  it("show prints the same records again", T, async () => {
    const r = await qm(["dkim", "show", "example.org"]);
    assert.equal(r.code, 0, r.stderr);
    for (const [name, rec] of published) assert.ok(r.stdout.split("\n").some((l) => l.startsWith(`${name}. IN TXT`) && recordOf(l) === rec), r.stdout);
  });

  it("check: missing from DNS is 100, published and matching is 0, another key is 100, a failing server 111", T, async () => {
    const missing = await qm(["dkim", "check", "example.org"]);
    assert.equal(missing.code, 100);
    assert.match(missing.stdout, /rsa1\._domainkey\.example\.org: .*no key record published/);
    for (const [name, rec] of published) {
      const strings = rec.match(/.{1,255}/g)!; // 2048-bit RSA: more than one character-string
      zone.set(name, { records: [{ type: "TXT", data: strings }] });
    }
    const good = await qm(["dkim", "check", "example.org"]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /rsa1\._domainkey\.example\.org: ok \(rsa 2048 bits\)/);
    assert.match(good.stdout, /ed1\._domainkey\.example\.org: ok \(ed25519\)/);
    assert.ok(dns.queries.some((q) => q.includes("TXT rsa1._domainkey.example.org")), "asked qm's resolver's server");
    const other = await qm(["dkim", "keygen", "other.test", "x", "--type", "ed25519"]);
    zone.set("ed1._domainkey.example.org", { records: [{ type: "TXT", data: [recordOf(other.stdout.split("\n")[2]!)] }] });
    const wrong = await qm(["dkim", "check", "example.org"]);
    assert.equal(wrong.code, 100);
    assert.match(wrong.stdout, /ed1\._domainkey\.example\.org: .*not the key in the key file/);
    zone.set("ed1._domainkey.example.org", { behave: "servfail" });
    const down = await qm(["dkim", "check", "example.org"]);
    assert.equal(down.code, 111);
    zone.set("ed1._domainkey.example.org", { records: [{ type: "TXT", data: [published.get("ed1._domainkey.example.org")!] }] });
  });

  it("signs with RSA and Ed25519 (From in a subdomain); dkimpy verifies both", { ...T, skip: NO_DKIMPY }, async () => {
    setControl("dkimsign", "# dual signing, RFC 8463\nexample.org:rsa1:dkim/example.org/rsa1.key\nexample.org:ed1:dkim/example.org/ed1.key\n");
    for (const [viaFile, run] of [[false, qmNode], [true, qm], [false, qm]] as const) {
      const { records, body } = await send(MESSAGE, viaFile, run);
      assert.match(records, /K127\.0\.0\.1 accepted message/);
      const msg = unstuff(body!);
      assert.match(msg, /^DKIM-Signature: /);
      const verdicts = dkimpy(msg, published);
      assert.deepEqual(verdicts.map((v) => [v.ok, v.a, v.s, v.d]), [[true, "rsa-sha256", "rsa1", "example.org"], [true, "ed25519-sha256", "ed1", "example.org"]]);
      for (const v of verdicts) assert.equal(v.h.split(":").filter((n) => n.trim().toLowerCase() === "from").length, 2, `From oversigned: ${v.h}`);
      assert.match(msg, /c=relaxed\/relaxed/);
    }
  });

  it("qm rspawn signs each message it sends from the queue; dkimpy verifies them", { ...T, skip: NO_DKIMPY }, async () => {
    const dir = join(home, "queue", "mess", "3");
    mkdirSync(dir, { recursive: true });
    const messes = ["first", "second"].map((word, i) => {
      const path = join(dir, String(26 + 23 * i));
      writeFileSync(path, MESSAGE.replace("Hello Bob,", `Hello Bob, ${word}`));
      return path;
    });
    writeFileSync(join(dir, "72"), MESSAGE.replace("alice@mail.example.org", "alice@unsigned.test"));
    const before = peer.sessions.flatMap((s) => s.bodies).length;
    const cmds = [["0", messes[0]!, "alice@mail.example.org", "bob@example.net"], ["1", messes[1]!, "alice@mail.example.org", "carl@example.net"], ["2", join(dir, "72"), "a@unsigned.test", "bob@example.net"]];
    const r = await runProcess(bin, ["rspawn"], { input: spawnInput(cmds), env: env(), timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr.toString());
    const got = spawnReports(r.stdout);
    for (const slot of ["0", "1", "2"]) assert.match(got.get(slot) ?? "", /^K127\.0\.0\.1 accepted message/);
    const bodies = peer.sessions.flatMap((s) => s.bodies).slice(before).map(unstuff);
    assert.equal(bodies.length, 3);
    const signed = bodies.filter((b) => b.startsWith("DKIM-Signature:"));
    assert.equal(signed.length, 2);
    for (const b of signed) assert.deepEqual(dkimpy(b, published).map((v) => v.ok), [true, true]);
    assert.match(signed.join(""), /Hello Bob, first/);
    assert.match(signed.join(""), /Hello Bob, second/);
  });

  it("an added From header breaks the signature (oversigning)", { ...T, skip: NO_DKIMPY }, async () => {
    const { body } = await send(MESSAGE);
    const forged = unstuff(body!).replace("From: Alice", "From: Mallory <m@evil.test>\r\nFrom: Alice");
    assert.deepEqual(dkimpy(forged, published).map((v) => v.ok), [false, false]);
  });

  it("leaves mail from an unlisted domain unsigned, and a 1 MB body is signed and verifies", { ...T, skip: NO_DKIMPY }, async () => {
    const plain = await send(MESSAGE.replace("alice@mail.example.org", "carol@example.com"));
    assert.doesNotMatch(plain.body!, /DKIM-Signature/);
    const big = MESSAGE + "0123456789abcdef ".repeat(64 * 1024) + "\n";
    const { body } = await send(big);
    assert.deepEqual(dkimpy(unstuff(body!), published).map((v) => v.ok), [true, true]);
  });

  describe("a signing failure is a temporary failure with a reason, never an unsigned send", () => {
    const CASES = [
      { name: "a malformed control/dkimsign line", dkimsign: "example.org:rsa1\n", reason: /Unable to parse control\/dkimsign: line 1/ },
      { name: "a bad domain", dkimsign: "exa mple.org:rsa1:k\n", reason: /line 1: bad domain/ },
      { name: "a bad selector", dkimsign: "example.org:r;sa:k\n", reason: /line 1: bad selector/ },
      { name: "a missing key file", dkimsign: "example.org:rsa1:dkim/nope.key\n", reason: /Unable to read DKIM key .*nope\.key: no such file/ },
      { name: "a key file that is not a key", dkimsign: "example.org:rsa1:me\n", reason: /control\/me is not a private key/ },
      { name: "a directory as key file", dkimsign: "example.org:rsa1:dkim\n", reason: /DKIM key .*dkim is not a regular file/ },
    ];
    for (const c of CASES) {
      it(c.name, T, async () => {
        setControl("dkimsign", c.dkimsign);
        const { records, body } = await send(MESSAGE);
        assert.equal(body, undefined, "nothing was sent");
        assert.match(records, /^Z/);
        assert.match(records, c.reason);
      });
    }
    it("an unreadable key file (as root: qm remote run as uid 65534)", T, async () => {
      const root = process.getuid?.() === 0;
      const key = join(home, "control", "dkim", "example.org", "rsa1.key");
      setControl("dkimsign", "example.org:rsa1:dkim/example.org/rsa1.key\n");
      if (root) chmodSync(join(home, ".."), 0o755); // the key stays 0600 root's; everything else readable
      else chmodSync(key, 0o000);
      try {
        const before = peer.sessions.flatMap((s) => s.bodies).length;
        const r = asText(await runProcess(bin, ["remote", "--", "example.net", "alice@mail.example.org", "bob@example.net"], { input: MESSAGE, env: env(), spawn: root ? { uid: 65534, gid: 65534 } : {} }));
        assert.equal(peer.sessions.flatMap((s) => s.bodies).length, before, "nothing was sent");
        assert.match(r.stdout, /^ZUnable to read DKIM key .*rsa1\.key: permission denied/);
      } finally {
        if (root) chmodSync(join(home, ".."), 0o700);
        else chmodSync(key, 0o600);
      }
    });
    it("a FIFO as key file does not hang the signer", T, async () => {
      const fifo = join(home, "control", "dkim", "fifo.key");
      assert.equal(spawnSync("mkfifo", [fifo], { timeout: 10_000 }).status, 0);
      setControl("dkimsign", "example.org:rsa1:dkim/fifo.key\n");
      const { records, body } = await send(MESSAGE);
      assert.equal(body, undefined);
      assert.match(records, /^ZDKIM key .*fifo\.key is not a regular file/);
    });
    it("a header over 1 MB", T, async () => {
      setControl("dkimsign", "example.org:rsa1:dkim/example.org/rsa1.key\n");
      const huge = `X-Big: ${"a".repeat(1100 * 1024)}\n${MESSAGE}`;
      const { records, body } = await send(huge);
      assert.equal(body, undefined);
      assert.match(records, /^ZMessage header over 1048576 bytes: unable to DKIM-sign it/);
    });
  });

  it("keygen refuses bad input with 100", T, async () => {
    for (const args of [["keygen", "bad domain", "s"], ["keygen", "example.org", "s/../x"], ["keygen", "example.org", "s", "--type", "dsa"], ["keygen", "example.org", "s", "--bits", "512"], ["keygen", "example.org", "s", "--bits", "99999"], ["frob", "example.org"]]) {
      const r = await qm(["dkim", ...args]);
      assert.equal(r.code, 100, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.equal(existsSync(join(home, "control", "dkim", "example.org", "s.key")), false);
  });
});
