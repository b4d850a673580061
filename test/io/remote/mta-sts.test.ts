import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { deliverRemote, type RemoteConfig } from "../../../core/io/remote/delivery.ts";
import type { Tcpto } from "../../../core/io/remote/tcpto.ts";
import { fetchStsPolicy } from "../../../core/io/tls/sts-fetch.ts";
import { formatRecord } from "../../../core/lib/remote/report.ts";
import { parseTlsPolicy, type TlsPolicyTable } from "../../../core/lib/tls/policy.ts";
import { startDnsServer, type DnsServer, type NameEntry } from "../../support/dns-server.ts";
import { makeHome, runQm, tempDir } from "../../support/qm.ts";
import { makeCert, startPeer, type Peer } from "../../support/smtp-peer.ts";
import { makeCa, type TestCa } from "../../support/tls-ca.ts";

// MTA-STS end to end on loopback: a DNS server with the domain's MX,
// _mta-sts TXT and mta-sts A records, the policy served over HTTPS with a
// certificate from a test CA (control/tlsca), and scripted SMTP peers.

const NO_TCPTO: Tcpto = { isDown: () => false, record: () => {} };
const tx = {
  helo: "client.test", sender: "s@client.test", recipients: ["a@x.test"],
  message: async function* () { yield new Uint8Array(Buffer.from("Subject: t\n\nbody\n")); }, size: 17,
};
const policyText = (mode: string, mx = "mx.x.test") => `version: STSv1\r\nmode: ${mode}\r\nmx: ${mx}\r\nmax_age: 86400\r\n`;

interface Https { server: Server; port: number; body: string; type: string; status: number; hits: number }
async function startHttps(tls: { key: string; cert: string }, host = "127.0.0.1", port = 0): Promise<Https> {
  const h: Https = { server: null as unknown as Server, port: 0, body: "", type: "text/plain", status: 200, hits: 0 };
  h.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    h.hits++;
    if (req.url !== "/.well-known/mta-sts.txt" || req.headers.host !== "mta-sts.x.test") return void res.writeHead(404).end();
    if (h.status === 301) return void res.writeHead(301, { Location: "https://elsewhere.test/" }).end();
    if (h.body === "hang") return; // never answers
    res.writeHead(h.status, { "Content-Type": h.type }).end(h.body);
  });
  await new Promise<void>((res, rej) => { h.server.once("error", rej); h.server.listen(port, host, res); });
  h.port = (h.server.address() as { port: number }).port;
  return h;
}
const closeHttps = (h: Https | null) => new Promise<void>((res) => { if (!h) return res(); h.server.closeAllConnections(); h.server.close(() => res()); });

function zone(id: string, stsIp = "127.0.0.1"): Map<string, NameEntry> {
  return new Map<string, NameEntry>([
    ["x.test", { records: [{ type: "MX", data: { preference: 10, exchange: "mx.x.test" } }] }],
    ["mx.x.test", { records: [{ type: "A", data: "127.0.0.1" }] }],
    ["_mta-sts.x.test", { records: [{ type: "TXT", data: ["v=spf1 -all"] }, { type: "TXT", data: [`v=STSv1; id=${id};`] }] }],
    ["mta-sts.x.test", { records: [{ type: "A", data: stsIp }] }],
  ]);
}

