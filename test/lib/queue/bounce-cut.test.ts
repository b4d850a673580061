import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { originalCutter } from "../../../core/lib/queue/bounce-cut.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (parts: Uint8Array[]) => Buffer.concat(parts).toString("latin1");

/** The cutter's output for `text` fed in chunks of the given sizes (the rest in one). */
function run(max: number, text: string, sizes: number[] = [], headersOnly = false): { out: string; cut: boolean } {
  const c = originalCutter(max, { headersOnly });
  const bytes = enc(text);
  const out: Uint8Array[] = [];
  let i = 0;
  for (const n of sizes) {
    if (i >= bytes.length) break;
    out.push(...c.feed(bytes.subarray(i, i + n)));
    i += n;
  }
  if (i < bytes.length) out.push(...c.feed(bytes.subarray(i)));
  out.push(...c.end());
  return { out: dec(out), cut: c.cut };
}

describe("originalCutter() (control/bouncemaxbytes)", () => {
  it("headersOnly: the header without its blank line, however the input is split", () => {
    const m = "Subject: hi\nFrom: a@b\n\nline one\nline two\n";
    for (const sizes of [[], [1, 1, 1], [23], [22, 1], [24]]) assert.deepEqual(run(1000, m, sizes, true), { out: "Subject: hi\nFrom: a@b\n", cut: false }, String(sizes));
  });
  it("headersOnly: a header over the limit is cut and nothing of the body follows", () => {
    const r = run(30, `Subject: hi\n${"X-Long: yes\n".repeat(10)}\nbody\n`, [], true);
    assert.equal(r.out, "Subject: hi\nX-Long: yes\n");
    assert.equal(r.cut, true);
  });
  it("headersOnly: a message that is all header passes whole", () => {
    assert.deepEqual(run(1000, "Subject: hi\nFrom: a@b", [], true), { out: "Subject: hi\nFrom: a@b", cut: false });
  });
  it("passes a message within the limit unchanged", () => {
    const m = "Subject: hi\nFrom: a@b\n\nline one\nline two\n";
    assert.deepEqual(run(1000, m), { out: m, cut: false });
  });
  it("cuts a long body at the end of a line within the limit, keeping the whole header", () => {
    const header = "Subject: big\nFrom: a@b\n\n";
    const body = "x".repeat(99) + "\n";
    const r = run(1000, header + body.repeat(100));
    assert.equal(r.cut, true);
    assert.equal(r.out, header + body.repeat(10));
  });
  it("cuts a line longer than the limit at the limit and ends it with a newline", () => {
    const r = run(50, `S: x\n\n${"y".repeat(500)}`);
    assert.equal(r.out, `S: x\n\n${"y".repeat(50)}\n`);
  });
  it("cuts a header over the limit, skips the rest of it, and still quotes the body's start", () => {
    const header = Array.from({ length: 100 }, (_, i) => `X-H${i}: ${"h".repeat(40)}\n`).join("");
    const r = run(200, `${header}\nbody\n`);
    assert.equal(r.cut, true);
    const [h, b] = r.out.split("\n\n");
    assert.ok(h!.length <= 200 && h!.startsWith("X-H0: "));
    assert.equal(b, "body\n");
  });
  it("takes a message with no blank line as all header; a leading blank line as an empty header", () => {
    assert.equal(run(20, "A: 1\nB: 2\nC: 3\nD: 4\nE: 5\n").out, "A: 1\nB: 2\nC: 3\nD: 4\n");
    assert.equal(run(3, "\nbody line\n").out, "\nbod\n");
  });
  it("gives the same output whatever the chunks (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "\n", ":", " "), maxLength: 400 }), fc.integer({ min: 0, max: 120 }), fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 40 }), (text, max, sizes) => {
        const whole = run(max, text);
        const pieces = run(max, text, sizes);
        assert.deepEqual(pieces, whole);
        const blank = text.startsWith("\n") ? -1 : text.indexOf("\n\n"); // a leading newline: an empty header
        const [h, b] = text.startsWith("\n") ? ["\n", text.slice(1)] : blank < 0 ? [text, ""] : [text.slice(0, blank + 2), text.slice(blank + 2)];
        assert.ok(whole.out.length <= Math.min(h.length, max + 1) + 1 + Math.min(b.length, max + 1), "at most the limit of each part and a newline");
        if (h.length <= max && b.length <= max) assert.equal(whole.out, text);
      }),
      { numRuns: 500 },
    );
  });
  it("stops reading a 50 MB body after the limit: done is set and nothing more passes", () => {
    const c = originalCutter(50_000);
    const chunk = new Uint8Array(65_536).fill(0x61);
    chunk[10] = 10;
    chunk[11] = 10; // header "aaaaaaaaaa\n\n"
    let bytes = 0;
    let fed = 0;
    while (!c.done && fed < 800) {
      bytes += c.feed(chunk).reduce((n, p) => n + p.length, 0);
      fed++;
    }
    assert.equal(c.done, true);
    assert.ok(fed <= 2, `read ${fed} chunks`);
    assert.ok(bytes <= 12 + 50_001, `${bytes} bytes`);
  });
});
