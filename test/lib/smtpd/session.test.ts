import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { authChecked, MAX_AUTH_FAILURES, MAX_JUNK, MAX_REFUSED, MAX_TRANSACTIONS, rcptChecked, sessionEnvelope, startSession, step, tlsStarted, type Policy, type Session, type Step } from "../../../core/lib/smtpd/session.ts";

const POLICY: Policy = {
  greeting: "mx.example.org",
  localiphost: "example.org",
  databytes: 1000,
  maxRcpt: 3,
  tls: true,
  auth: true,
  rcptCheck: false,
  acceptsDomain: (d) => d === "example.org" || d.endsWith(".example.org"),
  isMyIP: (ip) => ip.length === 4 && ip[0] === 192 && ip[1] === 0 && ip[2] === 2 && ip[3] === 1,
  badMailFrom: (a) => a.toLowerCase().endsWith("@spam.test"),
  submission: false,
  senderLogin: () => true,
};

/** The lines on a new session; unless `fresh`, one that has said HELO already (MAIL needs it). */
function run(lines: readonly string[], opts: { relay?: string | null; tls?: boolean; policy?: Policy; fresh?: boolean } = {}): { codes: string[]; s: Session; last: Step } {
  const start = startSession(opts.relay ?? null, opts.tls ?? false);
  let s: Session = opts.fresh ? start : { ...start, helo: "client.test" };
  let last: Step = { session: s, replies: [] };
  const codes = lines.map((line) => {
    last = step(s, line, opts.policy ?? POLICY);
    s = last.session;
    return (last.replies[last.replies.length - 1] ?? "").slice(0, 3);
  });
  return { codes, s, last };
}
const rcptCode = (addr: string, opts: { relay?: string | null } = {}): string => run(["HELO c", "MAIL FROM:<s@x.test>", `RCPT TO:${addr}`], opts).codes[2] ?? "";

