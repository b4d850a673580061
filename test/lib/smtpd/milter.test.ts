import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeReply, encode, MAX_PACKET, negotiated, OFFERED_ACTIONS, OFFERED_PROTOCOL, packet, PROTO, takePacket } from "../../../core/lib/smtpd/milter.ts";
import { editEnvelope, editHeader, fieldValue, formatField, fromCrlf, joinMessage, splitMessage, toCrlf } from "../../../core/lib/smtpd/milter-edit.ts";

const b = (s: string) => Buffer.from(s, "latin1");
const text = (u: Uint8Array) => Buffer.from(u).toString("latin1");
const reply = (cmd: string, data: string | Uint8Array = "") => decodeReply(cmd.charCodeAt(0), typeof data === "string" ? b(data) : data);
const u32 = (n: number) => {
  const x = Buffer.alloc(4);
  x.writeUInt32BE(n);
  return x;
};

describe("milter packets", () => {
  it("frames a command as length (command byte included), command, data", () => {
    assert.deepEqual([...packet("H", "mx\0")], [0, 0, 0, 4, 72, 109, 120, 0]);
    assert.deepEqual([...encode.optneg()], [0, 0, 0, 13, 79, 0, 0, 0, 6, ...u32(OFFERED_ACTIONS), ...u32(OFFERED_PROTOCOL)]);
    assert.equal(OFFERED_PROTOCOL & PROTO.rcptRej, 0, "refused recipients are not shown");
    assert.equal(OFFERED_PROTOCOL & PROTO.headerLeadSpace, 0);
  });
  it("builds CONNECT for IPv4, IPv6 and an unknown address", () => {
    assert.equal(text(encode.connect("mx.test", "192.0.2.9", 2525)), "\0\0\0\x16Cmx.test\x004\x09\xdd192.0.2.9\0");
    assert.equal(text(encode.connect("h", "2001:db8::1", 25)).slice(5), "h\x006\0\x192001:db8::1\0");
    assert.equal(text(encode.connect("h", "unknown", 0)).slice(5), "h\0U");
  });
  it("builds macros, MAIL and RCPT as NUL-ended strings, a NUL inside dropped", () => {
    assert.equal(text(encode.macros("M", [["i", "1.2"], ["{auth_authen}", "joe"]])).slice(4), "DMi\x001.2\0{auth_authen}\0joe\0");
    assert.equal(text(encode.mail(["<a\0b@x>"])).slice(4), "M<ab@x>\0");
  });
});

describe("takePacket()", () => {
  it("waits for a whole packet and hands back what follows", () => {
    const two = Buffer.concat([packet("c"), packet("a")]);
    assert.equal(takePacket(two.subarray(0, 3)), "more");
    assert.equal(takePacket(two.subarray(0, 4)), "more");
    const p = takePacket(two);
    assert.ok(typeof p === "object" && "cmd" in p);
    assert.equal(p.cmd, 99);
    assert.deepEqual([...p.rest], [...packet("a")]);
  });
  it("refuses an empty packet and one over MAX_PACKET as soon as the length is read", () => {
    assert.deepEqual(takePacket(u32(0)), { error: "an empty packet" });
    assert.ok(typeof takePacket(u32(MAX_PACKET + 1)) === "object" && "error" in (takePacket(u32(MAX_PACKET + 1)) as object));
    assert.ok(typeof takePacket(u32(0xffffffff)) === "object");
    assert.equal(takePacket(u32(MAX_PACKET)), "more", "exactly MAX_PACKET is taken");
    const full = Buffer.concat([u32(MAX_PACKET), b("b"), Buffer.alloc(MAX_PACKET - 1)]);
    const p = takePacket(full);
    assert.ok(typeof p === "object" && "data" in p && p.data.length === MAX_PACKET - 1);
  });
});

