import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createFromQuoter } from "../../../core/lib/local/mbox-quote.ts";

function quote(text: string, chunk = 1_000_000): string {
  const q = createFromQuoter();
  const b = Buffer.from(text, "latin1");
  let out = "";
  for (let i = 0; i < b.length; i += chunk) out += Buffer.from(q.push(b.subarray(i, i + chunk))).toString("latin1");
  return out + Buffer.from(q.end()).toString("latin1");
}

describe("createFromQuoter()", () => {
  const CASES = [
    ["From x\n", ">From x\n"],
    [">From x\n", ">>From x\n"],
    [">>>From x\n", ">>>>From x\n"],
    ["a\nFrom b\nxFrom c\n", "a\n>From b\nxFrom c\n"],
    ["From", "From\n"],
    ["Fro\n>Fr\n>>", "Fro\n>Fr\n>>\n"],
    ["From:x\nfrom y\n", "From:x\nfrom y\n"],
    ["no newline", "no newline\n"],
    ["", ""],
  ] as const;
  for (const [input, want] of CASES) {
    it(`quotes ${JSON.stringify(input)} in any chunking`, () => {
      for (const size of [1, 2, 3, 7, 1_000_000]) assert.equal(quote(input, size), want, `chunk ${size}`);
    });
  }
  it("keeps memory bounded on a long run of >", () => {
    const long = `${">".repeat(200_000)}From x\n`;
    assert.equal(quote(long, 4096), `>${long}`);
  });
});
