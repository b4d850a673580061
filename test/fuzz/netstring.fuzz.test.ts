import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeAll, decodeNetstring, encodeNetstring, HeaderReader } from "../../core/lib/qmqp/netstring.ts";
import { decodeEnvelopePart, decodeReply, encodeReply, MAX_ADDRESS } from "../../core/lib/qmqp/protocol.ts";
import { params, timed } from "../support/fuzz.ts";

// QMQP (qm qmqpd and its client) is netstrings end to end.

const noisy = fc.oneof(
  fc.uint8Array({ maxLength: 100 }),
  fc.array(fc.constantFrom(...Buffer.from("0123456789:,:,00x")), { maxLength: 40 }).map((a) => Uint8Array.from(a)),
);

describe("decodeNetstring()", () => {
  it("decodes what encodeNetstring() wrote, also when fed one byte at a time to HeaderReader", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 10 }), (payloads) => {
        const wire = Buffer.concat(payloads.map((p) => Buffer.from(encodeNetstring(p))));
        const all = decodeAll(wire, 100, 100);
        assert.equal(all.kind, "ok");
        assert.deepEqual(all.kind === "ok" && all.values.map((v) => Buffer.from(v)), payloads.map((p) => Buffer.from(p)));
        if (payloads.length === 0) return;
        const h = new HeaderReader(100);
        let step = h.feed(wire.subarray(0, 1));
        for (let i = 1; step.kind === "more" && i < wire.length; i++) step = h.feed(wire.subarray(i, i + 1));
        assert.equal(step.kind === "done" && step.length, payloads[0]!.length);
      }),
      params(2000),
    );
  });

  it("answers ok, more or bad for any bytes, and never a value over the limit", () => {
    fc.assert(
      fc.property(noisy, fc.integer({ min: 0, max: 50 }), (b, max) => {
        const d = timed(() => decodeNetstring(b, max));
        if (d.kind === "ok") assert.ok(d.value.length <= max);
        const all = decodeAll(b, max, 5);
        if (all.kind === "ok") assert.ok(all.values.length <= 5 && all.values.every((v) => v.length <= max));
      }),
      params(5000),
    );
  });
});

describe("qmqp decodeEnvelopePart() and decodeReply()", () => {
  it("never let an address with NUL or over MAX_ADDRESS through", () => {
    const addr = fc.oneof(fc.uint8Array({ maxLength: 30 }), fc.integer({ min: MAX_ADDRESS - 1, max: MAX_ADDRESS + 2 }).map((n) => new Uint8Array(n).fill(97)));
    fc.assert(
      fc.property(fc.array(addr, { maxLength: 6 }), noisy, fc.boolean(), (addrs, junk, addJunk) => {
        const wire = Buffer.concat([...addrs.map((a) => Buffer.from(encodeNetstring(a))), addJunk ? Buffer.from(junk) : Buffer.alloc(0)]);
        const r = timed(() => decodeEnvelopePart(wire));
        if (r.kind !== "ok") return;
        for (const a of [r.env.sender, ...r.env.recipients]) assert.ok(a.length <= MAX_ADDRESS && !a.includes("\0"));
      }),
      params(3000),
    );
  });

  it("decodeReply() reads back encodeReply(), and anything else is null or more", () => {
    fc.assert(
      fc.property(fc.constantFrom("K" as const, "Z" as const, "D" as const), fc.string({ maxLength: 50 }), noisy, (code, text, junk) => {
        const r = decodeReply(encodeReply(code, text.replace(/[^\x20-\x7e]/g, "")));
        assert.ok(r && r !== "more" && r.code === code);
        const j = decodeReply(junk);
        assert.ok(j === null || j === "more" || ["K", "Z", "D"].includes(j.code));
      }),
      params(2000),
    );
  });
});
