import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deliverRemote, type RemoteConfig } from "../../../core/io/remote/delivery.ts";
import type { Tcpto } from "../../../core/io/remote/tcpto.ts";
import { readTlsControls } from "../../../core/io/tls/controls.ts";
import { formatRecord } from "../../../core/lib/remote/report.ts";
import { parseTlsPolicy, type TlsPolicyTable } from "../../../core/lib/tls/policy.ts";
import { startDnsServer, type DnsServer } from "../../support/dns-server.ts";
import { makeHome, runQm } from "../../support/qm.ts";
import { makeCert, startPeer, type PeerScript } from "../../support/smtp-peer.ts";
import { makeCa, type TestCa } from "../../support/tls-ca.ts";

// control/tlspolicy's levels against scripted STARTTLS peers whose
// certificates come from a CA made at test time (control/tlsca), with the
// relay named mx.x.test in a DNS server on loopback.

const NO_TCPTO: Tcpto = { isDown: () => false, record: () => {} };
let ca: TestCa | null = null;
let dns: DnsServer | null = null;
const why = () => (ca ? "" : "openssl not installed");

function config(port: number, policy: string, over: Partial<RemoteConfig> = {}): RemoteConfig {
  return {
    helo: "client.test", me: "client.test", locals: ["client.test"],
    routes: new Map([["", `mx.x.test:${port}`]]), tlsRequired: [],
    connectMs: 2000, remoteMs: 5000, dns: { servers: [{ host: "127.0.0.1", port: dns!.port }], timeoutMs: 1000, tries: 1 },
    localIps: new Set(), random: Math.random,
    tls: { policy: parseTlsPolicy(policy) as TlsPolicyTable, ca: [ca!.cert] },
    ...over,
  };
}
const tx = {
  helo: "client.test", sender: "s@client.test", recipients: ["a@x.test"],
  message: async function* () { yield new Uint8Array(Buffer.from("Subject: t\n\nbody\n")); }, size: 17,
};
async function run(script: PeerScript, policy: string, over: Partial<RemoteConfig> = {}) {
  const peer = await startPeer(script);
  try {
    const records = await deliverRemote(config(peer.port, policy, over), NO_TCPTO, "x.test", tx);
    return { out: records.map(formatRecord).join(""), peer };
  } finally {
    await peer.close();
  }
}
const mailed = (p: { sessions: { commands: string[] }[] }) => p.sessions.some((s) => s.commands.some((c) => c.startsWith("MAIL")));

describe("control/tlspolicy verify", { timeout: 90_000 }, () => {
  before(async () => {
    ca = makeCa();
    dns = await startDnsServer(new Map([["mx.x.test", { records: [{ type: "A", data: "127.0.0.1" }] }]]));
  });
  after(async () => { ca?.close(); await dns?.close(); });

  it("delivers to a peer whose certificate chains to control/tlsca and names the MX host, and says so", async (t) => {
    if (!ca) return t.skip(why());
    const { out, peer } = await run({ tls: ca.leaf(["mx.x.test"]) }, "x.test:verify\n");
    assert.match(out, /^r\0K127\.0\.0\.1 accepted message\.\nRemote host said: 250 ok queued\ntls=TLSv1\.[23] cipher=\S+ verified=ca\n\0$/);
    assert.equal(peer.sessions[0]!.tls, true);
  });
  it("accepts a wildcard for the leftmost label", async (t) => {
    if (!ca) return t.skip(why());
    const { out } = await run({ tls: ca.leaf(["*.x.test"]) }, ":verify\n");
    assert.match(out, /verified=ca\n\0$/);
  });
  it("defers a self-signed certificate, before MAIL, with the reason", async (t) => {
    if (!ca) return t.skip(why());
    const { out, peer } = await run({ tls: makeCert()! }, "x.test:verify\n");
    assert.match(out, /^ZConnected to 127\.0\.0\.1 but its certificate is not trusted \(\w+\), and control\/tlspolicy asks for a verified certificate\.\ntls=TLSv1\.[23] cipher=\S+ verified=none\n\0$/);
    assert.equal(mailed(peer), false);
    assert.equal(peer.sessions.length, 1, "no retry in plain text");
  });
  it("defers a trusted certificate for another name (and a wildcard one label too deep)", async (t) => {
    if (!ca) return t.skip(why());
    for (const names of [["other.x.test"], ["*.mx.x.test"], ["x.test"]]) {
      const { out, peer } = await run({ tls: ca.leaf(names) }, "x.test:verify\n");
      assert.match(out, /^ZConnected to 127\.0\.0\.1 but its certificate does not name mx\.x\.test, /, names.join());
      assert.equal(mailed(peer), false);
    }
  });
  it("defers a peer without STARTTLS, naming control/tlspolicy", async (t) => {
    if (!ca) return t.skip(why());
    const { out, peer } = await run({}, "x.test:verify\n");
    assert.match(out, /^ZConnected to 127\.0\.0\.1 but it does not offer STARTTLS, and control\/tlspolicy asks for a verified certificate\.\ntls=none\n\0$/);
    assert.equal(mailed(peer), false);
  });
  it("encrypt takes any certificate, says verified=none; none never starts TLS", async (t) => {
    if (!ca) return t.skip(why());
    const enc = await run({ tls: makeCert()! }, ":encrypt\n");
    assert.match(enc.out, /^r\0K.*\ntls=TLSv1\.[23] cipher=\S+ verified=none\n\0$/s);
    const none = await run({ tls: makeCert()! }, "x.test:none\n:verify\n");
    assert.match(none.out, /^r\0K.*\ntls=none\n\0$/s);
    assert.equal(none.peer.sessions[0]!.commands.includes("STARTTLS"), false);
  });
  it("keeps control/tlsrequired as encrypt, and a tlspolicy line for the domain wins over it", async (t) => {
    if (!ca) return t.skip(why());
    const req = await run({}, ":may\n", { tlsRequired: ["x.test"] });
    assert.match(req.out, /^ZConnected to 127\.0\.0\.1 but it does not offer STARTTLS, which control\/tlsrequired asks for\./);
    const ver = await run({ tls: makeCert()! }, "x.test:verify\n", { tlsRequired: ["x.test"] });
    assert.match(ver.out, /certificate is not trusted/);
  });
  it("verifies a relay with control/smtpauth credentials under verify, and sends no password to a bad certificate", async (t) => {
    if (!ca) return t.skip(why());
    const auth = { kind: "ok" as const, entries: [] as { relay: string; port: number; user: string; password: string }[] };
    const script = (tls: { key: string; cert: string }): PeerScript => ({
      tls,
      answer: (l, s) => (/^EHLO/i.test(l) && s.tls ? "250-mx.x.test\r\n250 AUTH PLAIN" : /^AUTH/i.test(l) ? "235 ok" : undefined),
    });
    const bad = await startPeer(script(makeCert()!));
    try {
      auth.entries.splice(0, 1, { relay: "mx.x.test", port: bad.port, user: "u", password: "secret" });
      const records = await deliverRemote(config(bad.port, "x.test:verify\n", { auth }), NO_TCPTO, "x.test", tx);
      assert.match(records.map(formatRecord).join(""), /^ZConnected to 127\.0\.0\.1 but its certificate is not trusted/);
      assert.equal(bad.sessions.flatMap((s) => s.commands).some((c) => /^AUTH/i.test(c)), false);
    } finally {
      await bad.close();
    }
    const good = await startPeer(script(ca.leaf(["mx.x.test"])));
    try {
      auth.entries.splice(0, 1, { relay: "mx.x.test", port: good.port, user: "u", password: "secret" });
      const records = await deliverRemote(config(good.port, "x.test:verify\n", { auth }), NO_TCPTO, "x.test", tx);
      assert.match(records.map(formatRecord).join(""), /K127\.0\.0\.1 accepted message\..*verified=ca\n\0$/s);
      // with only "may" in control/tlspolicy the password still forces encryption, not verification
      const weak = await deliverRemote(config(good.port, ":may\n", { auth, tls: { policy: parseTlsPolicy(":may") as TlsPolicyTable, ca: undefined } }), NO_TCPTO, "x.test", tx);
      assert.match(weak.map(formatRecord).join(""), /verified=none\n\0$/);
    } finally {
      await good.close();
    }
  });
});