describe("step()", () => {
  it("runs a whole transaction", () => {
    const r = run(["EHLO client.test", "MAIL FROM:<a@x.test> BODY=8BITMIME SIZE=100", "RCPT TO:<u@example.org>", "DATA"]);
    assert.deepEqual(r.codes, ["250", "250", "250", "354"]);
    assert.equal(r.last.effect?.kind, "data");
    assert.deepEqual(r.s.recipients, ["u@example.org"]);
  });
  it("answers EHLO with the extensions, STARTTLS before TLS and AUTH only after", () => {
    const plain = run(["EHLO c"]).last.replies;
    assert.ok(plain.includes("250 STARTTLS") && !plain.some((l) => l.includes("AUTH")));
    assert.ok(plain.includes("250-SIZE 1000") && plain.includes("250-PIPELINING") && plain.includes("250-ENHANCEDSTATUSCODES"));
    const tls = run(["EHLO c"], { tls: true }).last.replies;
    assert.ok(tls.includes("250 AUTH PLAIN LOGIN") && !tls.includes("250-STARTTLS"));
  });
  it("keeps order: RCPT before MAIL and DATA before RCPT are 503", () => {
    assert.deepEqual(run(["RCPT TO:<u@example.org>", "DATA", "MAIL FROM:<>", "DATA"]).codes, ["503", "503", "250", "503"]);
  });
  it("refuses a second MAIL in a transaction and forgets it after RSET", () => {
    assert.deepEqual(run(["MAIL FROM:<a@x.test>", "MAIL FROM:<b@x.test>", "RSET", "MAIL FROM:<b@x.test>"]).codes, ["250", "503", "250", "250"]);
  });
  it("answers 502 to verbs that name Object.prototype members, then drops a client after too many", () => {
    assert.deepEqual(run(["constructor", "__proto__ x", "toString", "hasOwnProperty"]).codes, ["502", "502", "502", "502"]);
    const r = run(Array<string>(20).fill("GARBAGE"));
    assert.equal(r.codes[19], "421");
    assert.equal(r.last.effect?.kind, "quit");
  });
  it("rejects NUL in a command, empty HELO, and unknown MAIL/RCPT parameters", () => {
    assert.deepEqual(run(["HELO a\0b", "HELO", "MAIL FROM:<a@x.test> MT-PRIORITY=3", "MAIL FROM:<a@x.test>", "RCPT TO:<u@example.org> XFOO=1"]).codes, ["500", "501", "555", "250", "555"]);
  });
  it("refuses a SIZE over databytes at MAIL time with 552", () => {
    assert.deepEqual(run(["MAIL FROM:<a@x.test> SIZE=1001"]).codes, ["552"]);
    assert.deepEqual(run(["MAIL FROM:<a@x.test> SIZE=ten"]).codes, ["501"]);
  });
  it("reports a badmailfrom sender on every RCPT", () => {
    assert.deepEqual(run(["MAIL FROM:<x@SPAM.test>", "RCPT TO:<u@example.org>", "RCPT TO:<v@example.org>"]).codes, ["250", "553", "553"]);
  });
  it("refuses MAIL with 452 4.3.1 while the queue's disk has too little room (control/queuefree)", () => {
    const full = run(["EHLO c", "MAIL FROM:<a@x.test>"], { policy: { ...POLICY, queueHasRoom: () => false } });
    assert.match(full.last.replies[0]!, /^452 4\.3\.1 insufficient system storage/);
    assert.equal(full.s.sender, null);
    assert.deepEqual(run(["EHLO c", "MAIL FROM:<a@x.test>"], { policy: { ...POLICY, queueHasRoom: () => true } }).codes, ["250", "250"]);
  });
  it("wants HELO or EHLO before MAIL (503 5.5.1)", () => {
    const r = run(["MAIL FROM:<a@x.test>", "HELO c", "MAIL FROM:<a@x.test>"], { fresh: true });
    assert.deepEqual(r.codes, ["503", "250", "250"]);
  });
  it("ends the session with 421 after MAX_JUNK NOOP/RSET/VRFY/HELP", () => {
    const lines = Array.from({ length: MAX_JUNK + 1 }, (_, i) => ["NOOP", "RSET", "VRFY x", "HELP"][i % 4]!);
    const r = run(lines);
    assert.deepEqual(new Set(r.codes.slice(0, MAX_JUNK)).has("421"), false);
    assert.match(r.last.replies[0]!, /^421 4\.7\.0 too many NOOP, RSET, VRFY or HELP commands/);
    assert.equal(r.last.effect?.kind, "quit");
  });
  it("ends the session with 421 at MAX_REFUSED refused recipients (probing), counting relay refusals and unknown users", () => {
    const lines = ["MAIL FROM:<a@x.test>", ...Array.from({ length: MAX_REFUSED }, (_, i) => `RCPT TO:<v${i}@elsewhere.test>`)];
    const r = run(lines);
    assert.deepEqual(r.codes.slice(1, MAX_REFUSED), Array(MAX_REFUSED - 1).fill("553"));
    assert.deepEqual(r.last.replies.map((l) => l.slice(0, 3)), ["553", "421"]);
    assert.equal(r.last.effect?.kind, "quit");
    const policy = { ...POLICY, rcptCheck: true };
    let s = run(["MAIL FROM:<a@x.test>"], { policy }).s;
    s = { ...s, refused: MAX_REFUSED - 1 };
    const unknown = rcptChecked(s, "nobody@example.org", "unknown");
    assert.deepEqual(unknown.replies.map((l) => l.slice(0, 3)), ["550", "421"]);
  });
  it("ends the session with 421 after MAX_TRANSACTIONS messages", () => {
    let s = run(["MAIL FROM:<a@x.test>"]).s;
    assert.equal(s.transactions, 1);
    s = { ...s, sender: null, transactions: MAX_TRANSACTIONS };
    const r = step(s, "MAIL FROM:<a@x.test>", POLICY);
    assert.match(r.replies[0]!, /^421 4\.7\.0 too many messages in one session/);
    assert.equal(r.effect?.kind, "quit");
  });
  it("limits recipients per message with 452", () => {
    const lines = ["MAIL FROM:<>", ...["a", "b", "c", "d"].map((u) => `RCPT TO:<${u}@example.org>`)];
    assert.deepEqual(run(lines).codes, ["250", "250", "250", "250", "452"]);
  });
  it("takes a recipient once: a repeat (the domain in any case) gets 250 and adds nothing, even past the limit", () => {
    const lines = ["MAIL FROM:<>", "RCPT TO:<a@example.org>", ...Array.from({ length: 1000 }, (_, i) => `RCPT TO:<a@${i % 2 ? "EXAMPLE.org" : "example.org"}>`), "RCPT TO:<A@example.org>"];
    const r = run(lines);
    assert.deepEqual(new Set(r.codes), new Set(["250"]));
    assert.deepEqual(r.s.recipients, ["a@example.org", "A@example.org"], "the local part's case counts");
    assert.match(run(lines.slice(0, 3)).last.replies[0]!, /^250 2\.1\.5 ok \(already a recipient: one copy\)$/);
    const policy = { ...POLICY, rcptCheck: true };
    const checked = run(["MAIL FROM:<>", "RCPT TO:<u@example.org>"], { policy });
    const after = rcptChecked(checked.s, "u@example.org", "ok").session;
    const again = step(after, "RCPT TO:<u@Example.ORG>", policy);
    assert.equal(again.effect, undefined, "no second lookup for a repeat");
    assert.deepEqual(again.session.recipients, ["u@example.org"]);
  });
  it("asks for a recipient check when the policy says so, and applies its verdict", () => {
    const policy = { ...POLICY, rcptCheck: true };
    const r = run(["MAIL FROM:<>", "RCPT TO:<nobody@example.org>"], { policy });
    assert.deepEqual(r.last.effect, { kind: "rcpt", addr: "nobody@example.org" });
    assert.equal(rcptChecked(r.s, "nobody@example.org", "unknown").replies[0]?.slice(0, 3), "550");
    assert.equal(rcptChecked(r.s, "nobody@example.org", "temp").replies[0]?.slice(0, 3), "451");
    assert.equal(rcptChecked(r.s, "nobody@example.org", "full").replies[0], "552 5.2.2 sorry, that mailbox is full");
    assert.equal(rcptChecked(r.s, "nobody@example.org", "full-temp").replies[0]?.slice(0, 9), "452 4.2.2");
    assert.deepEqual(rcptChecked(r.s, "nobody@example.org", "full").session.recipients, []);
    assert.deepEqual(rcptChecked(r.s, "nobody@example.org", "ok").session.recipients, ["nobody@example.org"]);
  });
  it("replaces my own IP literal by localiphost", () => {
    const r = run(["MAIL FROM:<>", "RCPT TO:<u@[192.0.2.1]>"]);
    assert.deepEqual(r.s.recipients, ["u@example.org"]);
  });
  it("appends RELAYCLIENT to every recipient and skips rcpthosts", () => {
    const r = run(["MAIL FROM:<>", "RCPT TO:<u@elsewhere.test>"], { relay: "" });
    assert.deepEqual(r.s.recipients, ["u@elsewhere.test"]);
    assert.deepEqual(run(["MAIL FROM:<>", "RCPT TO:<u@elsewhere.test>"], { relay: "-x" }).s.recipients, ["u@elsewhere.test-x"]);
  });
  it("accepts UTF-8 addresses only with SMTPUTF8", () => {
    const utf8 = "\xc3\xa9l\xc3\xa8ve@example.org";
    assert.deepEqual(run([`MAIL FROM:<${utf8}>`]).codes, ["553"]);
    assert.deepEqual(run([`MAIL FROM:<${utf8}> SMTPUTF8`, `RCPT TO:<${utf8}>`]).codes, ["250", "250"]);
  });
});

