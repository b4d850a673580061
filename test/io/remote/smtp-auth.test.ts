import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { deliverRemote, type RemoteConfig } from "../../../core/io/remote/delivery.ts";
import type { Tcpto } from "../../../core/io/remote/tcpto.ts";
import { formatRecord } from "../../../core/lib/remote/report.ts";
import { startDnsServer } from "../../support/dns-server.ts";
import { makeCert, startPeer, type Answer, type PeerScript, type Session } from "../../support/smtp-peer.ts";

// The SMTP AUTH client against the scripted peer: mechanism choice, the
// password only over TLS (STARTTLS or implicit TLS on 465), the reply
// classes, and hostile EHLO and AUTH replies.

const NO_TCPTO: Tcpto = { isDown: () => false, record: () => {} };
const USER = "alice";
const PASSWORD = "pa:ss wörd";
const CERT = makeCert();
const b64 = (s: string) => Buffer.from(s, "latin1").toString("base64");
const PLAIN_LINE = `AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD}`)}`;

function config(host: string, port: number, over: Partial<RemoteConfig> = {}): RemoteConfig {
  return {
    helo: "client.test", me: "client.test", locals: ["client.test"],
    routes: new Map([["", `[${host}]:${port}`]]), tlsRequired: [],
    connectMs: 2000, remoteMs: 2000, dns: { servers: [] }, localIps: new Set(), random: Math.random,
    auth: { kind: "ok", entries: [{ relay: `[${host}]`, port, user: USER, password: PASSWORD }] },
    ...over,
  };
}
const tx = {
  helo: "client.test", sender: "s@client.test", recipients: ["a@x.test"],
  message: async function* () { yield new Uint8Array(Buffer.from("Subject: t\n\nbody\n")); },
};

/** A relay offering `auth` (the EHLO lines after STARTTLS) and answering AUTH with `onAuth`. */
function relay(ehloAuth: string[], onAuth: (line: string, s: Session) => Answer | undefined = () => "235 2.7.0 ok", over: Partial<PeerScript> = {}): PeerScript {
  return {
    tls: CERT!,
    answer: (line, s) => {
      const verb = line.split(" ")[0]!.toUpperCase();
      if (verb === "EHLO") return s.tls ? ["250-relay.test", ...ehloAuth, "250 PIPELINING"].join("\r\n") : "250-relay.test\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS";
      if (verb === "AUTH" || s.commands.at(-2)?.toUpperCase().startsWith("AUTH LOGIN")) return onAuth(line, s);
      if (s.commands.at(-3)?.toUpperCase().startsWith("AUTH LOGIN")) return onAuth(line, s);
      return undefined;
    },
    ...over,
  };
}

async function run(script: PeerScript, host = "127.0.0.1", port = 0, over: Partial<RemoteConfig> = {}) {
  const peer = await startPeer(script, host, port);
  try {
    const records = await deliverRemote(config(host, peer.port, over), NO_TCPTO, "x.test", tx);
    // let the peer read what was sent before the QUIT (at most a second)
    for (let i = 0; i < 20 && !peer.sessions.every((s) => s.commands.at(-1) === "QUIT"); i++) await new Promise((r) => setTimeout(r, 50));
    return { out: records.map(formatRecord).join(""), sessions: peer.sessions };
  } finally {
    await peer.close();
  }
}
const authLines = (sessions: readonly Session[]) => sessions.flatMap((s) => s.commands.filter((c) => /^auth/i.test(c) || c === b64(USER) || c === b64(PASSWORD)));

describe("SMTP AUTH to a relay (control/smtpauth)", { skip: CERT ? false : "openssl is missing", timeout: 60_000 }, () => {
  it("prefers PLAIN when both are offered, after STARTTLS, and delivers", async () => {
    const { out, sessions } = await run(relay(["250-AUTH LOGIN PLAIN CRAM-MD5"]));
    assert.match(out, /^r\0K/, out);
    const s = sessions[0]!;
    assert.equal(s.tls, true);
    assert.deepEqual(authLines(sessions), [PLAIN_LINE]);
    assert.ok(s.commands.indexOf("STARTTLS") < s.commands.indexOf(PLAIN_LINE));
    assert.ok(s.commands.indexOf(PLAIN_LINE) < s.commands.findIndex((c) => c.startsWith("MAIL")));
  });

  it("uses LOGIN when only LOGIN is offered (also in the old AUTH= form)", async () => {
    for (const offer of ["250-AUTH LOGIN", "250-AUTH=LOGIN", "250-auth=login"]) {
      let step = 0;
      const { out, sessions } = await run(relay([offer], () => ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 ok"][step++]));
      assert.match(out, /^r\0K/, `${offer}: ${out}`);
      assert.deepEqual(authLines(sessions), ["AUTH LOGIN", b64(USER), b64(PASSWORD)], offer);
    }
  });

  it("fails temporarily, sending no password, when the relay offers no usable mechanism", async () => {
    for (const offer of [[], ["250-AUTH CRAM-MD5 XOAUTH2"], ["250-AUTH"], ["250-AUTH PLAINX LOGINY"], ["250-AUTHPLAIN"], ["250-X-AUTH PLAIN"]]) {
      const { out, sessions } = await run(relay(offer));
      assert.match(out, /^Z.*offers (no AUTH|neither AUTH PLAIN nor AUTH LOGIN), and control\/smtpauth has a password for it/s, `${offer}: ${out}`);
      assert.deepEqual(authLines(sessions), [], String(offer));
      assert.equal(sessions[0]!.commands.some((c) => c.startsWith("MAIL")), false);
    }
  });

  it("bounces (D) on 535 with the relay's reply, defers (Z) on 454", async () => {
    const bad = await run(relay(["250-AUTH PLAIN"], () => "535 5.7.8 Error: authentication failed: bad password"));
    assert.match(bad.out, /^DConnected to 127\.0\.0\.1 but it refused AUTH PLAIN with the credentials from control\/smtpauth \(wrong user name or password\?\)\.\nRemote host said: 535 5\.7\.8 Error: authentication failed: bad password\ntls=TLSv1\.[23] cipher=\S+ verified=none\n\0$/, bad.out);
    assert.equal(bad.sessions[0]!.commands.some((c) => c.startsWith("MAIL")), false);
    const busy = await run(relay(["250-AUTH PLAIN"], () => "454 4.7.0 Temporary authentication failure"));
    assert.match(busy.out, /^ZConnected to 127\.0\.0\.1 but it refused AUTH PLAIN with the credentials from control\/smtpauth\.\nRemote host said: 454 4\.7\.0/, busy.out);
  });

  it("cancels with * when the relay asks for more, and fails temporarily", async () => {
    const { out, sessions } = await run(relay(["250-AUTH PLAIN"], (line) => (line === "*" ? "501 cancelled" : "334 ")));
    assert.match(out, /^Z.*refused AUTH PLAIN/s, out);
    const c = sessions[0]!.commands;
    assert.equal(c.indexOf("*"), c.indexOf(PLAIN_LINE) + 1);
  });

  it("survives hostile EHLO and AUTH replies: a 4096-byte mechanism list, a dropped connection, a garbage reply", async () => {
    const long = `250-AUTH ${"X-MECH ".repeat(580)}LOGIN`;
    let step = 0;
    const r1 = await run(relay([long], () => ["334 x", "334 y", "235 ok"][step++]));
    assert.match(r1.out, /^r\0K/, r1.out);
    const r2 = await run(relay(["250-AUTH PLAIN"], () => "close"));
    assert.match(r2.out, /^ZConnected to 127\.0\.0\.1 but connection died/, r2.out);
    const r3 = await run(relay(["250-AUTH PLAIN"], () => "hello there"));
    assert.match(r3.out, /^Z.*connection died/s, r3.out);
  });

  it("never sends the password to a relay without STARTTLS, and does not retry in plain text", async () => {
    const noTls: PeerScript = { answer: (line) => (/^ehlo/i.test(line) ? "250-plain.test\r\n250-AUTH PLAIN LOGIN\r\n250 PIPELINING" : undefined) };
    const { out, sessions } = await run(noTls);
    assert.match(out, /^ZConnected to 127\.0\.0\.1 but it does not offer STARTTLS, and I send the password from control\/smtpauth only over TLS\./, out);
    assert.equal(sessions.length, 1);
    assert.deepEqual(authLines(sessions), []);
    assert.equal(sessions[0]!.commands.some((c) => /^(MAIL|AUTH)/i.test(c)), false);
  });

  it("never sends the password when the STARTTLS handshake fails, nor retries without TLS", async () => {
    const broken: PeerScript = {
      answer: (line) => (/^ehlo/i.test(line) ? "250-broken.test\r\n250-AUTH PLAIN\r\n250 STARTTLS" : /^starttls/i.test(line) ? "220 go ahead\r\nthis is not TLS" : undefined),
    };
    const { out, sessions } = await run(broken);
    assert.match(out, /^ZConnected to 127\.0\.0\.1 but the TLS handshake failed, so I did not send the password from control\/smtpauth\./, out);
    assert.equal(sessions.length, 1);
    assert.deepEqual(authLines(sessions), []);
  });

  it("defers every delivery through a relay when control/smtpauth is refused, and not an MX delivery", async () => {
    const refused = { kind: "refused", reason: "control/smtpauth is open to group or others (mode 0644): refusing to use it; chmod 600 control/smtpauth" } as const;
    const { out, sessions } = await run(relay(["250-AUTH PLAIN"]), "127.0.0.1", 0, { auth: refused });
    assert.equal(out, `Z${refused.reason}. (#4.3.0)\n\0`);
    assert.equal(sessions.length, 0);
  });

  it("sends no AUTH to a relay with no line in control/smtpauth", async () => {
    const { out, sessions } = await run(relay(["250-AUTH PLAIN"]), "127.0.0.1", 0, { auth: { kind: "ok", entries: [] } });
    assert.match(out, /^r\0K/, out);
    assert.deepEqual(authLines(sessions), []);
  });
});