describe("MTA-STS (control/tlspolicy sts)", { timeout: 120_000 }, () => {
  let ca: TestCa | null = null;
  let https: Https | null = null;
  let dns: DnsServer | null = null;
  let cache = "";
  before(async () => {
    ca = makeCa();
    if (!ca) return;
    https = await startHttps(ca.leaf(["mta-sts.x.test"]));
    cache = tempDir("qm-sts-");
  });
  after(async () => {
    await closeHttps(https);
    await dns?.close();
    ca?.close();
    if (cache) rmSync(cache, { recursive: true, force: true });
  });
  async function deliver(peer: Peer, id: string, over: Partial<RemoteConfig> = {}): Promise<string> {
    await dns?.close();
    dns = await startDnsServer(zone(id));
    const cfg: RemoteConfig = {
      helo: "client.test", me: "client.test", locals: ["client.test"],
      routes: new Map([["x.test", `:${peer.port}`]]), tlsRequired: [],
      connectMs: 2000, remoteMs: 5000, dns: { servers: [{ host: "127.0.0.1", port: dns.port }], timeoutMs: 1000, tries: 1 },
      localIps: new Set(), random: Math.random,
      tls: { policy: parseTlsPolicy(":sts\n") as TlsPolicyTable, ca: [ca!.cert] }, stsCache: cache, stsPort: https!.port,
      ...over,
    };
    return (await deliverRemote(cfg, NO_TCPTO, "x.test", tx)).map(formatRecord).join("");
  }
  const mailed = (p: Peer) => p.sessions.some((s) => s.commands.some((c) => c.startsWith("MAIL")));

  it("enforce: delivers to a listed MX over TLS verified by the CA, says verified=sts, and caches the policy", async (t) => {
    if (!ca) return t.skip("openssl not installed");
    https!.body = policyText("enforce");
    const peer = await startPeer({ tls: ca.leaf(["mx.x.test"]) });
    try {
      const out = await deliver(peer, "one");
      assert.match(out, /^r\0K127\.0\.0\.1 accepted message\.\nRemote host said: 250 ok queued\ntls=TLSv1\.[23] cipher=\S+ verified=sts\n\0$/);
      assert.equal(https!.hits, 1);
      assert.match(readFileSync(join(cache, "x.test"), "utf8"), /"id":"one"/);
    } finally {
      await peer.close();
    }
  });
  it("enforce: defers a peer with a self-signed certificate, with the reason, and sends no mail", async (t) => {
    if (!ca) return t.skip("openssl not installed");
    const peer = await startPeer({ tls: makeCert()! });
    try {
      const out = await deliver(peer, "one");
      assert.match(out, /^ZConnected to 127\.0\.0\.1 but its certificate is not trusted \(\w+\), and the MTA-STS policy of x\.test \(enforce\) asks for a verified certificate\./);
      assert.equal(mailed(peer), false);
      assert.equal(peer.sessions.length, 1, "no retry in plain text");
      assert.equal(https!.hits, 1, "same TXT id: the cached policy, no fetch");
    } finally {
      await peer.close();
    }
  });
  it("enforce: defers a peer that does not offer STARTTLS (a stripping attacker)", async (t) => {
    if (!ca) return t.skip("openssl not installed");
    const peer = await startPeer({});
    try {
      assert.match(await deliver(peer, "one"), /^ZConnected to 127\.0\.0\.1 but it does not offer STARTTLS, and the MTA-STS policy of x\.test/);
      assert.equal(mailed(peer), false);
    } finally {
      await peer.close();
    }
  });
  it("keeps the cached policy when the TXT id changes but the refresh fails", async (t) => {
    if (!ca) return t.skip("openssl not installed");
    https!.status = 500;
    const peer = await startPeer({ tls: makeCert()! });
    try {
      assert.match(await deliver(peer, "two"), /^ZConnected to 127\.0\.0\.1 but its certificate is not trusted/);
      assert.equal(https!.hits, 2);
    } finally {
      https!.status = 200;
      await peer.close();
    }
  });
  it("refreshes when the TXT id changes: testing mode delivers anyway and says what failed", async (t) => {
    if (!ca) return t.skip("openssl not installed");
    https!.body = policyText("testing");
    const peer = await startPeer({ tls: makeCert()! });
    try {
      const out = await deliver(peer, "three");
      assert.match(out, /^r\0K127\.0\.0\.1 accepted message\..*\ntls=TLSv1\.[23] cipher=\S+ verified=none \(MTA-STS testing mode: its certificate is not trusted \(\w+\)\)\n\0$/s);
      assert.match(readFileSync(join(cache, "x.test"), "utf8"), /"id":"three".*mode: testing/);
    } finally {
      await peer.close();
    }
  });
  it("enforce: defers when no MX host matches the policy", async (t) => {
    if (!ca) return t.skip("openssl not installed");
    https!.body = policyText("enforce", "other.x.test");
    const peer = await startPeer({ tls: ca.leaf(["mx.x.test"]) });
    try {
      assert.equal(await deliver(peer, "four"), "ZSorry, no MX host of x.test matches its MTA-STS policy, which is in enforce mode. (#4.7.5)\n\0");
      assert.equal(peer.sessions.length, 0);
    } finally {
      await peer.close();
    }
  });
  it("without a policy (no TXT record, no cache) delivers opportunistically", async (t) => {
    if (!ca) return t.skip("openssl not installed");
    rmSync(join(cache, "x.test"), { force: true });
    const peer = await startPeer({ tls: makeCert()! });
    try {
      await dns?.close();
      dns = await startDnsServer(new Map([...zone("x")].filter(([k]) => !k.startsWith("_mta-sts"))));
      const cfg = {
        helo: "client.test", me: "client.test", locals: [], routes: new Map([["x.test", `:${peer.port}`]]), tlsRequired: [],
        connectMs: 2000, remoteMs: 5000, dns: { servers: [{ host: "127.0.0.1", port: dns.port }], timeoutMs: 1000, tries: 1 },
        localIps: new Set<string>(), random: Math.random, tls: { policy: parseTlsPolicy(":sts") as TlsPolicyTable, ca: [ca.cert] }, stsCache: cache, stsPort: https!.port,
      };
      const out = (await deliverRemote(cfg, NO_TCPTO, "x.test", tx)).map(formatRecord).join("");
      assert.match(out, /K127\.0\.0\.1 accepted message\..*verified=none\n\0$/s);
      assert.equal(existsSync(join(cache, "x.test")), false);
    } finally {
      await peer.close();
    }
  });
});