describe("relay attempts", () => {
  // Each form a relay tester tries (issue 5 item 4): none may be accepted from a client without relay rights.
  const ATTEMPTS = [
    ["plain foreign domain", "<victim@elsewhere.test>"],
    ["percent hack", "<victim%elsewhere.test@example.org>"],
    ["bang path", "<elsewhere.test!victim@example.org>"],
    ["source route", "<@example.org:victim@elsewhere.test>"],
    ["source route list", "<@example.org,@mx.example.org:victim@elsewhere.test>"],
    ["quoted local part holding @", '<"victim@elsewhere.test"@example.org>'],
    ["escaped @ in local part", "<victim\\@elsewhere.test@example.org>"],
    ["double @", "<victim@elsewhere.test@example.org>"],
    ["foreign IP literal", "<victim@[198.51.100.7]>"],
    ["IPv6 literal", "<victim@[IPv6:2001:db8::7]>"],
    ["trailing dot on a local domain", "<victim@example.org.>"],
    ["trailing dot on a foreign domain", "<victim@elsewhere.test.>"],
    ["mixed case foreign domain", "<victim@ElseWhere.TEST>"],
    ["suffix that only looks local", "<victim@evilexample.org>"],
    ["local domain as a prefix", "<victim@example.org.elsewhere.test>"],
    ["no domain", "<victim>"],
    ["bare address, no brackets", "victim@elsewhere.test"],
    ["empty recipient", "<>"],
    ["percent hack without @", "<victim%elsewhere.test>"],
  ] as const;
  for (const [name, addr] of ATTEMPTS) {
    it(`refuses ${name}: ${addr}`, () => {
      assert.match(rcptCode(addr), /^5/);
    });
  }
  it("accepts the honest local forms, in any case", () => {
    for (const a of ["<u@example.org>", "<u@EXAMPLE.org>", "<u@sub.example.org>", "<postmaster>", "<u@[192.0.2.1]>", "u@example.org"]) assert.equal(rcptCode(a), "250", a);
  });
  it("lets a RELAYCLIENT or an authenticated client relay", () => {
    assert.equal(rcptCode("<victim@elsewhere.test>", { relay: "" }), "250");
    let s = tlsStarted(startSession(null));
    s = step(s, "EHLO c", POLICY).session;
    s = authChecked(s, "joe", "ok").session;
    const r = step(step(s, "MAIL FROM:<joe@example.org>", POLICY).session, "RCPT TO:<victim@elsewhere.test>", POLICY);
    assert.equal(r.replies[0]?.slice(0, 3), "250");
  });
});