describe("a relay written [name] as Postfix's relayhost", { skip: CERT ? false : "openssl is missing", timeout: 60_000 }, () => {
  it("looks up the name's address, and matches control/smtpauth's [name] line", async () => {
    const dns = await startDnsServer(new Map([["smtp.relay.test", { records: [{ type: "A", data: "127.0.0.1" }] }]]));
    const peer = await startPeer(relay(["250-AUTH PLAIN"]));
    try {
      const cfg = config("x", peer.port, {
        routes: new Map([["", `[smtp.relay.test]:${peer.port}`]]),
        dns: { servers: [{ host: "127.0.0.1", port: dns.port }], timeoutMs: 1000, tries: 1 },
        auth: { kind: "ok", entries: [{ relay: "[smtp.relay.test]", port: peer.port, user: USER, password: PASSWORD }] },
      });
      const out = (await deliverRemote(cfg, NO_TCPTO, "x.test", tx)).map(formatRecord).join("");
      assert.match(out, /^r\0K127\.0\.0\.1 accepted/, out);
      assert.deepEqual(authLines(peer.sessions), [PLAIN_LINE]);
      assert.ok(dns.queries.some((q) => /smtp\.relay\.test/.test(q) && !q.includes("[")), dns.queries.join(","));
    } finally {
      await peer.close();
      await dns.close();
    }
  });
});

