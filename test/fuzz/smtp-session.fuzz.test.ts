import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { authChecked, MAX_ERRORS, rcptChecked, startSession, step, type Policy, type Session } from "../../core/lib/smtpd/session.ts";
import { splitAddress } from "../../core/lib/smtpd/address.ts";
import { HOSTILE, params, timed, tokens } from "../support/fuzz.ts";

// The smtpd session step function gets every command line a client sends.
// Whatever the lines, it answers with well-formed SMTP replies, never throws,
// and never accepts a recipient it would relay for a client without rights.

const POLICY: Policy = {
  greeting: "mx.example.org",
  localiphost: "example.org",
  databytes: 1000,
  maxRcpt: 5,
  tls: true,
  auth: true,
  rcptCheck: false,
  acceptsDomain: (d) => d === "example.org" || d === "sub.example.org",
  isMyIP: (ip) => ip.length === 4 && ip[0] === 127,
  badMailFrom: (a) => a.toLowerCase() === "spam@bad.example",
  submission: false,
  senderLogin: () => true,
};

const VERBS = ["HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "HELP", "QUIT", "STARTTLS", "AUTH", "constructor", "__proto__", "toString", "mail from:", "rcpt to:", "MAIL FROM:", "RCPT TO:"];
const ARGS = [...HOSTILE, "FROM:", "TO:", "example.org", "EXAMPLE.ORG", "other.test", "postmaster", "[127.0.0.1]", "[IPv6:::1]", "[1.2.3.4]", "@a,@b:", "SIZE=", "999999", "BODY=8BITMIME", "SMTPUTF8", "PLAIN", "LOGIN", "AGFhAGI=", "=", "*"];
const LOCALS = ["user", "postmaster", "a%b", "a!b", '"a@b"', "a\\@b", '"x y"', "Mixed.Case", "", "@x:", "a@other.test"];
const DOMAINS = ["example.org", "EXAMPLE.ORG", "example.org.", "sub.example.org", "other.test", "example.org@other.test", "[127.0.0.1]", "[10.0.0.1]", "[IPv6:::1]", ""];
const rcptLine = fc
  .tuple(fc.constantFrom("RCPT TO:", "rcpt to: ", "RCPT TO:@a,@b:"), tokens(LOCALS, 3), fc.constantFrom("@", "", "%", "!"), tokens(DOMAINS, 2), fc.boolean())
  .map(([v, l, at, d, br]) => (br ? `${v}<${l}${at}${d}>` : `${v}${l}${at}${d}`).replace("TO:@a,@b:<", "TO:<@a,@b:"));
const line = fc.oneof(
  rcptLine,
  rcptLine,
  fc.tuple(fc.constantFrom(...VERBS), tokens(ARGS, 12)).map(([v, a]) => `${v} ${a}`),
  tokens([...VERBS, ...ARGS], 12),
);
const REPLY = /^[2-5]\d\d[ -]/;

function run(lines: readonly string[], start: Session, p: Policy = POLICY): { session: Session; replies: string[]; quit: boolean; mails: number } {
  let s = start;
  const replies: string[] = [];
  let mails = 0;
  for (const l of lines) {
    const r = step(s, l, p);
    if (s.sender === null && r.session.sender !== null) mails++;
    s = r.session;
    replies.push(...r.replies);
    if (r.effect?.kind === "quit") return { session: s, replies, quit: true, mails };
    if (r.effect?.kind === "auth") {
      const checked = authChecked(s, r.effect.user, "no");
      s = checked.session;
      replies.push(...checked.replies);
      if (checked.effect?.kind === "quit") return { session: s, replies, quit: true, mails };
    }
    if (r.effect?.kind === "rcpt") s = rcptChecked(s, r.effect.addr, "ok").session;
    if (r.effect?.kind === "data") s = { ...s, sender: null, recipients: [] };
  }
  return { session: s, replies, quit: false, mails };
}

function assertNoRelay(lines: readonly string[], s: Session): void {
  for (const r of s.recipients) {
    const { local, domain } = splitAddress(r);
    const where = `recipient ${JSON.stringify(r)} after ${JSON.stringify(lines)}`;
    if (domain === null) assert.equal(local.toLowerCase(), "postmaster", where);
    else assert.ok(POLICY.acceptsDomain(domain.toLowerCase()), `relayed: ${where}`);
    assert.ok(!/[%!@]/.test(local), `routing trick accepted: ${where}`);
  }
}

describe("step()", () => {
  it("answers every line with well-formed replies and never throws", () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), (lines) => {
        const { replies } = timed(() => run(lines, startSession(null)));
        for (const r of replies) {
          assert.match(r, REPLY, `bad reply ${JSON.stringify(r)}`);
          assert.ok(!/[\r\n\0]/.test(r), `reply carries a line break or NUL: ${JSON.stringify(r)}`);
          assert.ok(r.length <= 512, "reply line longer than 512");
        }
      }),
      params(2000),
    );
  });

  it("never accepts a recipient outside rcpthosts from a client without relay rights", () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), (lines) => {
        // every line also gets a chance in a transaction that is already open
        const { session } = run(["EHLO x", "MAIL FROM:<a@b.example>", ...lines], startSession(null));
        assertNoRelay(lines, session);
      }),
      params(2000),
    );
  });

  it("keeps recipients within maxRcpt and drops the client after MAX_ERRORS unknown verbs", () => {
    fc.assert(
      fc.property(fc.array(tokens(ARGS, 4), { minLength: MAX_ERRORS, maxLength: MAX_ERRORS + 5 }), (junk) => {
        const lines = junk.map((j) => `X${j.replace(/[ \0]/g, "")}`);
        const { quit, replies } = run(lines, startSession(null));
        assert.ok(quit, "still talking after MAX_ERRORS unknown commands");
        assert.match(replies.at(-1) ?? "", /^421 /);
      }),
      params(300),
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "c", "d", "e", "f", "g"), { maxLength: 12 }), (names) => {
        const { session } = run(["HELO x", "MAIL FROM:<>", ...names.map((n) => `RCPT TO:<${n}@example.org>`)], startSession(null));
        assert.ok(session.recipients.length <= POLICY.maxRcpt);
      }),
      params(300),
    );
  });

  it("on a submission listener takes no MAIL from a client that has not authenticated, with or without TLS", () => {
    const sub = { ...POLICY, submission: true };
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), fc.boolean(), (lines, tls) => {
        const { mails, session } = run(["EHLO x", ...lines, "MAIL FROM:<a@b.example>"], startSession(null, tls), sub);
        assert.equal(mails, 0, `a MAIL was taken after ${JSON.stringify(lines)}`);
        assert.equal(session.recipients.length, 0);
      }),
      params(1000),
    );
  });

  it("ends the session at the tenth failed AUTH, whatever the failures", () => {
    const fails = ["AUTH PLAIN !!!!", "AUTH CRAM-MD5", "AUTH PLAIN AGpvZQBwdw==", "AUTH LOGIN\nam9l\n*", "AUTH PLAIN\n=", "AUTH LOGIN\n!"];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fails), { minLength: 10, maxLength: 14 }), (picks) => {
        const lines = picks.flatMap((p) => p.split("\n"));
        const { quit, replies } = run(lines, startSession(null, true));
        assert.ok(quit, `still talking after ${JSON.stringify(lines)}`);
        assert.match(replies.at(-1) ?? "", /^421 4\.7\.0 too many failed authentication attempts/);
      }),
      params(300),
    );
  });

  it("answers lines of any bytes, however long, in bounded time", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1000, maxLength: 20_000 }), (b) => {
        const l = String.fromCharCode(...b.subarray(0, 20_000));
        const r = timed(() => step(startSession(null), `MAIL FROM:<${l}>`, POLICY), 200);
        for (const x of r.replies) assert.match(x, REPLY);
      }),
      params(200),
    );
  });
});
