import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { deliverRemote, type RemoteConfig } from "../../../core/io/remote/delivery.ts";
import type { Tcpto } from "../../../core/io/remote/tcpto.ts";
import { formatRecord } from "../../../core/lib/remote/report.ts";
import { parseTlsPolicy, type TlsPolicyTable } from "../../../core/lib/tls/policy.ts";
import { startDnsServer, type DnsServer, type NameEntry } from "../../support/dns-server.ts";
import { tempDir } from "../../support/qm.ts";
import { makeCert, startPeer, type Peer, type PeerScript } from "../../support/smtp-peer.ts";
import { makeCa, type TestCa } from "../../support/tls-ca.ts";

// How DANE sits among control/tlspolicy's levels and MTA-STS, with a test
// DNS server that sets the AD bit where told (standing in for a validating
// resolver; the real one is in test/prog/remote-dane.test.ts).

const NO_TCPTO: Tcpto = { isDown: () => false, record: () => {} };
const tx = {
  helo: "client.test", sender: "s@client.test", recipients: ["a@x.test"],
  message: async function* () { yield new Uint8Array(Buffer.from("Subject: t\n\nbody\n")); }, size: 17,
};
const spki = (pem: string) => new Uint8Array(createHash("sha256").update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" })).digest());
const tlsaRec = (usage: number, digest: Uint8Array) => ({ type: "TLSA" as const, data: { usage, selector: 1, matchingType: 1, certificate: Buffer.from(digest) } });

describe("DANE among the TLS levels", { timeout: 120_000 }, () => {
  let ca: TestCa | null = null;
  let dns: DnsServer | null = null;
  let rpt = "";
  before(() => {
    ca = makeCa();
    rpt = tempDir("qm-rpt-");
  });
  after(async () => {
    await dns?.close();
    ca?.close();
    rmSync(rpt, { recursive: true, force: true });
  });
  async function deliver(script: PeerScript, policy: string, zone: (port: number) => [string, NameEntry][], validating = true) {
    const peer = await startPeer(script);
    await dns?.close();
    dns = await startDnsServer(new Map(zone(peer.port)));
    const cfg: RemoteConfig = {
      helo: "client.test", me: "client.test", locals: ["client.test"], routes: new Map([["x.test", `:${peer.port}`]]), tlsRequired: [],
      connectMs: 2000, remoteMs: 5000, dns: { servers: [{ host: "127.0.0.1", port: dns.port, ...(validating ? { validating: true as const } : {}) }], timeoutMs: 1000, tries: 1 },
      localIps: new Set(), random: Math.random, tls: { policy: parseTlsPolicy(policy) as TlsPolicyTable, ca: [ca!.cert] }, stsPort: 1, tlsRpt: rpt,
    };
    try {
      return { out: (await deliverRemote(cfg, NO_TCPTO, "x.test", tx)).map(formatRecord).join(""), peer, queries: [...dns.queries] };
    } finally {
      await peer.close();
    }
  }
  const signed = (port: number, tlsa: ReturnType<typeof tlsaRec>[], ad = { mx: true, a: true, tlsa: true }): [string, NameEntry][] => [
    ["x.test", { records: [{ type: "MX", data: { preference: 10, exchange: "mx.x.test" } }], ad: ad.mx }],
    ["mx.x.test", { records: [{ type: "A", data: "127.0.0.1" }], ad: ad.a }],
    [`_${port}._tcp.mx.x.test`, { records: tlsa, ad: ad.tlsa }],
    ["_mta-sts.x.test", { records: [{ type: "TXT", data: ["v=STSv1; id=1;"] }] }],
  ];
  const mailed = (p: Peer) => p.sessions.some((s) => s.commands.some((c) => c.startsWith("MAIL")));
  const why = () => (ca ? "" : "openssl not installed");

  it("DANE wins over MTA-STS: a host with validated TLSA records is checked against them, and no MTA-STS policy is looked up", async (t) => {
    if (why()) return t.skip(why());
    const leaf = makeCert()!;
    const { out, queries } = await deliver({ tls: leaf }, ":sts\n", (port) => signed(port, [tlsaRec(3, spki(leaf.cert))]));
    assert.match(out, /^r\0K127\.0\.0\.1 accepted message\..*verified=dane\n\0$/s);
    assert.equal(queries.some((q) => q.includes("_mta-sts")), false, queries.join());
  });
  it("records all unusable (PKIX-EE only): encryption without authentication, never plain text", async (t) => {
    if (why()) return t.skip(why());
    const zone = (port: number) => signed(port, [tlsaRec(1, new Uint8Array(32))]);
    assert.match((await deliver({ tls: makeCert()! }, "", zone)).out, /^r\0K127\.0\.0\.1 accepted message\..*verified=none\n\0$/s);
    const plain = await deliver({}, "", zone);
    assert.match(plain.out, /^ZConnected to 127\.0\.0\.1 but it does not offer STARTTLS, and mx\.x\.test has DNSSEC-validated TLSA records \(none usable, so encryption without authentication\)\./);
    assert.equal(mailed(plain.peer), false);
  });
  it("looks TLSA up only when the MX and address answers had the AD bit from a validating server", async (t) => {
    if (why()) return t.skip(why());
    const leaf = makeCert()!;
    const bad = [tlsaRec(3, new Uint8Array(32))];
    for (const [ad, validating] of [[{ mx: false, a: true, tlsa: true }, true], [{ mx: true, a: false, tlsa: true }, true], [{ mx: true, a: true, tlsa: true }, false]] as const) {
      const r = await deliver({ tls: leaf }, "", (port) => signed(port, bad, ad), validating);
      assert.match(r.out, /verified=none\n\0$/, JSON.stringify(ad));
      assert.equal(r.queries.some((q) => q.includes("TLSA")), false, r.queries.join());
    }
    const insecureTlsa = await deliver({ tls: leaf }, "", (port) => signed(port, bad, { mx: true, a: true, tlsa: false }));
    assert.match(insecureTlsa.out, /verified=none\n\0$/, "an unvalidated TLSA answer is not used");
  });
  it("levels may, encrypt and verify do not use DANE", async (t) => {
    if (why()) return t.skip(why());
    const leaf = ca!.leaf(["mx.x.test"]);
    for (const level of ["may", "encrypt", "verify"]) {
      const r = await deliver({ tls: leaf }, `x.test:${level}\n`, (port) => signed(port, [tlsaRec(3, new Uint8Array(32))]));
      assert.match(r.out, /^r\0K/, level);
      assert.equal(r.queries.some((q) => q.includes("TLSA")), false);
    }
  });
  it("without DANE, a published MTA-STS policy that cannot be fetched gives opportunistic TLS, reported as sts-policy-fetch-error", async (t) => {
    if (why()) return t.skip(why());
    const r = await deliver({ tls: makeCert()! }, ":sts\n", (port) => signed(port, [], { mx: false, a: false, tlsa: false }));
    assert.match(r.out, /^r\0K127\.0\.0\.1 accepted message\..*verified=none\n\0$/s);
    assert.ok(r.queries.some((q) => q.includes("TXT _mta-sts.x.test")), r.queries.join());
  });
  it("recorded every session above for TLS-RPT", (t) => {
    if (why()) return t.skip(why());
    const days = readdirSync(rpt);
    assert.equal(days.length, 1);
    const lines = readFileSync(join(rpt, days[0]!), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { p: string; ok: boolean; r?: string });
    assert.deepEqual(lines.map((l) => `${l.p}:${l.ok ? "ok" : l.r}`), [
      "tlsa:ok", "tlsa:ok", "tlsa:starttls-not-supported",
      "no-policy-found:ok", "no-policy-found:ok", "no-policy-found:ok", "no-policy-found:ok",
      "no-policy-found:ok", "no-policy-found:ok", "no-policy-found:ok", "sts:sts-policy-fetch-error",
    ]);
  });
});
