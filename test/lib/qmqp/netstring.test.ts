import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeAll, decodeNetstring, encodeNetstring, HeaderReader } from "../../../core/lib/qmqp/netstring.ts";
import { decodeEnvelopePart, decodeReply, encodeReply, encodeRequest, parseServer, requestFraming } from "../../../core/lib/qmqp/protocol.ts";

const te = new TextEncoder();
const b = (s: string) => te.encode(s);
const text = (u: Uint8Array) => new TextDecoder().decode(u);

describe("encodeNetstring()", () => {
  it("frames bytes as length, colon, bytes, comma", () => {
    assert.equal(text(encodeNetstring(b("hello world!"))), "12:hello world!,");
    assert.equal(text(encodeNetstring(b(""))), "0:,");
  });
});

describe("decodeNetstring()", () => {
  it("returns the payload and what follows", () => {
    const d = decodeNetstring(b("3:abc,4:defg,"), 100);
    assert.equal(d.kind, "ok");
    if (d.kind !== "ok") return;
    assert.equal(text(d.value), "abc");
    assert.equal(text(d.rest), "4:defg,");
  });
  const HOSTILE = [
    ["a leading zero", "03:abc,", "leading zero"],
    ["a lone leading zero before digits", "00:,", "leading zero"],
    ["a missing comma", "3:abcd", "missing comma"],
    ["a sign", "+3:abc,", "not a digit"],
    ["a space in the length", " 3:abc,", "not a digit"],
    ["an empty length", ":abc,", "empty length"],
    ["a length over the caller's limit", "101:x,", "too long"],
    ["a huge length", "99999999999999999999:x", "too many digits"],
  ] as const;
  for (const [what, input, reason] of HOSTILE) {
    it(`refuses ${what}`, () => {
      assert.deepEqual(decodeNetstring(b(input), 100), { kind: "bad", reason });
    });
  }
  it("asks for more when the input is truncated anywhere", () => {
    const whole = "10:0123456789,";
    for (let i = 0; i < whole.length; i++) assert.equal(decodeNetstring(b(whole.slice(0, i)), 100).kind, "more", `cut at ${i}`);
  });
  it("accepts exactly the limit and refuses one more", () => {
    assert.equal(decodeNetstring(b("5:12345,"), 5).kind, "ok");
    assert.equal(decodeNetstring(b("6:123456,"), 5).kind, "bad");
  });
});

describe("HeaderReader", () => {
  it("reads a length fed one byte at a time and reports bytes used", () => {
    const r = new HeaderReader(1000);
    assert.equal(r.feed(b("1")).kind, "more");
    assert.equal(r.feed(b("2")).kind, "more");
    assert.deepEqual(r.feed(b(":hello")), { kind: "done", length: 12, used: 1 });
  });
  it("never accepts more than ten digits however they arrive", () => {
    const r = new HeaderReader(Number.MAX_SAFE_INTEGER);
    let last = r.feed(b("1"));
    for (let i = 0; i < 20 && last.kind === "more"; i++) last = r.feed(b("1"));
    assert.deepEqual(last, { kind: "bad", reason: "too many digits" });
  });
});

describe("decodeAll()", () => {
  it("splits a run of netstrings and refuses trailing garbage", () => {
    const ok = decodeAll(b("1:a,0:,2:bc,"), 10, 10);
    assert.equal(ok.kind, "ok");
    if (ok.kind === "ok") assert.deepEqual(ok.values.map(text), ["a", "", "bc"]);
    assert.deepEqual(decodeAll(b("1:a,x"), 10, 10), { kind: "bad", reason: "not a digit" });
    assert.deepEqual(decodeAll(b("1:a,2:b"), 10, 10), { kind: "bad", reason: "truncated" });
  });
  it("stops at the count limit", () => {
    assert.deepEqual(decodeAll(b("0:,".repeat(5)), 10, 4), { kind: "bad", reason: "too many netstrings" });
  });
});

describe("encodeRequest()", () => {
  it("nests message, sender and recipients in one netstring", () => {
    assert.equal(text(encodeRequest(b("hi\n"), { sender: "a@x", recipients: ["b@y", "c@z"] })), "24:3:hi\n,3:a@x,3:b@y,3:c@z,,");
  });
  it("is what requestFraming() puts around a streamed message", () => {
    const env = { sender: "", recipients: ["b@y"] };
    const { head, tail } = requestFraming(3, env);
    assert.equal(text(head) + "hi\n" + text(tail), text(encodeRequest(b("hi\n"), env)));
  });
});

describe("decodeEnvelopePart()", () => {
  it("reads sender and recipients", () => {
    assert.deepEqual(decodeEnvelopePart(b("0:,3:b@y,")), { kind: "ok", env: { sender: "", recipients: ["b@y"] } });
  });
  it("poisons addresses of 1000 bytes or with NUL", () => {
    assert.deepEqual(decodeEnvelopePart(b(`0:,1000:${"x".repeat(1000)},`)), { kind: "poison" });
    assert.deepEqual(decodeEnvelopePart(b("3:a\0b,")), { kind: "poison" });
    assert.equal(decodeEnvelopePart(b(`0:,999:${"x".repeat(999)},`)).kind, "ok");
  });
  it("hangs up on no sender or broken framing", () => {
    assert.equal(decodeEnvelopePart(b("")).kind, "bad");
    assert.equal(decodeEnvelopePart(b("3:ab,")).kind, "bad");
  });
});

describe("decodeReply()", () => {
  it("reads K, Z and D replies", () => {
    assert.deepEqual(decodeReply(encodeReply("K", "ok 1 qp 2")), { code: "K", text: "ok 1 qp 2" });
    assert.deepEqual(decodeReply(b("4:Zno!,")), { code: "Z", text: "no!" });
    assert.deepEqual(decodeReply(b("2:Dx,")), { code: "D", text: "x" });
  });
  it("refuses other first bytes, empty replies, trailing bytes and SMTP banners", () => {
    for (const s of ["2:Qx,", "0:,", "2:Kx,junk", "554 5.7.1 go away\r\n"]) assert.equal(decodeReply(b(s)), null, s);
    assert.equal(decodeReply(b("9:Kok")), "more");
  });
});

describe("parseServer()", () => {
  const CASES = [
    ["10.0.0.1", { host: "10.0.0.1", port: 628 }],
    ["10.0.0.1:6280", { host: "10.0.0.1", port: 6280 }],
    ["[::1]:700", { host: "::1", port: 700 }],
    ["2001:db8::5", { host: "2001:db8::5", port: 628 }],
    ["hub.example", null],
    ["10.0.0.256", null],
    ["10.0.0.1:0", null],
    ["10.0.0.1:99999", null],
    ["[::1", null],
    ["", null],
  ] as const;
  for (const [line, want] of CASES) it(`reads ${JSON.stringify(line)}`, () => assert.deepEqual(parseServer(line), want));
});
