import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeRequest, MAX_ANSWER, parseAnswer, policyRequest, readAction } from "../../../core/lib/smtpd/policyd.ts";
import { DEFAULT_FILTER_TIMEOUT, failureReply, MAX_FILTERS, parseFilterLine, parseFilterLines } from "../../../core/lib/smtpd/filter-line.ts";

describe("encodeRequest() and policyRequest()", () => {
  it("writes name=value lines and an empty line; a line end or NUL in a value cannot start a new attribute", () => {
    assert.equal(encodeRequest([["a", "1"], ["b", "x\ny=2\r\0"]]), "a=1\nb=x?y=2??\n\n");
  });
  it("says what Postfix's SMTPD_POLICY_README names", () => {
    const attrs = new Map(policyRequest({ state: "RCPT", esmtp: true, helo: "h", sender: "a@x", recipient: "b@y", recipientCount: 0, clientAddress: "192.0.2.9", clientName: "unknown", instance: "1.1.1", saslUser: "", size: 0, tls: null, serverAddress: "192.0.2.1", serverPort: 25 }));
    assert.equal(attrs.get("request"), "smtpd_access_policy");
    assert.equal(attrs.get("protocol_state"), "RCPT");
    assert.equal(attrs.get("protocol_name"), "ESMTP");
    assert.equal(attrs.get("recipient"), "b@y");
    assert.equal(attrs.get("client_address"), "192.0.2.9");
  });
});

describe("parseAnswer()", () => {
  it("waits for the empty line, then reads the attributes", () => {
    assert.equal(parseAnswer("action=DUNNO\n"), "more");
    assert.deepEqual(parseAnswer("action=DUNNO\n\n"), new Map([["action", "DUNNO"]]));
    assert.deepEqual(parseAnswer("Action=REJECT no=way\r\n\n"), new Map([["action", "REJECT no=way"]]));
  });
  it("refuses a line without = and an answer over MAX_ANSWER, with or without its end", () => {
    assert.ok(typeof parseAnswer("garbage\n\n") === "object" && "error" in (parseAnswer("garbage\n\n") as object));
    assert.ok("error" in (parseAnswer("=x\n\n") as object));
    assert.equal(parseAnswer(`action=${"x".repeat(MAX_ANSWER - 7)}`), "more", "at the limit it still waits");
    assert.ok("error" in (parseAnswer(`action=${"x".repeat(MAX_ANSWER)}`) as object));
    assert.ok("error" in (parseAnswer(`action=${"x".repeat(MAX_ANSWER)}\n\n`) as object));
  });
});

describe("readAction()", () => {
  const cases: [string, unknown][] = [
    ["OK", { kind: "ok" }],
    ["dunno", { kind: "dunno" }],
    ["REJECT", { kind: "refuse", reply: "554 5.7.1 access denied" }],
    ["REJECT go away", { kind: "refuse", reply: "554 5.7.1 go away" }],
    ["DEFER_IF_PERMIT Greylisted, see x", { kind: "refuse", reply: "450 4.7.1 Greylisted, see x" }],
    ["DEFER_IF_PERMIT 4.2.0 Greylisted", { kind: "refuse", reply: "450 4.2.0 Greylisted" }],
    ["DEFER 5.7.1 mixed", { kind: "refuse", reply: "450 4.7.1 mixed" }],
    ["DEFER_IF_REJECT x", { kind: "dunno" }],
    ["451 4.7.1 Please try later", { kind: "refuse", reply: "451 4.7.1 Please try later" }],
    ["550 no such user", { kind: "refuse", reply: "550 5.7.1 no such user" }],
    ["521", { kind: "refuse", reply: "521 5.7.1 access denied" }],
    ["DISCARD spam", { kind: "discard" }],
    ["HOLD look at it", { kind: "hold", reason: "look at it" }],
    ["PREPEND X-Greylist: delayed 1 seconds", { kind: "prepend", field: "X-Greylist: delayed 1 seconds" }],
    ["WARN odd", { kind: "log", text: "odd" }],
    ["INFO fyi", { kind: "log", text: "fyi" }],
  ];
  for (const [action, want] of cases) it(`obeys ${JSON.stringify(action)}`, () => assert.deepEqual(readAction(action), want));
  it("does not carry out REDIRECT, FILTER, BCC, a bad PREPEND, 250 or garbage (the server's default action applies)", () => {
    for (const a of ["REDIRECT x@y", "FILTER smtp:x", "BCC x@y", "PREPEND no colon", "250 ok", "", "constructor", "__proto__", "\x00\xff"]) assert.equal(typeof readAction(a), "string", a);
  });
  it("makes the reply text printable and bounded", () => {
    const v = readAction(`REJECT \x1b${"x".repeat(2000)}`);
    assert.ok(typeof v === "object" && v.kind === "refuse" && v.reply.length < 600 && !v.reply.includes("\x1b"));
  });
});

