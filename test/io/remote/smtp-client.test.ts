import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { deliverRemote, type RemoteConfig } from "../../../core/io/remote/delivery.ts";
import type { Tcpto } from "../../../core/io/remote/tcpto.ts";
import { formatRecord, synthesizeReport } from "../../../core/lib/remote/report.ts";
import { EHLO_DEFAULT, makeCert, startPeer, type Peer, type PeerScript } from "../../support/smtp-peer.ts";

const NO_TCPTO: Tcpto = { isDown: () => false, record: () => {} };

function config(port: number, over: Partial<RemoteConfig> = {}): RemoteConfig {
  return {
    helo: "client.test", me: "client.test", locals: ["client.test"],
    routes: new Map([["", `127.0.0.1:${port}`]]), tlsRequired: [],
    connectMs: 2000, remoteMs: 2000, dns: { servers: [] }, localIps: new Set(), random: Math.random,
    ...over,
  };
}
function tx(message: string, recipients = ["a@x.test"]) {
  return {
    helo: "client.test", sender: "s@client.test", recipients,
    message: async function* () { yield new Uint8Array(Buffer.from(message, "latin1")); },
    size: message.length,
  };
}
async function run(script: PeerScript, message = "Subject: t\n\nbody\n", recipients?: string[], over: Partial<RemoteConfig> = {}) {
  const peer = await startPeer(script);
  try {
    const records = await deliverRemote(config(peer.port, over), NO_TCPTO, "x.test", tx(message, recipients));
    return { out: records.map(formatRecord).join(""), peer };
  } finally {
    await peer.close();
  }
}
const rejectAt = (verb: string, reply: string): PeerScript => ({
  answer: (line) => (line.toUpperCase().startsWith(verb) ? reply : undefined),
});

