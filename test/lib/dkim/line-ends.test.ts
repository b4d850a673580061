import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createCrlfNormalizer } from "../../../core/lib/dkim/line-ends.ts";
import { createDotStuffer } from "../../../core/lib/remote/smtp-wire.ts";

// What DKIM hashes must be what the SMTP client sends: the DATA encoder's
// output with the transparency dots taken out again.

function normalize(chunks: readonly Uint8Array[]): string {
  const n = createCrlfNormalizer();
  return Buffer.concat([...chunks.map((c) => n.push(c)), n.end()]).toString("latin1");
}
function sent(chunks: readonly Uint8Array[]): string | null {
  const s = createDotStuffer();
  const body = Buffer.concat(chunks.map((c) => s.push(c))).toString("latin1");
  const end = s.end();
  if (!end) return null;
  const all = body + Buffer.from(end).toString("latin1");
  return all.slice(0, -3).split("\r\n").map((l) => (l.startsWith(".") ? l.slice(1) : l)).join("\r\n");
}

describe("createCrlfNormalizer()", () => {
  const CASES = [
    ["a\nb\n", "a\r\nb\r\n"],
    ["a\r\nb\r\n", "a\r\nb\r\n"],
    ["a\rb\r", "a\r\nb\r\n"],
    ["a\r\r\nb\n\n", "a\r\n\r\nb\r\n\r\n"],
    ["", ""],
  ] as const;
  for (const [input, want] of CASES) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(want)}, whole or byte by byte`, () => {
      const bytes = Buffer.from(input, "latin1");
      assert.equal(normalize([bytes]), want);
      assert.equal(normalize([...bytes].map((b) => Uint8Array.of(b))), want);
    });
  }
  it("agrees with the DATA encoder on any message that ends in a line end, however it is cut", () => {
    const chunk = fc.uint8Array({ maxLength: 40 }).map((a) => a.map((b) => [10, 13, 46, 97][b % 4]!));
    fc.assert(fc.property(fc.array(chunk, { maxLength: 8 }), (chunks) => {
      const want = sent(chunks);
      if (want === null) return;
      assert.equal(normalize(chunks), want);
    }), { numRuns: Number(process.env.QM_FUZZ_RUNS ?? 2000) });
  });
});