describe("decodeReply()", () => {
  it("reads the simple verdicts, with or without stray data", () => {
    for (const [c, k] of [["a", "accept"], ["c", "continue"], ["d", "discard"], ["r", "reject"], ["t", "tempfail"], ["s", "skip"], ["p", "progress"], ["f", "tempfail"], ["4", "tempfail"]]) assert.deepEqual(reply(c!), { ok: true, reply: { kind: k } });
  });
  it("reads a reply code, one line or several, and refuses one that is not 4xx or 5xx", () => {
    assert.deepEqual(reply("y", "554 5.7.1 Gtube pattern\0"), { ok: true, reply: { kind: "replycode", lines: ["554 5.7.1 Gtube pattern"], temp: false } });
    assert.deepEqual(reply("y", "451-4.7.1 first\r\n451 4.7.1 second\0"), { ok: true, reply: { kind: "replycode", lines: ["451-4.7.1 first", "451 4.7.1 second"], temp: true } });
    assert.deepEqual(reply("y", "550\0"), { ok: true, reply: { kind: "replycode", lines: ["550 refused by a milter"], temp: false } });
    for (const bad of ["250 ok\0", "5xx no\0", "hello\0", "550 a\r\n451 b\0", "550 no NUL"]) assert.equal(reply("y", bad).ok, false, bad);
    assert.equal(reply("y", `${Array.from({ length: 11 }, () => "550-x").join("\r\n")}\0`).ok, false, "more than 10 lines");
    const r = reply("y", "550 5.7.1 \x1b[31mred\x07\0");
    assert.ok(r.ok && r.reply.kind === "replycode" && r.reply.lines[0] === "550 5.7.1 ?[31mred?");
  });
  it("reads header changes with their index and refuses bad names", () => {
    assert.deepEqual(reply("h", "X-A\0v\0"), { ok: true, reply: { kind: "addheader", name: "X-A", value: "v" } });
    assert.deepEqual(reply("i", Buffer.concat([u32(2), b("X-B\0w\0")])), { ok: true, reply: { kind: "insheader", index: 2, name: "X-B", value: "w" } });
    assert.deepEqual(reply("m", Buffer.concat([u32(1), b("Subject\0\0")])), { ok: true, reply: { kind: "chgheader", index: 1, name: "Subject", value: "" } });
    for (const bad of ["X A\0v\0", "X:A\0v\0", "\0v\0", "X-A\0v", "X-A\0v\0extra\0"]) assert.equal(reply("h", bad).ok, false, JSON.stringify(bad));
    assert.equal(reply("i", "ab").ok, false, "short index");
  });
  it("reads envelope changes, the angle brackets taken off", () => {
    assert.deepEqual(reply("e", "<new@x.test>\0"), { ok: true, reply: { kind: "chgfrom", from: "new@x.test" } });
    assert.deepEqual(reply("e", "<new@x.test>\0SIZE=10\0"), { ok: true, reply: { kind: "chgfrom", from: "new@x.test" } });
    assert.deepEqual(reply("+", "<b@x.test>\0"), { ok: true, reply: { kind: "addrcpt", rcpt: "b@x.test" } });
    assert.deepEqual(reply("2", "<b@x.test>\0NOTIFY=NEVER\0"), { ok: true, reply: { kind: "addrcpt", rcpt: "b@x.test" } });
    assert.deepEqual(reply("-", "c@x.test\0"), { ok: true, reply: { kind: "delrcpt", rcpt: "c@x.test" } });
    assert.equal(reply("+", "<a\nb@x>\0").ok, false);
    assert.equal(reply("+", `<${"a".repeat(1001)}>\0`).ok, false);
  });
  it("reads a new body chunk as bytes and a quarantine reason", () => {
    const r = reply("b", "new\r\nbody\r\n");
    assert.ok(r.ok && r.reply.kind === "replbody" && text(r.reply.chunk) === "new\r\nbody\r\n");
    assert.deepEqual(reply("q", "virus\0"), { ok: true, reply: { kind: "quarantine", reason: "virus" } });
  });
  it("refuses an unknown reply, whatever its name", () => {
    for (const c of ["Z", "\0", "\xff", "_"]) assert.equal(reply(c).ok, false);
  });
});

describe("negotiated()", () => {
  const optneg = (version: number, actions: number, protocol: number) => reply("O", Buffer.concat([u32(version), u32(actions), u32(protocol)]));
  it("keeps what was offered and drops the rest", () => {
    const r = optneg(6, 0xffff, 0xffffffff);
    assert.ok(r.ok);
    assert.deepEqual(negotiated(r.reply), { actions: OFFERED_ACTIONS, protocol: OFFERED_PROTOCOL });
    const v2 = optneg(2, 1, PROTO.noHelo);
    assert.ok(v2.ok);
    assert.deepEqual(negotiated(v2.reply), { actions: 1, protocol: PROTO.noHelo });
  });
  it("refuses another reply or version", () => {
    const r7 = optneg(7, 0, 0);
    assert.ok(r7.ok && typeof negotiated(r7.reply) === "string");
    assert.equal(typeof negotiated({ kind: "continue" }), "string");
    assert.equal(reply("O", "short").ok, false);
  });
});