describe("deliverRemote() against a scripted peer", { timeout: 120_000 }, () => {
  it("sends EHLO, pipelines MAIL and RCPT, dot-stuffs with CRLF, and reports K", async () => {
    const { out, peer } = await run({}, "Subject: t\n\n.hidden\nlast\n", ["a@x.test", "b@x.test"]);
    assert.equal(out, "r\0r\0K127.0.0.1 accepted message.\nRemote host said: 250 ok queued\ntls=none\n\0");
    const s = peer.sessions[0]!;
    assert.deepEqual(s.commands, ["EHLO client.test", "MAIL FROM:<s@client.test> BODY=8BITMIME SIZE=25", "RCPT TO:<a@x.test>", "RCPT TO:<b@x.test>", "DATA"]);
    assert.equal(s.bodies[0], "Subject: t\r\n\r\n..hidden\r\nlast\r\n");
  });
  it("reports each recipient: r, h, s in argument order", async () => {
    const { out } = await run({
      answer: (l) => (l.includes("<bad@") ? "550 no such user" : l.includes("<later@") ? "451 try later" : undefined),
    }, "x\n", ["ok@x.test", "bad@x.test", "later@x.test"]);
    assert.equal(out, "r\0h127.0.0.1 does not like recipient.\nRemote host said: 550 no such user\n\0"
      + "s127.0.0.1 does not like recipient.\nRemote host said: 451 try later\n\0K127.0.0.1 accepted message.\nRemote host said: 250 ok queued\ntls=none\n\0");
  });
  it("gives up when no recipient is accepted", async () => {
    const { out } = await run(rejectAt("RCPT", "550 nope"));
    assert.match(out, /^h127\.0\.0\.1 does not like recipient\.\nRemote host said: 550 nope\n\0DGiving up on 127\.0\.0\.1\.\n/);
  });
  it("falls back to HELO when EHLO is refused, and then does not pipeline", async () => {
    const { out, peer } = await run(rejectAt("EHLO", "502 what"));
    assert.match(out, /K127\.0\.0\.1 accepted/);
    assert.deepEqual(peer.sessions[0]!.commands.slice(0, 3), ["EHLO client.test", "HELO client.test", "MAIL FROM:<s@client.test>"]);
  });
  const CASES = [
    ["greeting 4xx", { greeting: "421 busy" }, /^ZConnected to 127\.0\.0\.1 but greeting failed\.\nRemote host said: 421 busy\ntls=none\n\0$/],
    ["greeting 5xx", { greeting: "554 go away" }, /^DConnected to 127\.0\.0\.1 but greeting failed\./],
    ["HELO refused", { answer: (l: string) => (/^(EHLO|HELO)/.test(l) ? "501 bad name" : undefined) }, /^ZConnected to .* but my name was rejected/],
    ["MAIL 5xx", rejectAt("MAIL", "553 bad sender"), /^DConnected to 127\.0\.0\.1 but sender was rejected\.\nRemote host said: 553 bad sender\ntls=none\n\0$/],
    ["MAIL 4xx", rejectAt("MAIL", "451 later"), /^ZConnected to 127\.0\.0\.1 but sender was rejected\./],
    ["DATA 5xx", rejectAt("DATA", "554 no data"), /^r\0D127\.0\.0\.1 failed on DATA command\.\nRemote host said: 554 no data\ntls=none\n\0$/],
    ["DATA 4xx", rejectAt("DATA", "451 no data"), /^r\0Z127\.0\.0\.1 failed on DATA command\./],
    ["final 5xx", { afterData: () => "554 5.7.1 spam" }, /^r\0D127\.0\.0\.1 failed after I sent the message\.\nRemote host said: 554 5\.7\.1 spam\ntls=none\n\0$/],
    ["final 4xx", { afterData: () => "452 full" }, /^r\0Z127\.0\.0\.1 failed after I sent the message\./],
    ["death after the dot", { afterData: () => "close" as const }, /^r\0ZConnected to 127\.0\.0\.1 but connection died\. Possible duplicate! \(#4\.4\.2\)\ntls=none\n\0$/],
    ["death at RCPT", rejectAt("RCPT", "close"), /^ZConnected to 127\.0\.0\.1 but connection died\. \(#4\.4\.2\)\ntls=none\n\0$/],
    ["multiline reply", { afterData: () => "250-first\r\n250 second" }, /Remote host said: 250-first\n250 second\ntls=none\n\0$/],
    ["garbage reply", rejectAt("MAIL", "hello there"), /^ZConnected to 127\.0\.0\.1 but connection died/],
  ] as const;
  for (const [name, script, want] of CASES) {
    it(`reports ${name}`, async () => assert.match((await run(script as PeerScript)).out, want));
  }
  it("refuses a partial final line without sending the final dot", async () => {
    const { out, peer } = await run({}, "no newline at end");
    assert.equal(out, "r\0DSMTP cannot transfer messages with partial final lines. (#5.6.2)\ntls=none\n\0");
    assert.deepEqual(peer.sessions[0]!.bodies, []);
  });
  it("times out a silent peer (timeoutremote) as connection died", async () => {
    const t0 = Date.now();
    const { out } = await run(rejectAt("MAIL", "hang"), undefined, undefined, { remoteMs: 300 });
    // the peer skips MAIL's reply, so pipelined replies shift by one; the session still ends as died
    assert.match(out, /(^|\0)ZConnected to 127\.0\.0\.1 but connection died/);
    assert.ok(Date.now() - t0 < 3000);
  });
  it("never puts CR or LF from an address on the wire", async () => {
    const { out, peer } = await run({}, "x\n", ["a\r\nRSET@x.test"]);
    assert.match(out, /^D.*CR, LF or NUL/);
    assert.equal(peer.sessions[0]?.commands.some((c) => c === "RSET@x.test>"), false);
  });
  it("quotes a local part that is not an atom", async () => {
    const { peer } = await run({}, "x\n", ["a b@x.test"]);
    assert.equal(peer.sessions[0]!.commands[2], "RCPT TO:<\"a b\"@x.test>");
  });
  it("says it could not connect when nothing listens", async () => {
    const records = await deliverRemote(config(1), NO_TCPTO, "x.test", tx("x\n"));
    assert.deepEqual(records.map(formatRecord), ["ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\0"]);
  });
});

describe("STARTTLS", { timeout: 120_000 }, () => {
  let cert: { key: string; cert: string } | null = null;
  before(() => { cert = makeCert(); });
  it("is used whenever offered, with a certificate made at test time", async (t) => {
    if (!cert) return t.skip("openssl not installed");
    const { out, peer } = await run({ tls: cert });
    assert.match(out, /K127\.0\.0\.1 accepted/);
    const s = peer.sessions[0]!;
    assert.equal(s.tls, true);
    assert.deepEqual(s.commands.slice(0, 4), ["EHLO client.test", "STARTTLS", "EHLO client.test", "MAIL FROM:<s@client.test> BODY=8BITMIME SIZE=17"]);
  });
  it("is required for domains in control/tlsrequired: no STARTTLS, no mail", async () => {
    const { out, peer } = await run({}, undefined, undefined, { tlsRequired: [".x.test", "x.test"] });
    assert.match(out, /^ZConnected to 127\.0\.0\.1 but it does not offer STARTTLS/);
    assert.equal(peer.sessions[0]!.commands.some((c) => c.startsWith("MAIL")), false);
  });
  it("falls back to plain text after a failed handshake (opportunistic)", async () => {
    // offers STARTTLS, says 220, then keeps talking plain text: the handshake fails
    const { out, peer } = await run({
      answer: (l) => (l.startsWith("EHLO") ? `${EHLO_DEFAULT.replace("250 SIZE", "250-SIZE")}\r\n250 STARTTLS` : l === "STARTTLS" ? "220 go" : undefined),
    });
    assert.match(out, /K127\.0\.0\.1 accepted/);
    assert.equal(peer.sessions.length, 2);
    assert.equal(peer.sessions[1]!.commands.includes("STARTTLS"), false);
  });
});

describe("synthesizeReport() over real records", { timeout: 120_000 }, () => {
  it("turns a 4xx recipient into Z with both texts", async () => {
    const peer = await startPeer(rejectAt("RCPT", "450 greylisted"));
    try {
      const r = synthesizeReport(await deliverRemote(config(peer.port), NO_TCPTO, "x.test", tx("x\n")));
      assert.equal(r.letter, "Z");
      assert.equal(r.text, "127.0.0.1 does not like recipient.\nRemote host said: 450 greylisted\nGiving up on 127.0.0.1.\nRemote host said: 450 greylisted\ntls=none\n");
    } finally {
      await peer.close();
    }
  });
});