describe("AUTH", () => {
  const b64 = (s: string) => Buffer.from(s, "latin1").toString("base64");
  it("is refused without TLS (538) and offered under TLS", () => {
    assert.deepEqual(run(["EHLO c", `AUTH PLAIN ${b64("\0joe\0pw")}`]).codes, ["250", "538"]);
    const r = run(["EHLO c", `AUTH PLAIN ${b64("\0joe\0pw")}`], { tls: true });
    assert.deepEqual(r.last.effect, { kind: "auth", mech: "PLAIN", user: "joe", pass: "pw" });
  });
  it("walks LOGIN through its two challenges", () => {
    const r = run(["EHLO c", "AUTH LOGIN", b64("joe"), b64("secret")], { tls: true });
    assert.deepEqual(r.codes.slice(0, 3), ["250", "334", "334"]);
    assert.deepEqual(r.last.effect, { kind: "auth", mech: "LOGIN", user: "joe", pass: "secret" });
  });
  it("takes PLAIN's response on the next line, and '*' cancels", () => {
    assert.deepEqual(run(["AUTH PLAIN", b64("\0joe\0pw")], { tls: true }).last.effect, { kind: "auth", mech: "PLAIN", user: "joe", pass: "pw" });
    assert.deepEqual(run(["AUTH PLAIN", "*", "NOOP"], { tls: true }).codes, ["334", "501", "250"]);
  });
  it("refuses hostile SASL input with a reply naming it", () => {
    const CASES = [["AUTH CRAM-MD5", "504"], ["AUTH PLAIN !!!!", "501"], [`AUTH PLAIN ${b64("joe")}`, "501"], [`AUTH PLAIN ${b64("admin\0joe\0pw")}`, "535"], ["AUTH PLAIN a b c", "501"], ["AUTH constructor", "504"]] as const;
    for (const [line, code] of CASES) assert.equal(run([line], { tls: true }).codes[0], code, line);
  });
  it("maps the password verdict to 235, 535 and 454", () => {
    const s = tlsStarted(startSession(null));
    assert.deepEqual(["ok", "no", "temp"].map((v) => authChecked(s, "joe", v as "ok").replies[0]?.slice(0, 3)), ["235", "535", "454"]);
  });
});

