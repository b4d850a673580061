import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeEnvelope, encodeEnvelope, MAX_ADDR } from "../../core/lib/queue/envelope.ts";
import { params, timed } from "../support/fuzz.ts";

// The envelope comes from whoever runs `qm queue` (fd 1) and from maildrop
// files a local user writes: hostile bytes.

const address = fc.uint8Array({ maxLength: 40 }).map((b) => String.fromCharCode(...b.filter((c) => c !== 0)));

describe("decodeEnvelope()", () => {
  it("decodes what encodeEnvelope() wrote", () => {
    fc.assert(
      fc.property(address, fc.array(address, { minLength: 1, maxLength: 20 }), (sender, recipients) => {
        const r = decodeEnvelope(encodeEnvelope({ sender, recipients }));
        assert.equal(r.kind, "ok");
        assert.deepEqual(r.kind === "ok" && r.value, { sender, recipients });
      }),
      params(2000),
    );
  });

  it("answers any bytes with a Result: ok, temp (4.x.x) or perm (5.x.x)", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.constantFrom(0, 0x46, 0x54, 0x41, 0xff), { maxLength: 60 }).map((a) => Uint8Array.from(a)),
      fc.integer({ min: MAX_ADDR - 3, max: MAX_ADDR + 3 }).map((n) => Buffer.from(`F${"a".repeat(n)}\0T${"b".repeat(n)}\0\0`)),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const r = timed(() => decodeEnvelope(b));
        if (r.kind === "ok") {
          for (const a of [r.value.sender, ...r.value.recipients]) assert.ok(!a.includes("\0") && a.length < MAX_ADDR);
        } else if (r.kind === "temp") assert.match(r.status, /^4\./);
        else assert.match(r.status, /^5\./);
      }),
      params(5000),
    );
  });

  it("never accepts a truncated envelope", () => {
    fc.assert(
      fc.property(address, fc.array(address, { minLength: 1, maxLength: 5 }), fc.nat(), (sender, recipients, cut) => {
        const full = encodeEnvelope({ sender, recipients });
        const n = cut % full.length; // strictly shorter
        assert.notEqual(decodeEnvelope(full.subarray(0, n)).kind, "ok", `accepted ${n} of ${full.length} bytes`);
      }),
      params(2000),
    );
  });
});
