import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { runQm, tempDir } from "../support/qm.ts";
import { startDnsServer, type DnsServer, type NameEntry } from "../support/dns-server.ts";
import { makeCert } from "../support/smtp-peer.ts";
import { control, queued, smtpdHome, startListener, type Running } from "../support/smtpd.ts";

// qm remote end to end: a real `qm remote` process, a DNS server on
// loopback, and real SMTP peers (Postfix's smtp-sink, qm smtpd, dnsmasq).

const SINK = "/usr/sbin/smtp-sink";
const DNSMASQ = "/usr/sbin/dnsmasq";
const isRoot = process.getuid?.() === 0;

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}
async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((res) => {
      const c = connect(port, "127.0.0.1", () => { c.destroy(); res(true); });
      c.on("error", () => res(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}
interface Sink { port: number; dump: string; child: ChildProcess }
async function startSink(flags: string[] = []): Promise<Sink> {
  const port = await freePort();
  const dump = tempDir("qm-sink-");
  chmodSync(dump, 0o777);
  const child = spawn(SINK, [...(isRoot ? ["-u", "nobody"] : []), "-d", `${dump}/%M.`, ...flags, `127.0.0.1:${port}`, "20"], { stdio: "ignore" });
  await waitListening(port);
  return { port, dump, child };
}
function dumps(s: Sink): string[] {
  return readdirSync(s.dump).map((f) => readFileSync(join(s.dump, f), "latin1"));
}
function home(lines: Record<string, string>): string {
  const h = join(tempDir(), "qm");
  mkdirSync(join(h, "control"), { recursive: true });
  mkdirSync(join(h, "queue", "lock"), { recursive: true });
  writeFileSync(join(h, "control", "me"), "client.test\n");
  for (const [k, v] of Object.entries(lines)) writeFileSync(join(h, "control", k), v);
  return h;
}
async function remote(h: string, host: string, rcpts: string[], input = "Subject: e2e\n\nhello\n"): Promise<string> {
  const r = await runQm(["remote", "--", host, "-dash@client.test", ...rcpts], { input, env: { QMHOME: h } });
  assert.equal(r.code, 0, r.stderr.toString());
  return r.stdout.toString("latin1");
}

const haveSink = existsSync(SINK);
let dns: DnsServer;
let sink: Sink | null = null;
before(async () => {
  const zone = new Map<string, NameEntry>([
    ["mx.test", { records: [{ type: "MX", data: { preference: 10, exchange: "down.mx.test" } }, { type: "MX", data: { preference: 20, exchange: "up.mx.test" } }] }],
    ["down.mx.test", { records: [{ type: "A", data: "127.0.0.2" }] }],
    ["up.mx.test", { records: [{ type: "A", data: "127.0.0.1" }] }],
    ["nomx.test", { records: [{ type: "A", data: "127.0.0.1" }] }],
    ["null.test", { records: [{ type: "MX", data: { preference: 0, exchange: "." } }] }],
    ["fail.test", { behave: "servfail" }],
    ["self.test", { records: [{ type: "MX", data: { preference: 5, exchange: "up.mx.test" } }] }],
    ["named-me.test", { records: [{ type: "MX", data: { preference: 5, exchange: "client.test" } }, { type: "MX", data: { preference: 9, exchange: "up.mx.test" } }] }],
    ["backup.test", { records: [{ type: "MX", data: { preference: 5, exchange: "up.mx.test" } }, { type: "MX", data: { preference: 9, exchange: "client.test" } }] }],
    ["client.test", { records: [{ type: "A", data: "127.0.0.3" }] }],
  ]);
  dns = await startDnsServer(zone);
  if (haveSink) sink = await startSink();
});
after(async () => {
  sink?.child.kill();
  await dns.close();
});

function routed(domains: string[], port: number, extra: Record<string, string> = {}): string {
  return home({
    resolvers: `127.0.0.1:${dns.port}\n`,
    smtproutes: domains.map((d) => `${d}::${port}\n`).join(""),
    timeoutconnect: "2\n",
    timeoutremote: "5\n",
    ...extra,
  });
}

describe("qm remote with DNS", { timeout: 300_000 }, () => {
  it("skips the unreachable best MX and delivers to the next, with the envelope intact", async (t) => {
    if (!sink) return t.skip("smtp-sink (Debian postfix) not installed");
    const out = await remote(routed(["mx.test"], sink.port), "mx.test", ["a@mx.test", "b@mx.test"]);
    assert.equal(out, "r\0r\0K127.0.0.1 accepted message.\nRemote host said: 250 2.0.0 Ok\ntls=none\n\0");
    const got = dumps(sink).find((d) => d.includes("<a@mx.test>"));
    assert.ok(got);
    assert.match(got, /X-Mail-Args: <-dash@client\.test>/);
    assert.match(got, /X-Rcpt-Args: <b@mx\.test>/);
    assert.match(got, /\nhello\n/);
  });
  it("uses the domain's address when it has no MX", async (t) => {
    if (!sink) return t.skip("smtp-sink (Debian postfix) not installed");
    assert.match(await remote(routed(["nomx.test"], sink.port), "nomx.test", ["a@nomx.test"]), /^r\0K127\.0\.0\.1 accepted/);
  });
  const FAILS = [
    ["null MX", "null.test", /^DSorry, the domain says it accepts no mail \(null MX\)\. \(#5\.1\.10\)\n\0$/],
    ["NXDOMAIN", "nowhere.test", /^DSorry, I couldn't find any host named nowhere\.test\. \(#5\.1\.2\)\n\0$/],
    ["SERVFAIL", "fail.test", /^ZSorry, I couldn't find any host by that name\. \(#4\.1\.2\)\n\0$/],
  ] as const;
  for (const [name, domain, want] of FAILS) {
    it(`reports ${name}`, async () => assert.match(await remote(routed([], 1), domain, [`a@${domain}`]), want));
  }
  it("refuses an MX that is this host: a local address on port 25", async () => {
    assert.match(await remote(routed([], 1), "self.test", ["a@self.test"]), /^ZSorry\. Although I'm listed as a best-preference MX/);
  });
  it("refuses a best MX named like control/me, but uses better MXes than a backup that is me", async (t) => {
    assert.match(await remote(routed(["named-me.test"], 1), "named-me.test", ["a@named-me.test"]), /^ZSorry\. Although/);
    if (!sink) return t.skip("smtp-sink (Debian postfix) not installed");
    assert.match(await remote(routed(["backup.test"], sink.port), "backup.test", ["a@backup.test"]), /K127\.0\.0\.1 accepted/);
  });
});

describe("qm remote with smtproutes and smtp-sink", { timeout: 300_000 }, () => {
  it("sends every domain to one smarthost with the null-client line ':[127.0.0.1]:port'", async (t) => {
    if (!sink) return t.skip("smtp-sink (Debian postfix) not installed");
    const h = home({ smtproutes: `:[127.0.0.1]:${sink.port}\n` });
    assert.match(await remote(h, "anything.invalid", ["x@anything.invalid"]), /^r\0K127\.0\.0\.1 accepted/);
  });
  it("reports a 4xx greeting as Z and a 5xx RCPT as h then D", async (t) => {
    if (!haveSink) return t.skip("smtp-sink (Debian postfix) not installed");
    const busy = await startSink(["-r", "CONNECT"]);
    const picky = await startSink(["-f", "RCPT"]);
    try {
      assert.match(await remote(home({ smtproutes: `:127.0.0.1:${busy.port}\n` }), "x.test", ["a@x.test"]), /^ZConnected to 127\.0\.0\.1 but greeting failed\.\nRemote host said: 4/);
      assert.match(await remote(home({ smtproutes: `:127.0.0.1:${picky.port}\n` }), "x.test", ["a@x.test"]), /^h127\.0\.0\.1 does not like recipient\.\nRemote host said: 5\d\d .*\n\0DGiving up on 127\.0\.0\.1\./);
    } finally {
      busy.child.kill();
      picky.child.kill();
    }
  });
  it("reports usage errors as D and exits 0", async () => {
    assert.equal(await remote(home({}), "x.test", []), "DI (qm remote) was invoked improperly. (#5.3.5)\n\0");
  });
});

describe("qm remote to qm smtpd", { timeout: 300_000 }, () => {
  let qm: Running | null = null;
  let h = "";
  before(async () => {
    h = await smtpdHome();
    const cert = makeCert();
    if (cert) {
      control(h, "servercert.pem", cert.key + cert.cert);
      chmodSync(join(h, "control", "servercert.pem"), 0o600);
    }
    qm = await startListener(h, ["--listen", "127.0.0.1:0"]);
  });
  after(async () => { await qm?.stop(); });
  it("delivers into qm smtpd's queue, over STARTTLS when it offers it", async () => {
    const port = qm!.ports[0]!;
    const before = queued(h).length;
    const out = await remote(home({ smtproutes: `example.test:127.0.0.1:${port}\n` }), "example.test", ["postmaster@example.test"], "Subject: to smtpd\n\n.leading dot\n");
    assert.match(out, /^r\0K127\.0\.0\.1 accepted message\./);
    const now = queued(h);
    assert.equal(now.length, before + 1);
    const msg = now.find((m) => m.includes("Subject: to smtpd"))!;
    assert.match(msg, /\n\.leading dot\n$/);
    if (existsSync(join(h, "control", "servercert.pem"))) assert.match(msg, /ESMTPS|TLS/i);
  });
});

describe("qm remote against dnsmasq", { timeout: 300_000 }, () => {
  it("finds the MX through dnsmasq and delivers", async (t) => {
    if (!existsSync(DNSMASQ)) return t.skip("dnsmasq not installed");
    if (!sink) return t.skip("smtp-sink (Debian postfix) not installed");
    const port = await freePort();
    const dm = spawn(DNSMASQ, ["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
      "--listen-address=127.0.0.1", `--port=${port}`, "--pid-file=", ...(isRoot ? ["--user=root"] : []),
      "--local=/dm.test/", "--mx-host=dm.test,mail.dm.test,10", "--host-record=mail.dm.test,127.0.0.1"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const h = home({ resolvers: `127.0.0.1:${port}\n`, smtproutes: `dm.test::${sink.port}\n` });
      assert.match(await remote(h, "dm.test", ["a@dm.test"]), /^r\0K127\.0\.0\.1 accepted/);
      assert.match(await remote(h, "nx.dm.test", ["a@nx.dm.test"]), /^D/);
    } finally {
      dm.kill();
    }
  });
});