describe("STARTTLS", () => {
  it("asks for the handshake, then forgets the session", () => {
    const r = run(["EHLO c", "STARTTLS"]);
    assert.equal(r.last.effect?.kind, "starttls");
    const after = tlsStarted(r.s);
    assert.equal(after.sender, null);
    assert.equal(after.helo, null);
    assert.equal(after.tls, true);
    const mail = step(after, "MAIL FROM:<a@x.test>", POLICY);
    assert.deepEqual(mail.replies, ["503 5.5.1 send HELO or EHLO first (again, after STARTTLS)"]);
    assert.deepEqual(step(step(after, "EHLO c", POLICY).session, "MAIL FROM:<a@x.test>", POLICY).replies, ["250 2.1.0 ok"]);
    assert.deepEqual(run(["STARTTLS"], { tls: true }).codes, ["503"]);
  });
  it("is refused inside a mail transaction (503), and taken after RSET", () => {
    const r = run(["EHLO c", "MAIL FROM:<a@x.test>", "STARTTLS", "RSET", "STARTTLS"]);
    assert.deepEqual(r.codes, ["250", "250", "503", "250", "220"]);
    assert.equal(r.last.effect?.kind, "starttls");
  });
  it("is unknown when there is no certificate", () => {
    assert.deepEqual(run(["STARTTLS"], { policy: { ...POLICY, tls: false } }).codes, ["502"]);
  });
});

describe("the submission policy (RFC 6409)", () => {
  const SUB: Policy = { ...POLICY, submission: true };
  const b64 = (s: string) => Buffer.from(s, "latin1").toString("base64");
  it("takes no MAIL before AUTH: 530, asking for STARTTLS first when there is no TLS", () => {
    const plain = run(["EHLO c", "MAIL FROM:<a@example.org>", "RCPT TO:<u@example.org>"], { policy: SUB });
    assert.deepEqual(plain.codes, ["250", "530", "503"]);
    assert.match(plain.last.session.sender ?? "none", /^none$/);
    assert.equal(run(["EHLO c", "MAIL FROM:<a@example.org>"], { policy: SUB }).s.sender, null);
    const tls = run(["EHLO c", "MAIL FROM:<a@example.org>"], { policy: SUB, tls: true });
    assert.deepEqual(tls.codes, ["250", "530"]);
    assert.equal(step({ ...startSession(null), helo: "c" }, "MAIL FROM:<a@x>", SUB).replies[0], "530 5.7.0 must issue a STARTTLS command first");
    assert.equal(step({ ...startSession(null, true), helo: "c" }, "MAIL FROM:<a@x>", SUB).replies[0], "530 5.7.0 authentication required");
  });
  it("reads no password before STARTTLS: AUTH gets 538 with no exchange and no check", () => {
    const r = run(["EHLO c", `AUTH PLAIN ${b64("\0joe\0pw")}`, "AUTH LOGIN"], { policy: SUB });
    assert.deepEqual(r.codes, ["250", "538", "538"]);
    assert.equal(r.s.sasl, null);
    assert.equal(r.last.effect, undefined);
  });
  it("relays anywhere once authenticated", () => {
    let s = authChecked({ ...tlsStarted(startSession(null)), helo: "c" }, "joe", "ok").session;
    s = step(s, "MAIL FROM:<joe@example.org>", SUB).session;
    const r = step(s, "RCPT TO:<someone@elsewhere.test>", SUB);
    assert.equal(r.replies[0], "250 2.1.5 ok");
  });
  it("is left alone on port 25's policy: MAIL without AUTH", () => {
    assert.deepEqual(run(["EHLO c", "MAIL FROM:<a@x.test>"]).codes, ["250", "250"]);
  });
});

