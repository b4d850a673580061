import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bounceHead, bounceParagraph, planBounce, quote, quote2, type BounceControls } from "../../../core/lib/send/bounce.ts";

const C: BounceControls = { bouncefrom: "MAILER-DAEMON", bouncehost: "mx.example.test", doublebounceto: "postmaster", doublebouncehost: "example.test", maxbytes: 50_000 };

describe("bounceParagraph()", () => {
  it("ends the text in a newline and adds the blank line", () => {
    assert.equal(bounceParagraph("a@b", "no such user"), "a@b:\nno such user\n\n");
  });
  it("turns every blank line inside into /", () => {
    assert.equal(bounceParagraph("a@b", "one\n\ntwo\n\n\nthree\n"), "a@b:\none\n/two\n//three\n\n");
    assert.equal(bounceParagraph("a@b", "\nlead"), "a@b:\n/lead\n\n");
  });
  it("replaces newlines in the address", () => {
    assert.equal(bounceParagraph("a\nb@c", "x\n").split("\n")[0], "a_b@c:");
  });
});

describe("planBounce()", () => {
  it("bounces to the sender with an empty envelope sender", () => {
    assert.deepEqual(planBounce("joe@x.test", C), { kind: "single", envelope: { sender: "", recipients: ["joe@x.test"] }, to: "joe@x.test", returnPath: "joe@x.test" });
  });
  it("strips VERP's -@[]", () => {
    const p = planBounce("owner-@list.test-@[]", C);
    assert.equal(p.kind === "single" && p.to, "owner-@list.test");
  });
  it("sends a double bounce for an empty sender to doublebounceto@doublebouncehost from #@[]", () => {
    assert.deepEqual(planBounce("", C), { kind: "double", envelope: { sender: "#@[]", recipients: ["postmaster@example.test"] }, to: "postmaster@example.test", returnPath: "" });
  });
  it("discards a triple bounce", () => {
    assert.deepEqual(planBounce("#@[]", C), { kind: "triple" });
  });
});

describe("bounceHead()", () => {
  it("is a QSBMF message: intro, recipient paragraphs, break paragraph, Return-Path", () => {
    const plan = planBounce("joe@x.test", C);
    assert.ok(plan.kind !== "triple");
    const head = bounceHead(plan, bounceParagraph("a@b", "failed\n"), C, Date.UTC(2026, 0, 2, 3, 4, 5));
    const [header, body] = [head.slice(0, head.indexOf("\n\n")), head.slice(head.indexOf("\n\n") + 2)];
    assert.equal(header, "Date: 2 Jan 2026 03:04:05 -0000\nFrom: MAILER-DAEMON@mx.example.test\nTo: joe@x.test\nSubject: failure notice\nAuto-Submitted: auto-replied");
    const paras = body.split("\n\n");
    assert.match(paras[0]!, /^Hi\. This is the qmail-send program at mx\.example\.test\.\n/);
    assert.equal(paras[1], "a@b:\nfailed");
    assert.equal(paras[2], "--- Below this line is a copy of the message.");
    assert.equal(paras[3], "Return-Path: <joe@x.test>\n");
  });
  it("says the original bounce follows in a double bounce, Return-Path <>", () => {
    const plan = planBounce("", C);
    assert.ok(plan.kind !== "triple");
    const head = bounceHead(plan, "", C, 0);
    assert.match(head, /\n--- Below this line is the original bounce\.\n\nReturn-Path: <>\n$/);
    assert.match(head, /\nTo: postmaster@example\.test\n/);
  });
});

describe("quote()", () => {
  const CASES = [
    ["joe", "joe"],
    ["", '""'],
    ["a b", '"a b"'],
    [".a", '".a"'],
    ["a..b", '"a..b"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ["caf\u00e9", '"caf\u00e9"'],
  ] as const;
  for (const [input, out] of CASES) it(`quotes ${JSON.stringify(input)}`, () => assert.equal(quote(input), out));
  it("quote2() keeps the domain", () => {
    assert.equal(quote2("a b@x.test"), '"a b"@x.test');
    assert.equal(quote2(""), "");
  });
});