describe("the policy fetch", { timeout: 60_000 }, () => {
  let ca: TestCa | null = null;
  before(() => { ca = makeCa(); });
  after(() => ca?.close());
  it("refuses a redirect, another media type, an oversize body, a certificate for another name; times out", async (t) => {
    if (!ca) return t.skip("openssl not installed");
    const h = await startHttps(ca.leaf(["mta-sts.x.test"]));
    const bad = await startHttps(ca.leaf(["www.x.test"]));
    const self = await startHttps(makeCert()!);
    const get = (port: number, timeoutMs = 5000) => fetchStsPolicy("x.test", { ip: "127.0.0.1", port, ca: [ca!.cert], timeoutMs });
    try {
      h.body = policyText("enforce");
      assert.deepEqual(await get(h.port), { ok: true, text: policyText("enforce") });
      h.status = 301;
      assert.deepEqual(await get(h.port), { ok: false, reason: "HTTP status 301" });
      h.status = 200;
      h.type = "text/html";
      assert.deepEqual(await get(h.port), { ok: false, reason: "the policy is not text/plain" });
      h.type = "text/plain; charset=utf-8";
      h.body = "x".repeat(64 * 1024 + 1);
      assert.deepEqual(await get(h.port), { ok: false, reason: "the policy is longer than 65536 bytes" });
      h.body = "hang";
      const t0 = Date.now();
      assert.deepEqual(await get(h.port, 500), { ok: false, reason: "timed out" });
      assert.ok(Date.now() - t0 < 3000);
      const wrong = await get(bad.port);
      assert.equal(wrong.ok, false);
      assert.match((wrong as { reason: string }).reason, /does not name mta-sts\.x\.test/);
      const s = await get(self.port);
      assert.equal(s.ok, false);
    } finally {
      await closeHttps(h);
      await closeHttps(bad);
      await closeHttps(self);
    }
  });
});

describe("qm remote with an enforce-mode MTA-STS policy (end to end)", { timeout: 120_000 }, () => {
  it("delivers to a peer with a certificate from control/tlsca, defers a self-signed one, and caches the policy", async (t) => {
    if (process.getuid?.() !== 0) return t.skip("the policy server needs port 443 (root)");
    const c = makeCa();
    if (!c) return t.skip("openssl not installed");
    // a 127.x address of our own: port 443 there collides with nobody
    const stsIp = `127.${40 + (process.pid % 200)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
    const home = await makeHome("client.test");
    const https = await startHttps(c.leaf(["mta-sts.x.test"]), stsIp, 443);
    https.body = policyText("enforce");
    const dnsE2e = await startDnsServer(zone("e2e", stsIp));
    const good = await startPeer({ tls: c.leaf(["mx.x.test"]) });
    const self = await startPeer({ tls: makeCert()! });
    const remote = async (port: number) => {
      writeFileSync(join(home, "control", "smtproutes"), `x.test::${port}\n`);
      const r = await runQm(["remote", "--", "x.test", "s@client.test", "a@x.test"], { input: "Subject: t\n\nx\n", env: { QMHOME: home } });
      return r.stdout.toString("latin1");
    };
    try {
      writeFileSync(join(home, "control", "resolvers"), `127.0.0.1:${dnsE2e.port}\n`);
      writeFileSync(join(home, "control", "tlspolicy"), ":sts\n");
      writeFileSync(join(home, "control", "tlsca"), c.cert);
      assert.match(await remote(good.port), /^r\0K127\.0\.0\.1 accepted message\.\nRemote host said: 250 ok queued\ntls=TLSv1\.[23] cipher=\S+ verified=sts\n\0$/);
      assert.ok(existsSync(join(home, "queue", "lock", "sts", "x.test")), "cached in queue/lock/sts");
      assert.match(await remote(self.port), /^ZConnected to 127\.0\.0\.1 but its certificate is not trusted \(\w+\), and the MTA-STS policy of x\.test \(enforce\) asks for a verified certificate\.\n/);
      assert.equal(self.sessions.flatMap((s) => s.commands).some((l) => l.startsWith("MAIL")), false);
      assert.equal(https.hits, 1, "the second delivery used the cached policy");
    } finally {
      await good.close();
      await self.close();
      await dnsE2e.close();
      await closeHttps(https);
      c.close();
      rmSync(join(home, ".."), { recursive: true, force: true });
    }
  });
});
