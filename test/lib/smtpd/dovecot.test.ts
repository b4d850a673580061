import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { authReply, authRequest, escapeValue, hello, unescapeValue } from "../../../core/lib/smtpd/dovecot.ts";
import { byteString, params } from "../../support/fuzz.ts";
import { shake } from "../../support/dovecot-handshake.ts";

const HANDSHAKE = ["VERSION\t1\t2", "MECH\tPLAIN\tplaintext", "MECH\tLOGIN\tplaintext", "SPID\t1234", "CUID\t7", "COOKIE\t0123abcd", "DONE"];


describe("Dovecot's auth protocol (client side)", () => {
  it("says VERSION and CPID first", () => {
    assert.equal(hello(42), "VERSION\t1\t1\nCPID\t42\n");
  });
  it("follows the server's handshake to DONE", () => {
    assert.deepEqual(shake(HANDSHAKE), { version: true, plain: true, done: true });
  });
  it("refuses another major version, a missing VERSION and a server without PLAIN", () => {
    assert.match((shake(["VERSION\t2\t0"]) as { error: string }).error, /version 2, not 1/);
    assert.match((shake(["MECH\tPLAIN", "DONE"]) as { error: string }).error, /did not start with VERSION/);
    assert.match((shake(["VERSION\t1\t2", "MECH\tCRAM-MD5", "DONE"]) as { error: string }).error, /does not offer PLAIN/);
  });
  it("asks with PLAIN's whole response, the client's addresses and the TLS flag", () => {
    const req = authRequest(1, "joe", "p\tw\0", { service: "smtp", localIP: "127.0.0.1", remoteIP: "::1", secured: true });
    const f = req.trimEnd().split("\t");
    assert.deepEqual(f.slice(0, 8), ["AUTH", "1", "PLAIN", "service=smtp", "nologin", "lip=127.0.0.1", "rip=::1", "secured"]);
    assert.equal(Buffer.from(f[8]!.replace(/^resp=/, ""), "base64").toString("latin1"), "\0joe\0p\tw\0");
    assert.ok(req.endsWith("\n") && req.split("\n").length === 2, "one line");
    const noIP = authRequest(2, "a", "b", { service: "smtp", localIP: "unknown", remoteIP: "1.2.3.4\tx", secured: false });
    assert.doesNotMatch(noIP, /lip=|rip=|secured/);
  });
  it("reads OK, FAIL, FAIL temp and CONT for its own request only", () => {
    assert.deepEqual(authReply(1, "OK\t1\tuser=joe@example.org"), { kind: "ok", user: "joe@example.org" });
    assert.deepEqual(authReply(1, "OK\t1"), { kind: "ok", user: null });
    assert.deepEqual(authReply(1, "OK\t1\tuser=bad\x01nname"), { kind: "ok", user: null });
    assert.deepEqual(authReply(1, "FAIL\t1\tuser=joe"), { kind: "no", reason: null });
    assert.deepEqual(authReply(1, "FAIL\t1\treason=Password mismatch"), { kind: "no", reason: "Password mismatch" });
    assert.equal(authReply(1, "FAIL\t1\ttemp\treason=db down")?.kind, "temp");
    assert.equal(authReply(1, "CONT\t1\tAAAA")?.kind, "temp");
    assert.equal(authReply(1, "OK\t2\tuser=joe"), null);
    assert.equal(authReply(1, "OK"), null);
    assert.equal(authReply(1, "NOTICE\t1"), null);
  });
  it("escapes and unescapes values", () => {
    assert.equal(escapeValue("a\tb\nc\rd\x01e"), "a\x01tb\x01nc\x01rd\x011e");
    fc.assert(fc.property(byteString(200), (s) => assert.equal(unescapeValue(escapeValue(s)), s)), params(500));
  });
});
