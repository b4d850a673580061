import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeHome, runQm, tempDir } from "../support/qm.ts";
import { makeCert, startPeer, type Peer } from "../support/smtp-peer.ts";
import { makeCa, type TestCa } from "../support/tls-ca.ts";
import { NO_LDNS, NO_UNBOUND, startUnbound, type Unbound } from "../support/unbound.ts";

// DANE (RFC 7672) end to end: the real qm remote, a real validating
// resolver (Debian's unbound) on loopback serving a zone this test signs
// with ldns-signzone, and scripted STARTTLS peers. The TLSA records sit at
// _PORT._tcp.MX for each peer's port (control/smtproutes sends x.test's
// mail to that port, and qm looks TLSA up for the port it connects to).
// Then qm tlsrpt turns what these deliveries recorded into RFC 8460 reports.

const spkiSha256 = (pem: string) => createHash("sha256").update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" })).digest("hex");
const certSha256 = (pem: string) => createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");
const mailed = (p: Peer) => p.sessions.some((s) => s.commands.some((c) => c.startsWith("MAIL")));
const skip = NO_UNBOUND || NO_LDNS;

describe("qm remote with DANE behind a validating resolver", { timeout: 180_000 }, () => {
  let ca: TestCa | null = null;
  let home = "";
  let dir = "";
  let unbound: Unbound | null = null;
  const peers: Record<string, Peer> = {};
  before(async () => {
    if (skip) return;
    ca = makeCa();
    if (!ca) return;
    dir = tempDir("qm-dane-");
    home = await makeHome("client.test");
    const ee = ca.leaf(["mx.x.test"]);
    const ta = ca.leaf(["mx.x.test"]);
    const other = ca.leaf(["www.x.test"]);
    peers.ee = await startPeer({ tls: ee });
    peers.ta = await startPeer({ tls: { key: ta.key, cert: `${ta.cert}${ca.cert}` } }); // DANE-TA: the anchor is in the chain
    peers.taWrongName = await startPeer({ tls: { key: other.key, cert: `${other.cert}${ca.cert}` } });
    peers.bad = await startPeer({ tls: makeCert()! });
    peers.plain = await startPeer({});
    peers.bogus = await startPeer({ tls: ee });
    const tlsa = (p: Peer, rr: string, host = "mx") => `_${p.port}._tcp.${host} IN TLSA ${rr}`;
    const records = [
      "@ IN MX 10 mx", "mx IN A 127.0.0.1",
      tlsa(peers.ee!, `3 1 1 ${spkiSha256(ee.cert)}`),
      tlsa(peers.ta!, `2 0 1 ${certSha256(ca.cert)}`),
      tlsa(peers.taWrongName!, `2 0 1 ${certSha256(ca.cert)}`),
      tlsa(peers.bad!, `3 1 1 ${spkiSha256(ee.cert)}`),
      tlsa(peers.plain!, `3 1 1 ${spkiSha256(ee.cert)}`),
      tlsa(peers.bogus!, `3 1 1 ${"0".repeat(64)}`),
    ];
    // after signing, the bogus peer's TLSA record changes: its signature fails, and unbound answers SERVFAIL
    const tamper = (text: string) => text.replace(new RegExp(`(_${peers.bogus!.port}\\._tcp\\.mx\\.x\\.test\\.\\s+\\d+\\s+IN\\s+TLSA\\s+3 1 1 )0{64}`), `$1${spkiSha256(ee.cert)}`);
    unbound = await startUnbound(dir, [
      { name: "x.test", records, signed: true, tamper },
      { name: "plain.test", records, signed: false },
    ]);
  });
  after(async () => {
    for (const p of Object.values(peers)) await p.close();
    await unbound?.stop();
    ca?.close();
    if (home) rmSync(join(home, ".."), { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  async function remote(domain: string, peer: Peer, resolvers = `127.0.0.1:${unbound!.port} validating\n`): Promise<string> {
    writeFileSync(join(home, "control", "smtproutes"), `${domain}::${peer.port}\n`);
    writeFileSync(join(home, "control", "resolvers"), resolvers);
    const r = await runQm(["remote", "--", domain, "s@client.test", `a@${domain}`], { input: "Subject: t\n\nx\n", env: { QMHOME: home } });
    return r.stdout.toString("latin1");
  }
  const why = () => skip || (ca ? "" : "openssl not installed");

  it("delivers to a peer whose key matches a DANE-EE record (no CA trusts it) and says verified=dane", async (t) => {
    if (why()) return t.skip(why());
    assert.match(await remote("x.test", peers.ee!), /^r\0K127\.0\.0\.1 accepted message\.\nRemote host said: 250 ok queued\ntls=TLSv1\.[23] cipher=\S+ verified=dane\n\0$/);
  });
  it("qm send logs such a delivery with verified=dane", async (t) => {
    if (why()) return t.skip(why());
    writeFileSync(join(home, "control", "smtproutes"), `x.test::${peers.ee!.port}\n`);
    writeFileSync(join(home, "control", "resolvers"), `127.0.0.1:${unbound!.port} validating\n`);
    const inj = await runQm(["inject", "a@x.test"], { input: "Subject: logged\n\nx\n", env: { QMHOME: home } });
    assert.equal(inj.code, 0, inj.stderr.toString());
    const r = await runQm(["send", "--once"], { env: { QMHOME: home }, timeoutMs: 60_000 });
    assert.match(r.stdout.toString("latin1"), /delivery \d+: success: 127\.0\.0\.1_accepted_message\.\/Remote_host_said:_250_ok_queued\/tls=TLSv1\.[23]_cipher=\S+_verified=dane\//);
  });
  it("delivers to a peer whose chain ends at a DANE-TA anchor and names the MX host", async (t) => {
    if (why()) return t.skip(why());
    assert.match(await remote("x.test", peers.ta!), /^r\0K127\.0\.0\.1 accepted message\..*verified=dane\n\0$/s);
  });
  it("refuses a DANE-TA chain whose leaf names another host", async (t) => {
    if (why()) return t.skip(why());
    assert.match(await remote("x.test", peers.taWrongName!), /^ZConnected to 127\.0\.0\.1 but its certificate does not name mx\.x\.test, and mx\.x\.test has DNSSEC-validated TLSA records \(DANE\)\./);
    assert.equal(mailed(peers.taWrongName!), false);
  });
  it("refuses a peer whose certificate matches no TLSA record: deferred with the reason, no MAIL, no plain-text retry", async (t) => {
    if (why()) return t.skip(why());
    const out = await remote("x.test", peers.bad!);
    assert.match(out, /^ZConnected to 127\.0\.0\.1 but its certificate matches none of the TLSA records, and mx\.x\.test has DNSSEC-validated TLSA records \(DANE\)\.\ntls=TLSv1\.[23] cipher=\S+ verified=none\n\0$/);
    assert.equal(mailed(peers.bad!), false);
    assert.equal(peers.bad!.sessions.length, 1);
  });
  it("never sends in clear to a host with TLSA records that does not offer STARTTLS", async (t) => {
    if (why()) return t.skip(why());
    assert.match(await remote("x.test", peers.plain!), /^ZConnected to 127\.0\.0\.1 but it does not offer STARTTLS, and mx\.x\.test has DNSSEC-validated TLSA records \(DANE\)\./);
    assert.equal(mailed(peers.plain!), false);
  });
  it("skips a host whose TLSA answer is bogus while its MX and address answers are validated: deferred, not sent in clear", async (t) => {
    if (why()) return t.skip(why());
    assert.equal(await remote("x.test", peers.bogus!), "ZSorry, I cannot use mx.x.test: the TLSA lookup failed (DNS server said SERVFAIL), and its MX and address records are DNSSEC-validated, so DANE may apply. (#4.7.5)\n\0");
    assert.equal(peers.bogus!.sessions.length, 0);
  });
  it("does not use DANE when the resolver is not marked validating (its AD bit is not believed)", async (t) => {
    if (why()) return t.skip(why());
    const before = peers.bad!.sessions.length;
    assert.match(await remote("x.test", peers.bad!, `127.0.0.1:${unbound!.port}\n`), /^r\0K127\.0\.0\.1 accepted message\..*verified=none\n\0$/s);
    assert.equal(peers.bad!.sessions.length, before + 1);
  });
  it("does not use DANE for an unsigned zone (no AD bit), even from a validating resolver", async (t) => {
    if (why()) return t.skip(why());
    assert.match(await remote("plain.test", peers.bad!), /^r\0K127\.0\.0\.1 accepted message\..*verified=none\n\0$/s);
  });
  it("a tlspolicy line may for the domain turns DANE off; a wrong marker word makes the resolver line unusable", async (t) => {
    if (why()) return t.skip(why());
    writeFileSync(join(home, "control", "tlspolicy"), "x.test:may\n");
    try {
      assert.match(await remote("x.test", peers.bad!), /verified=none\n\0$/);
    } finally {
      rmSync(join(home, "control", "tlspolicy"));
    }
    assert.match(await remote("x.test", peers.bad!, `127.0.0.1:${unbound!.port} validatin\n`), /^ZUnable to read control files\./);
  });
  it("recorded each session for TLS-RPT, and qm tlsrpt writes RFC 8460 reports that python3's json reads", async (t) => {
    if (why()) return t.skip(why());
    const day = new Date().toISOString().slice(0, 10);
    const store = readdirSync(join(home, "queue", "lock", "tlsrpt"));
    assert.deepEqual(store, [day]);
    const out = tempDir("qm-tlsrpt-");
    const r = await runQm(["tlsrpt", "-d", out, day], { env: { QMHOME: home } });
    assert.equal(r.code, 0, r.stderr.toString());
    const files = readdirSync(out).sort();
    assert.deepEqual(files.map((f) => f.replace(/!\d+!\d+\.json$/, "")), ["client.test!plain.test", "client.test!x.test"]);
    const check = spawnSync("python3", ["-c", PY_CHECK, ...files.map((f) => join(out, f))], { encoding: "utf8", timeout: 30_000 });
    assert.equal(check.status, 0, check.stderr);
    const x = JSON.parse(readFileSync(join(out, files[1]!), "utf8"));
    const tlsa = x.policies.filter((p: { policy: { "policy-type": string } }) => p.policy["policy-type"] === "tlsa");
    const ok = tlsa.reduce((n: number, p: { summary: { "total-successful-session-count": number } }) => n + p.summary["total-successful-session-count"], 0);
    const failed = tlsa.flatMap((p: { "failure-details"?: { "result-type": string }[] }) => (p["failure-details"] ?? []).map((d) => d["result-type"])).sort();
    assert.equal(ok, 3, "EE by qm remote and by qm send, TA");
    assert.deepEqual(failed, ["certificate-host-mismatch", "dnssec-invalid", "starttls-not-supported", "tlsa-invalid"]);
    rmSync(out, { recursive: true, force: true });
  });
});

// RFC 8460 §4.4: the report's required fields and their JSON types, checked by another JSON reader.
const PY_CHECK = `
import json, sys, re
for path in sys.argv[1:]:
    r = json.load(open(path))
    assert isinstance(r["organization-name"], str) and r["organization-name"]
    dr = r["date-range"]
    for k in ("start-datetime", "end-datetime"):
        assert re.fullmatch(r"\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z", dr[k]), dr[k]
    assert isinstance(r["contact-info"], str) and isinstance(r["report-id"], str)
    assert isinstance(r["policies"], list) and r["policies"]
    for p in r["policies"]:
        pol = p["policy"]
        assert pol["policy-type"] in ("sts", "tlsa", "no-policy-found")
        assert isinstance(pol["policy-domain"], str)
        if pol["policy-type"] != "no-policy-found":
            assert isinstance(pol["policy-string"], list) and all(isinstance(s, str) for s in pol["policy-string"])
        for k in ("total-successful-session-count", "total-failure-session-count"):
            assert isinstance(p["summary"][k], int) and p["summary"][k] >= 0
        n = 0
        for d in p.get("failure-details", []):
            assert isinstance(d["result-type"], str) and isinstance(d["failed-session-count"], int)
            n += d["failed-session-count"]
        assert n <= p["summary"]["total-failure-session-count"]
`;
