import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseRouteValue } from "../../../core/lib/remote/mx.ts";
import {
  chooseMechanism, CREDENTIAL_MAX, findCredentials, implicitTls, loginResponses, parseAuthLine, parseSmtpAuth, plainResponse,
} from "../../../core/lib/remote/smtp-auth.ts";

const route = (v: string) => parseRouteValue(v);

describe("parseAuthLine()", () => {
  it("reads HOST:USER:PASSWORD with the host as smtproutes writes it", () => {
    assert.deepEqual(parseAuthLine("relay.example:alice:secret"), { relay: "relay.example", port: 25, user: "alice", password: "secret" });
    assert.deepEqual(parseAuthLine("Relay.Example:587:alice:secret"), { relay: "relay.example", port: 587, user: "alice", password: "secret" });
    assert.deepEqual(parseAuthLine("[relay.example]:alice:secret"), { relay: "[relay.example]", port: 25, user: "alice", password: "secret" });
    assert.deepEqual(parseAuthLine("[192.0.2.1]:465:a@b.example:s"), { relay: "[192.0.2.1]", port: 465, user: "a@b.example", password: "s" });
    assert.deepEqual(parseAuthLine("[IPv6:::1]:2525:u:p"), { relay: "[ipv6:::1]", port: 2525, user: "u", password: "p" });
  });
  it("keeps every ':' and space after the user name in the password", () => {
    assert.equal((parseAuthLine("relay.example:587:alice:a:b: c ") as { password: string }).password, "a:b: c ");
    assert.equal((parseAuthLine("[relay.example]:alice:a:b") as { password: string }).password, "a:b");
  });
  it("reads an all-digit field as the port only when two fields follow it", () => {
    assert.deepEqual(parseAuthLine("relay.example:1234:pw"), { relay: "relay.example", port: 25, user: "1234", password: "pw" });
    assert.deepEqual(parseAuthLine("relay.example:25:1234:p:w"), { relay: "relay.example", port: 25, user: "1234", password: "p:w" });
  });
  it("refuses malformed lines with a reason that never quotes the password", () => {
    const cases: [string, RegExp][] = [
      ["relay.example", /no : after the host/],
      ["[relay.example:u:p", /no \] after \[/],
      ["[relay.example]x:u:p", /no : after the host/],
      [":u:p", /empty host/],
      ["[]:u:p", /empty host/],
      ["relay.example:alice", /no : between/],
      ["relay.example::p", /empty user/],
      ["relay.example:alice:", /empty password/],
      ["relay.example:99999:u:secret-pw", /bad port/],
      ["relay.example:0:u:secret-pw", /bad port/],
      [`relay.example:u:${"x".repeat(CREDENTIAL_MAX + 1)}`, /longer than 1024/],
      [`relay.example:${"u".repeat(CREDENTIAL_MAX + 1)}:p`, /longer than 1024/],
      ["relay.example:u:se\0cret", /NUL/],
    ];
    for (const [line, why] of cases) {
      const r = parseAuthLine(line);
      assert.equal(typeof r, "string", line);
      assert.match(r as string, why, line);
      assert.doesNotMatch(r as string, /secret/);
    }
  });
});

describe("parseSmtpAuth()", () => {
  it("skips comments and empty lines, drops a CR at the line end only", () => {
    const r = parseSmtpAuth("# relays\n\n  \nrelay.example:alice:pw \r\n[r2]:465:bob:x\n");
    assert.deepEqual(r, [
      { relay: "relay.example", port: 25, user: "alice", password: "pw " },
      { relay: "[r2]", port: 465, user: "bob", password: "x" },
    ]);
  });
  it("names the first bad line by number", () => {
    assert.equal(parseSmtpAuth("a:u:p\n# x\nbroken\n"), "line 3: no : after the host");
  });
  it("takes a large file in bounded time", () => {
    const text = "relay.example:user:password\n".repeat(20_000);
    const t0 = performance.now();
    assert.equal((parseSmtpAuth(text) as unknown[]).length, 20_000);
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `${ms.toFixed(0)} ms`); // ~0.1 s idle: linear, with room for a loaded machine
  });
});

describe("findCredentials()", () => {
  const entries = parseSmtpAuth("relay.example:alice:1\nrelay.example:587:bob:2\n[relay.example]:carol:3\n[192.0.2.1]:465:dave:4\nrelay.example:erin:5\n");
  assert.ok(Array.isArray(entries));
  const user = (v: string) => findCredentials(entries, route(v))?.user ?? null;
  it("matches the relay text and port exactly as smtproutes routes them; the later line wins", () => {
    assert.equal(user("relay.example"), "erin");
    assert.equal(user("RELAY.example:25"), "erin");
    assert.equal(user("relay.example:587"), "bob");
    assert.equal(user("[relay.example]"), "carol");
    assert.equal(user("[192.0.2.1]:465"), "dave");
    assert.equal(user("[192.0.2.1]"), null);
    assert.equal(user("relay.example:2525"), null);
    assert.equal(user("other.example"), null);
  });
  it("gives nothing to an MX route (empty relay) or no route", () => {
    assert.equal(user(":587"), null);
    assert.equal(findCredentials(entries, null), null);
  });
});

describe("chooseMechanism()", () => {
  it("prefers PLAIN, then LOGIN, whole words only, any case", () => {
    assert.equal(chooseMechanism("LOGIN PLAIN"), "PLAIN");
    assert.equal(chooseMechanism("cram-md5 login"), "LOGIN");
    assert.equal(chooseMechanism("PLAINX LOGIN-2 XPLAIN"), null);
    assert.equal(chooseMechanism(""), null);
    assert.equal(chooseMechanism(undefined), null);
    assert.equal(chooseMechanism(`${"X ".repeat(5000)}\tPLAIN`), "PLAIN");
  });
});

describe("plainResponse() and loginResponses()", () => {
  it("encode the bytes of user and password in base64", () => {
    const c = { user: "alice", password: "p\xc3\xa4:ss" }; // "pä:ss" as UTF-8 bytes
    assert.equal(Buffer.from(plainResponse(c), "base64").toString("latin1"), "\0alice\0p\xc3\xa4:ss");
    assert.deepEqual(loginResponses(c).map((x) => Buffer.from(x, "base64").toString("utf8")), ["alice", "pä:ss"]);
  });
});

describe("implicitTls()", () => {
  it("means port 465 and nothing else", () => {
    assert.equal(implicitTls(465), true);
    assert.equal(implicitTls(587), false);
    assert.equal(implicitTls(25), false);
  });
});
