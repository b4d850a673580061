import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  checkArgs, dotQmailCandidates, dtLine, extParts, hostParts, newSender, parseDotQmail, programOutcome,
  rpLine, safeExt, ufLine,
} from "../../../core/lib/local/dot-qmail.ts";

describe("parseDotQmail()", () => {
  it("reads every line type", () => {
    const r = parseDotQmail("# c\n|prog a b  \n./Maildir/\n/var/mbox\t\n&x@y\nbare@z\n+list\n+other\n\n./m\n");
    assert.equal(r.kind, "ok");
    assert.deepEqual(r.kind === "ok" && r.value, [
      { kind: "comment" },
      { kind: "program", command: "prog a b" },
      { kind: "maildir", path: "./Maildir/" },
      { kind: "mbox", path: "/var/mbox" },
      { kind: "forward", address: "x@y" },
      { kind: "forward", address: "bare@z" },
      { kind: "forward-only" },
      { kind: "comment" },
      { kind: "mbox", path: "./m" },
    ]);
  });
  it("reads lmtp: lines as LMTP deliveries, whatever follows the prefix (checked when delivering)", () => {
    const r = parseDotQmail("lmtp:unix:/run/dovecot/lmtp\nlmtp:127.0.0.1:24\nlmtp:junk\nlmtpx@y\n");
    assert.deepEqual(r.kind === "ok" && r.value, [
      { kind: "lmtp", route: "lmtp:unix:/run/dovecot/lmtp" },
      { kind: "lmtp", route: "lmtp:127.0.0.1:24" },
      { kind: "lmtp", route: "lmtp:junk" },
      { kind: "forward", address: "lmtpx@y" },
    ]);
  });
  it("refuses a blank first line (temp) and NUL (temp)", () => {
    assert.equal(parseDotQmail("\n./m\n").kind, "temp");
    assert.equal(parseDotQmail("  \n./m\n").kind, "temp");
    assert.equal(parseDotQmail("./m\0\n").kind, "temp");
  });
  it("treats words like constructor and __proto__ as forwards", () => {
    const r = parseDotQmail("constructor\n__proto__\n");
    assert.deepEqual(r.kind === "ok" && r.value, [{ kind: "forward", address: "constructor" }, { kind: "forward", address: "__proto__" }]);
  });
});

describe("dotQmailCandidates()", () => {
  it("tries the exact file, then -default forms from the most specific", () => {
    assert.deepEqual(dotQmailCandidates("-", "a-b-c").map((c) => [c.name, c.defaultTail]), [
      [".qmail-a-b-c", null],
      [".qmail-a-b-default", "c"],
      [".qmail-a-default", "b-c"],
      [".qmail-default", "a-b-c"],
    ]);
  });
  it("lowercases, turns dots into colons and keeps DEFAULT in original case", () => {
    const c = dotQmailCandidates("-", "Foo.Bar-X");
    assert.deepEqual(c.map((x) => x.name), [".qmail-foo:bar-x", ".qmail-foo:bar-default", ".qmail-default"]);
    assert.equal(c[1]!.defaultTail, "X");
  });
  it("never builds a name that climbs out of the home", () => {
    for (const ext of ["../x", "..", "a/../../b", "./.", "x/../../../etc/passwd"]) {
      for (const c of dotQmailCandidates("-", ext)) assert.ok(!c.name.split("/").includes(".."), c.name);
    }
  });
  it("gives .qmail and .qmaildefault for an empty dash and ext", () => {
    assert.deepEqual(dotQmailCandidates("", "").map((c) => c.name), [".qmail", ".qmaildefault"]);
  });
});

describe("helpers", () => {
  it("safeExt() lowercases and maps dots", () => assert.equal(safeExt("A.b.C"), "a:b:c"));
  it("extParts() splits at dashes", () => {
    assert.deepEqual(extParts("a-b-c-d"), ["b-c-d", "c-d", "d"]);
    assert.deepEqual(extParts("a"), ["", "", ""]);
  });
  it("hostParts() drops dot-parts from the right", () => {
    assert.deepEqual(hostParts("a.b.c.d"), ["a.b.c", "a.b", "a"]);
    assert.deepEqual(hostParts("x.org"), ["x", "x.org", "x.org"]);
  });
  it("builds DTLINE, RPLINE and UFLINE", () => {
    assert.equal(dtLine("bob", "x.org"), "Delivered-To: bob@x.org\n");
    assert.equal(dtLine("a\nb", "x"), "Delivered-To: a_b@x\n");
    assert.equal(rpLine(""), "Return-Path: <>\n");
    assert.equal(rpLine("a\nb@c"), "Return-Path: <\"a\\_b\"@c>\n");
    assert.equal(ufLine("a b@c", new Date(Date.UTC(2024, 0, 5, 3, 4, 5))), "From a-b@c Fri Jan 05 03:04:05 2024\n");
    assert.equal(ufLine("", new Date(Date.UTC(2024, 0, 5))), "From MAILER-DAEMON Fri Jan 05 00:00:00 2024\n");
  });
  it("programOutcome() follows qmail-command(8)", () => {
    const t = [[0, "ok"], [99, "stop"], [100, "perm"], [64, "perm"], [112, "perm"], [111, "temp"], [1, "temp"], [null, "temp"]] as const;
    for (const [code, want] of t) assert.equal(programOutcome(code), want, String(code));
  });
  it("newSender() uses -owner and VERP -owner-", () => {
    assert.equal(newSender("s@x", "list", "h", false, false), "s@x");
    assert.equal(newSender("s@x", "list", "h", true, false), "list-owner@h");
    assert.equal(newSender("s@x", "list", "h", true, true), "list-owner-@h-@[]");
    assert.equal(newSender("", "list", "h", true, true), "");
    assert.equal(newSender("#@[]", "list", "h", true, false), "#@[]");
  });
  it("checkArgs() wants eight arguments, no NUL, an absolute home", () => {
    assert.equal(checkArgs(["u", "/h", "l", "-", "e", "d", "s", "./M/"]).kind, "ok");
    assert.equal(checkArgs(["u", "/h"]).kind, "perm");
    assert.equal(checkArgs(["u", "h", "l", "-", "e", "d", "s", "./M/"]).kind, "perm");
    assert.equal(checkArgs(["u", "/h", "l\0", "-", "e", "d", "s", "./M/"]).kind, "perm");
  });
});