describe("control/tlspolicy and control/tlsca files", { timeout: 90_000 }, () => {
  it("reads both; a bad file defers every delivery with its reason", async () => {
    const home = await makeHome("client.test");
    try {
      assert.deepEqual(await readTlsControls(home), { policy: null, ca: undefined });
      writeFileSync(join(home, "control", "tlspolicy"), "x.test:verify\n:may\n");
      writeFileSync(join(home, "control", "tlsca"), "not a certificate\n");
      const c = await readTlsControls(home);
      assert.equal((c.policy as TlsPolicyTable).rules.get("x.test"), "verify");
      assert.equal(c.ca, "control/tlsca holds no PEM certificate");
      writeFileSync(join(home, "control", "tlspolicy"), "x.test:daen\n");
      const r = await runQm(["remote", "--", "x.test", "s@client.test", "a@x.test"], { input: "Subject: t\n\nx\n", env: { QMHOME: home } });
      assert.match(r.stdout.toString("latin1"), /^ZUnable to parse control\/tlspolicy, line 1: unknown level "daen"/);
      writeFileSync(join(home, "control", "tlspolicy"), "x".repeat((1 << 20) + 1));
      assert.match(String((await readTlsControls(home)).policy), /longer than 1048576 bytes/);
    } finally {
      rmSync(join(home, ".."), { recursive: true, force: true });
    }
  });
  it("qm remote verifies with control/tlsca and logs the TLS facts (end to end)", async (t) => {
    const c = makeCa();
    if (!c) return t.skip("openssl not installed");
    const home = await makeHome("client.test");
    const d = await startDnsServer(new Map([["mx.x.test", { records: [{ type: "A", data: "127.0.0.1" }] }]]));
    const peer = await startPeer({ tls: c.leaf(["mx.x.test"]) });
    try {
      writeFileSync(join(home, "control", "resolvers"), `127.0.0.1:${d.port}\n`);
      writeFileSync(join(home, "control", "smtproutes"), `x.test:mx.x.test:${peer.port}\n`);
      writeFileSync(join(home, "control", "tlspolicy"), ":verify\n");
      writeFileSync(join(home, "control", "tlsca"), c.cert);
      const r = await runQm(["remote", "--", "x.test", "s@client.test", "a@x.test"], { input: "Subject: t\n\nx\n", env: { QMHOME: home } });
      assert.match(r.stdout.toString("latin1"), /^r\0K127\.0\.0\.1 accepted message\.\nRemote host said: 250 ok queued\ntls=TLSv1\.[23] cipher=\S+ verified=ca\n\0$/);
    } finally {
      await peer.close();
      await d.close();
      c.close();
      rmSync(join(home, ".."), { recursive: true, force: true });
    }
  });
});