describe("parseFilterLine()", () => {
  it("reads host:port, [v6]:port and unix:/path, each with an optional timeout and default action", () => {
    assert.deepEqual(parseFilterLine("127.0.0.1:10023", true), { kind: "ok", value: { name: "127.0.0.1:10023", endpoint: { kind: "inet", host: "127.0.0.1", port: 10023 }, timeoutMs: DEFAULT_FILTER_TIMEOUT * 1000, onFailure: "tempfail", states: ["rcpt"] } });
    const v6 = parseFilterLine("[::1]:8891:5:accept", false);
    assert.ok(v6.kind === "ok" && v6.value.endpoint.kind === "inet" && v6.value.endpoint.host === "::1" && v6.value.timeoutMs === 5000 && v6.value.onFailure === "accept" && v6.value.name === "[::1]:8891");
    const u = parseFilterLine("unix:/run/a:b/sock:10:reject", false);
    assert.ok(u.kind === "ok" && u.value.endpoint.kind === "unix" && u.value.endpoint.path === "/run/a:b/sock" && u.value.onFailure === "reject");
    const s = parseFilterLine("unix:/run/pg.sock:3:tempfail:rcpt,eom", true);
    assert.ok(s.kind === "ok" && s.value.states.join() === "rcpt,eom");
    const t = parseFilterLine("localhost:25:0", false);
    assert.ok(t.kind === "ok" && t.value.timeoutMs === 1000, "a timeout of 0 is one second");
  });
  it("refuses what is not an endpoint or a known option", () => {
    for (const bad of ["", "host", "host:0", "host:65536", "unix:relative", "1.2.3.4:25:x", "1.2.3.4:25:5:drop", "1.2.3.4:25:5:accept:eom", "unix:/a:5:accept:data"]) assert.equal(parseFilterLine(bad, bad.endsWith("data")).kind, "temp", bad);
    assert.equal(parseFilterLine("1.2.3.4:25:5:accept:eom", true).kind, "ok");
  });
  it("takes at most MAX_FILTERS lines and names the file of a bad one", () => {
    assert.equal(parseFilterLines("milters", Array.from({ length: MAX_FILTERS }, () => "unix:/s"), false).kind, "ok");
    assert.equal(parseFilterLines("milters", Array.from({ length: MAX_FILTERS + 1 }, () => "unix:/s"), false).kind, "temp");
    const r = parseFilterLines("policyservers", ["unix:/s", "oops"], true);
    assert.ok(r.kind === "temp" && r.reason.startsWith("control/policyservers: "));
  });
  it("gives each default action its reply", () => {
    assert.equal(failureReply("accept", "x"), null);
    assert.match(failureReply("tempfail", "the milter m") ?? "", /^451 4\.7\.1 /);
    assert.match(failureReply("reject", "the milter m") ?? "", /^554 5\.7\.1 /);
  });
});
