import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeEnvelope, encodeEnvelope, MAX_ADDR } from "../../../core/lib/queue/envelope.ts";
import { fromBytes, toBytes } from "../../../core/lib/base/bytes.ts";

const raw = (s: string) => toBytes(s);

describe("encodeEnvelope()", () => {
  it("writes F sender, T recipients, each NUL-terminated, then one extra NUL", () => {
    assert.equal(fromBytes(encodeEnvelope({ sender: "a@b", recipients: ["c@d", "e@f"] })), "Fa@b\0Tc@d\0Te@f\0\0");
  });
  it("writes the null sender as a bare F", () => {
    assert.equal(fromBytes(encodeEnvelope({ sender: "", recipients: [] })), "F\0\0");
  });
});

describe("decodeEnvelope()", () => {
  const CASES = [
    ["Fa@b\0Tc@d\0\0", { sender: "a@b", recipients: ["c@d"] }],
    ["F\0\0", { sender: "", recipients: [] }],
    ["F\0T\0\0", { sender: "", recipients: [""] }],
  ] as const;
  for (const [input, want] of CASES) {
    it(`decodes ${JSON.stringify(input)}`, () => {
      const r = decodeEnvelope(raw(input));
      assert.equal(r.kind, "ok");
      if (r.kind === "ok") assert.deepEqual(r.value, want);
    });
  }
  const BAD = [
    ["", "temp", "ended early"],
    ["X\0\0", "temp", "format"],
    ["Fa@b\0Xc@d\0\0", "temp", "format"],
    ["Fa@b\0Tc@d\0", "temp", "ended early"],
    ["Fa@b\0Tc@d", "temp", "ended early"],
    ["Fa@b", "temp", "ended early"],
    ["Fa@b\0\0garbage", "temp", "format"],
  ] as const;
  for (const [input, kind, why] of BAD) {
    it(`refuses ${JSON.stringify(input)} as ${kind} (${why})`, () => {
      const r = decodeEnvelope(raw(input));
      assert.equal(r.kind, kind);
      assert.match("reason" in r ? r.reason.toLowerCase() : "", new RegExp(why));
    });
  }
  it("accepts an address of MAX_ADDR - 1 bytes and refuses one of MAX_ADDR permanently", () => {
    const fits = "a".repeat(MAX_ADDR - 1);
    assert.equal(decodeEnvelope(raw(`F${fits}\0\0`)).kind, "ok");
    const r = decodeEnvelope(raw(`F\0T${"a".repeat(MAX_ADDR)}\0\0`));
    assert.equal(r.kind, "perm");
    if (r.kind === "perm") assert.equal(r.status, "5.1.3");
  });
  it("keeps CR, LF, 8-bit and invalid UTF-8 bytes of an address unchanged", () => {
    const bytes = new Uint8Array([0x46, 0x61, 0x0d, 0x0a, 0xff, 0xc3, 0x28, 0x40, 0x62, 0, 0]);
    const r = decodeEnvelope(bytes);
    assert.equal(r.kind, "ok");
    if (r.kind === "ok") assert.deepEqual(encodeEnvelope(r.value), bytes);
  });
  it("round-trips 10 000 recipients", () => {
    const recipients = Array.from({ length: 10_000 }, (_, i) => `user${i}@example.test`);
    const r = decodeEnvelope(encodeEnvelope({ sender: "s@x", recipients }));
    assert.equal(r.kind, "ok");
    if (r.kind === "ok") assert.deepEqual(r.value.recipients, recipients);
  });
  it("stops at a 1 MB address without a NUL, permanently", () => {
    const r = decodeEnvelope(raw(`F${"x".repeat(1 << 20)}`));
    assert.equal(r.kind, "perm");
  });
});