describe("implicit TLS on a :465 route (RFC 8314)", { skip: CERT ? false : "openssl is missing", timeout: 60_000 }, () => {
  // port 465 needs root; a random loopback address keeps clear of any other listener on 127.0.0.1:465
  const host = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
  let canBind = true;
  before(async () => {
    try {
      await (await startPeer({}, host, 465)).close();
    } catch {
      canBind = false;
    }
  });

  it("speaks TLS from the first byte, authenticates with PLAIN, sends no STARTTLS", async (t) => {
    if (!canBind) return t.skip("cannot bind port 465 (not root)");
    const script: PeerScript = {
      tls: CERT!, implicitTls: true,
      answer: (line) => (/^ehlo/i.test(line) ? "250-smtps.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME" : /^auth/i.test(line) ? "235 ok" : undefined),
    };
    const { out, sessions } = await run(script, host, 465);
    assert.match(out, /^r\0K/, out);
    assert.equal(sessions[0]!.tls, true);
    assert.deepEqual(authLines(sessions), [PLAIN_LINE]);
    assert.equal(sessions[0]!.commands.includes("STARTTLS"), false);
  });

  it("sends nothing in clear to a :465 peer that does not speak TLS", async (t) => {
    if (!canBind) return t.skip("cannot bind port 465 (not root)");
    const { out, sessions } = await run({ answer: () => undefined }, host, 465, { connectMs: 2000, remoteMs: 1500 });
    assert.match(out, /^ZConnected to [\d.]+ but the TLS handshake failed \(implicit TLS on port 465\), so I did not send the password from control\/smtpauth\./, out);
    assert.equal(sessions.flatMap((s) => s.commands).some((c) => /EHLO|AUTH|MAIL/i.test(c) || c.includes(b64(`\0${USER}`).slice(0, 8))), false);
  });
});