describe("control/senderlogins", () => {
  const own = (user: string, sender: string) => user === "joe" && (sender === "joe@example.org" || sender.endsWith("@joe.test"));
  const P: Policy = { ...POLICY, senderLogin: own };
  const as = (user: string, from: string) => step(authChecked({ ...tlsStarted(startSession(null)), helo: "c" }, user, "ok").session, `MAIL FROM:${from}`, P).replies[0];
  it("lets an authenticated user use its senders and refuses others with 553 5.7.1", () => {
    assert.equal(as("joe", "<joe@example.org>"), "250 2.1.0 ok");
    assert.equal(as("joe", "<any@joe.test>"), "250 2.1.0 ok");
    assert.match(as("joe", "<ceo@example.org>") ?? "", /^553 5\.7\.1 /);
    assert.match(as("ann", "<joe@example.org>") ?? "", /^553 5\.7\.1 /);
  });
  it("does not touch a client that has not authenticated", () => {
    assert.deepEqual(run(["EHLO c", "MAIL FROM:<ceo@example.org>"], { policy: P }).codes, ["250", "250"]);
  });
});

describe("failed AUTHs", () => {
  const b64 = (s: string) => Buffer.from(s, "latin1").toString("base64");
  it("end the session at the tenth, whatever failed: 421 after the failure's reply", () => {
    let s = tlsStarted(startSession(null));
    for (let i = 1; i < MAX_AUTH_FAILURES; i++) {
      const r = i % 3 === 0 ? step(s, "AUTH PLAIN !!!", POLICY) : i % 3 === 1 ? authChecked(s, "joe", "no") : step(step(s, "AUTH LOGIN", POLICY).session, "*", POLICY);
      assert.equal(r.effect, undefined, `ended at failure ${i}`);
      assert.equal(r.replies.length, 1);
      s = r.session;
    }
    const last = authChecked(s, "joe", "no");
    assert.deepEqual(last.replies, ["535 5.7.8 authentication failed", "421 4.7.0 too many failed authentication attempts, closing"]);
    assert.equal(last.effect?.kind, "quit");
  });
  it("count before and after STARTTLS alike, and a base64 error is 501", () => {
    let s = startSession(null);
    for (let i = 0; i < 5; i++) s = step(s, `AUTH PLAIN ${b64("\0joe\0pw")}`, POLICY).session;
    s = tlsStarted(s);
    assert.equal(s.authFailures, 5);
    const r = step(s, "AUTH PLAIN ====", POLICY);
    assert.match(r.replies[0] ?? "", /^501 5\.5\.2 cannot decode/);
    assert.equal(r.session.authFailures, 6);
  });
  it("a success does not count", () => {
    const s = authChecked(tlsStarted(startSession(null)), "joe", "ok").session;
    assert.equal(s.authFailures, 0);
  });
});