describe("splitMessage() and the header edits", () => {
  const msg = b("Received: from x\n  by y\nFrom: <a@x>\nSubject: one\nsubject:  two\n\nbody\n.\n");
  it("splits at the empty line and joins back byte for byte", () => {
    const h = splitMessage(msg);
    assert.deepEqual(h.fields.map((f) => f.name), ["Received", "From", "Subject", "subject"]);
    assert.equal(fieldValue(h.fields[0]!), "from x\n  by y");
    assert.equal(fieldValue(h.fields[3]!), "two");
    assert.equal(text(h.body), "body\n.\n");
    assert.equal(text(joinMessage(h)), text(msg));
  });
  it("ends the header at a line that is no field, and takes a message without a body", () => {
    const h = splitMessage(b("A: 1\nnot a field\nmore\n"));
    assert.equal(h.fields.length, 1);
    assert.equal(h.separator, "");
    assert.equal(text(h.body), "not a field\nmore\n");
    assert.equal(splitMessage(b("A: 1\nB: 2")).fields.length, 2);
    assert.equal(splitMessage(b("")).fields.length, 0);
  });
  it("adds last, inserts at an index (past the end: last), changes and deletes the n-th of a name", () => {
    const h = splitMessage(msg);
    const names = (x: typeof h) => x.fields.map((f) => f.raw.trimEnd()).join("|");
    assert.match(names(editHeader(h, { kind: "addheader", name: "X-A", value: "1" })), /\|X-A: 1$/);
    assert.match(names(editHeader(h, { kind: "insheader", index: 0, name: "X-B", value: "2" })), /^X-B: 2\|Received/);
    assert.match(names(editHeader(h, { kind: "insheader", index: 99, name: "X-B", value: "2" })), /\|X-B: 2$/);
    assert.match(names(editHeader(h, { kind: "chgheader", index: 2, name: "SUBJECT", value: "new" })), /Subject: one\|subject: new$/);
    assert.doesNotMatch(names(editHeader(h, { kind: "chgheader", index: 1, name: "subject", value: "" })), /one/);
    assert.match(names(editHeader(h, { kind: "chgheader", index: 5, name: "X-New", value: "v" })), /\|X-New: v$/);
    assert.equal(names(editHeader(h, { kind: "chgheader", index: 5, name: "X-New", value: "" })), names(h));
  });
  it("stores a milter's value with LF line ends, no bare CR, every folded line starting with a blank", () => {
    assert.equal(formatField("X-A", "a\r\n\tb\nc\rd\n"), "X-A: a\n\tb\n\tcd\n");
    assert.equal(formatField("X-A", "a\nFrom: forged"), "X-A: a\n\tFrom: forged\n");
  });
});

describe("line ends and the envelope", () => {
  it("turns LF into CR LF for the milter and back", () => {
    assert.equal(text(toCrlf(b("a\nb\r\n\n"))), "a\r\nb\r\n\r\n");
    assert.equal(text(fromCrlf(b("a\r\nb\r\rc\n"))), "a\nb\r\rc\n");
  });
  it("changes the sender, adds a recipient once, deletes one in any case of domain", () => {
    const env = { sender: "a@x", recipients: ["b@x.test", "c@X.TEST"] };
    assert.equal(editEnvelope(env, { kind: "chgfrom", from: "n@y" }).sender, "n@y");
    assert.deepEqual(editEnvelope(env, { kind: "addrcpt", rcpt: "d@x" }).recipients, ["b@x.test", "c@X.TEST", "d@x"]);
    assert.deepEqual(editEnvelope(env, { kind: "addrcpt", rcpt: "b@X.test" }).recipients, env.recipients);
    assert.deepEqual(editEnvelope(env, { kind: "delrcpt", rcpt: "c@x.test" }).recipients, ["b@x.test"]);
    assert.deepEqual(editEnvelope(env, { kind: "delrcpt", rcpt: "zz@x.test" }).recipients, env.recipients);
  });
});
