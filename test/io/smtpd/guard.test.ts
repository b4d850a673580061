import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { makePeer } from "../../../core/lib/base/peer.ts";
import { startSession, type Session } from "../../../core/lib/smtpd/session.ts";
import { SmtpConn } from "../../../core/io/smtpd/conn.ts";
import { openGuard } from "../../../core/io/smtpd/guard.ts";
import type { Defences } from "../../../core/io/smtpd/defence-controls.ts";
import { startDnsServer, type DnsServer } from "../../support/dns-server.ts";
import { tempDir } from "../../support/qm.ts";

// One session's defences (core/io/smtpd/guard.ts) with a DNS server of our
// own listing 192.0.2.66 in bl.test and a greylist store in a temporary
// home: who skips what (AUTH, RELAYCLIENT, submission), and what the
// listed and greylisted get.

let dns: DnsServer;
let home = "";
const LISTED = "192.0.2.66";
const NONE: Defences = { dnsbl: [], dnswl: [], rates: { connections: 0, messages: 0, recipients: 0 }, greylist: null, greetdelay: 0, warnings: [] };
const BL: Defences = { ...NONE, dnsbl: [{ zone: "bl.test", weight: 1, text: "listed here" }] };
const GREY: Defences = { ...NONE, greylist: { delay: 60, lifetime: 600 } };

function guard(defences: Defences, ip: string, opts: { relay?: boolean; mode?: "smtp" | "submission" } = {}) {
  const lines: string[] = [];
  const peer = makePeer((k) => ({ TCPREMOTEIP: ip, ...(opts.relay ? { RELAYCLIENT: "" } : {}) })[k]);
  const g = openGuard({ home, sid: "1.1", peer, mode: opts.mode ?? "smtp", defences, log: (l) => lines.push(l), warn: (l) => lines.push(l) });
  return { g, lines, conn: new SmtpConn(new PassThrough(), 5000) };
}
const inMail = (user: string | null = null): Session => ({ ...startSession(null), helo: "c", user, sender: "s@sender.test" });
const ok = async () => "ok" as const;
const greyFiles = () => readdirSync(join(home, "greylist"), { recursive: true }).filter((f) => String(f).length > 10).length;

describe("openGuard()", { timeout: 60_000 }, () => {
  before(async () => {
    dns = await startDnsServer(new Map([["66.2.0.192.bl.test", { records: [{ type: "A" as const, data: "127.0.0.2" }] }]]));
    home = tempDir();
    mkdirSync(join(home, "control"));
    mkdirSync(join(home, "greylist"));
    writeFileSync(join(home, "control", "resolvers"), `127.0.0.1:${dns.port}\n`);
  });
  after(async () => dns?.close());

  it("refuses a listed client's recipients with the zone's text, postmaster excepted", async () => {
    const { g, conn, lines } = guard(BL, LISTED);
    assert.equal(await g.connect(conn), null);
    assert.deepEqual((await g.rcpt(inMail(), "joe@example.test", ok)).replies, ["554 5.7.1 listed here"]);
    assert.deepEqual((await g.rcpt(inMail(), "PostMaster@example.test", ok)).replies, ["250 2.1.5 ok"]);
    assert.deepEqual(lines, ["smtpd: 1.1 dnsbl 192.0.2.66 bl.test score 1"]);
  });

  it("lets an authenticated session, a RELAYCLIENT and a submission listener past the lists", async () => {
    for (const [s, o] of [[inMail("joe"), {}], [inMail(), { relay: true }], [inMail(), { mode: "submission" as const }]] as const) {
      const { g, conn } = guard(BL, LISTED, o);
      await g.connect(conn);
      assert.deepEqual((await g.rcpt(s, "joe@example.test", ok)).replies, ["250 2.1.5 ok"]);
    }
  });

  it("does not greylist an authenticated session or a RELAYCLIENT, and greylists the rest", async () => {
    for (const [s, o] of [[inMail("joe"), {}], [inMail(), { relay: true }]] as const) {
      const { g, conn } = guard(GREY, "192.0.2.1", o);
      await g.connect(conn);
      assert.deepEqual((await g.rcpt(s, "joe@example.test", ok)).replies, ["250 2.1.5 ok"]);
    }
    assert.equal(greyFiles(), 0);
    const { g, conn } = guard(GREY, "192.0.2.1");
    await g.connect(conn);
    assert.match((await g.rcpt(inMail(), "joe@example.test", ok)).replies[0]!, /^451 4\.7\.1 greylisted: .* try again in 60 seconds$/);
    assert.equal(greyFiles(), 1);
  });

  it("checks the recipient before greylisting: an unknown one gets 550 and no record", async () => {
    const { g, conn } = guard(GREY, "192.0.2.9");
    await g.connect(conn);
    assert.equal((await g.rcpt(inMail(), "nobody@example.test", async () => "unknown" as const)).replies[0], "550 5.1.1 sorry, no mailbox here by that name");
    assert.equal(greyFiles(), 1);
  });

  it("counts a client's recipients and messages, and spares RELAYCLIENT", async () => {
    const d = { ...NONE, rates: { connections: 0, messages: 1, recipients: 1 } };
    const { g, conn } = guard(d, "2001:db8::1");
    await g.connect(conn);
    assert.equal(g.mail(inMail()), null);
    assert.equal(g.mail(inMail()), "450 4.7.1 too many messages from 2001:db8::/64 (limit 1 a minute); try again later");
    assert.deepEqual((await g.rcpt(inMail(), "a@example.test", ok)).replies, ["250 2.1.5 ok"]);
    const other = guard(d, "2001:db8::2"); // the same /64
    assert.match((await other.g.rcpt(inMail(), "b@example.test", ok)).replies[0]!, /^450 4\.7\.1 too many recipients from 2001:db8::\/64/);
    const relay = guard(d, "2001:db8::3", { relay: true });
    assert.equal(relay.g.mail(inMail()), null);
  });
});