describe("DSN (RFC 3461)", () => {
  it("advertises DSN in EHLO", () => {
    assert.ok(run(["EHLO c"]).last.replies.some((l) => /^250[ -]DSN$/.test(l)));
  });
  it("takes RET and ENVID at MAIL, NOTIFY and ORCPT at RCPT, into the envelope", () => {
    const r = run(["EHLO c", "MAIL FROM:<a@x.test> RET=HDRS ENVID=abc+2Bd", "RCPT TO:<b@example.org> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;B+40example.org", "RCPT TO:<c@example.org>", "DATA"]);
    assert.deepEqual(r.codes, ["250", "250", "250", "250", "354"]);
    assert.deepEqual(sessionEnvelope(r.s), { sender: "a@x.test", recipients: ["b@example.org", "c@example.org"], dsn: { ret: "HDRS", envid: "abc+d", rcpts: new Map([["b@example.org", { notify: ["SUCCESS", "DELAY"], orcpt: "rfc822;B@example.org" }]]) } });
  });
  it("keeps nothing when nothing was asked, and forgets it all at RSET", () => {
    assert.deepEqual(sessionEnvelope(run(["MAIL FROM:<a@x.test>", "RCPT TO:<b@example.org>"]).s), { sender: "a@x.test", recipients: ["b@example.org"] });
    const r = run(["MAIL FROM:<a@x.test> RET=FULL", "RCPT TO:<b@example.org> NOTIFY=NEVER", "RSET", "MAIL FROM:<a@x.test>", "RCPT TO:<b@example.org>"]);
    assert.deepEqual(sessionEnvelope(r.s), { sender: "a@x.test", recipients: ["b@example.org"] });
  });
  it("keeps a recipient's NOTIFY across the recipient check (rcptChecked)", () => {
    const r = run(["MAIL FROM:<a@x.test>", "RCPT TO:<b@example.org> NOTIFY=NEVER"], { policy: { ...POLICY, rcptCheck: true } });
    assert.equal(r.last.effect?.kind, "rcpt");
    const s = rcptChecked(r.s, "b@example.org", "ok").session;
    assert.deepEqual(sessionEnvelope(s).dsn?.rcpts.get("b@example.org"), { notify: "NEVER" });
  });
  const BAD: [string, string, RegExp][] = [
    ["MAIL FROM:<a@x.test> RET=BODY", "501", /RET must be FULL or HDRS/],
    ["MAIL FROM:<a@x.test> RET", "501", /RET must be/],
    ["MAIL FROM:<a@x.test> ENVID=a+zz", "501", /ENVID is not valid xtext/],
    ["MAIL FROM:<a@x.test> ENVID=a+2", "501", /xtext/],
    [`MAIL FROM:<a@x.test> ENVID=${"e".repeat(101)}`, "501", /ENVID longer than 100/],
    ["MAIL FROM:<a@x.test> ENVID", "501", /ENVID needs a value/],
    ["MAIL FROM:<a@x.test> RET=FULL RET=HDRS", "501", /duplicate parameter RET/],
    ["MAIL FROM:<a@x.test> ENVID=a envid=b", "501", /duplicate parameter ENVID/],
  ];
  for (const [line, code, why] of BAD) {
    it(`refuses ${JSON.stringify(line.slice(0, 60))} with ${code}`, () => {
      const r = run([line]);
      assert.equal(r.codes[0], code);
      assert.match(r.last.replies[0]!, why);
      assert.equal(r.s.sender, null);
    });
  }
  it(`takes an ENVID of exactly 100 characters`, () => assert.deepEqual(run([`MAIL FROM:<a@x.test> ENVID=${"e".repeat(100)}`]).codes, ["250"]));
  const BAD_RCPT: [string, string, RegExp][] = [
    ["NOTIFY=NEVER,SUCCESS", "501", /NOTIFY must be/],
    ["NOTIFY=SOMETIMES", "501", /NOTIFY must be/],
    ["NOTIFY", "501", /NOTIFY must be/],
    ["NOTIFY=SUCCESS,SUCCESS", "501", /NOTIFY must be/],
    ["NOTIFY=SUCCESS NOTIFY=FAILURE", "501", /duplicate parameter NOTIFY/],
    ["ORCPT=joe@x", "501", /addr-type;xtext/],
    ["ORCPT=;joe@x", "501", /addr-type;xtext/],
    ["ORCPT=rfc822;", "501", /not valid xtext/],
    ["ORCPT=rfc822;a+g0", "501", /not valid xtext/],
    [`ORCPT=rfc822;${"o".repeat(494)}`, "555", /malformed parameter/], // any parameter value is at most 500 characters
  ];
  for (const [params, code, why] of BAD_RCPT) {
    it(`refuses RCPT ... ${JSON.stringify(params.slice(0, 40))} with ${code}, and keeps no recipient`, () => {
      const r = run(["MAIL FROM:<a@x.test>", `RCPT TO:<b@example.org> ${params}`]);
      assert.equal(r.codes[1], code);
      assert.match(r.last.replies[0]!, why);
      assert.deepEqual(r.s.recipients, []);
    });
  }
});
