import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseFields, scanHeader } from "../../core/lib/base/header.ts";
import { params, timed, tokens } from "../support/fuzz.ts";

// Message headers: qm inject reads them from any program or user.

const text = tokens(["From: a@b\n", "To: x\n", "Subject:", " cont\n", "\tcont\n", "\n", "\r\n", "\r", "From x\n", "Bad line\n", ":\n", "X :\n", "\0", "\xff", "Received: x\n"], 40);

describe("scanHeader() and parseFields()", () => {
  it("find a header end inside the text, with head <= body", () => {
    fc.assert(
      fc.property(text, fc.boolean(), (t, eof) => {
        const s = timed(() => scanHeader(t, 0, eof));
        if (!s.done) return assert.ok(!eof && s.next >= 0 && s.next <= t.length);
        assert.ok(s.head >= 0 && s.head <= s.body && s.body <= t.length + 1, JSON.stringify(s));
      }),
      params(5000),
    );
  });

  it("resumes where it stopped: scanning in pieces gives the same end as scanning at once", () => {
    fc.assert(
      fc.property(text, fc.nat(), (t, cut) => {
        const whole = scanHeader(t, 0, true);
        const first = scanHeader(t.slice(0, cut % (t.length + 1)), 0, false);
        const again = first.done ? first : scanHeader(t, first.next, true);
        if (first.done && first.body > first.head) assert.deepEqual(again, whole);
        else if (!first.done) assert.deepEqual(again, whole);
      }),
      params(3000),
    );
  });

  it("keeps every byte of the header: the raw fields put together are the header", () => {
    fc.assert(
      fc.property(text, (t) => {
        const s = scanHeader(t, 0, true);
        if (!s.done) return;
        const head = t.slice(0, s.head);
        const fields = parseFields(head);
        for (const f of fields) {
          assert.ok(f.raw.endsWith("\n"));
          assert.ok(!f.key.includes(":") && !f.key.includes("\n"), JSON.stringify(f.key));
        }
        const want = head.replace(/\r(?=\n)/g, "").replace(/\r$/, "").replace(/^From /, "MBOX-Line: From ");
        assert.equal(fields.map((f) => f.raw).join("").replace(/\n$/, ""), want.replace(/\n$/, ""));
      }),
      params(3000),
    );
  });
});
