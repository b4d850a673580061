import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { authservIds, formatAuthResults, stripForged } from "../../core/lib/dkim/auth-results.ts";
import { parseAuthPolicy } from "../../core/lib/dkim/authpolicy.ts";
import { HOSTILE, params, timed, tokens } from "../support/fuzz.ts";

// What qm smtpd reads of a stranger's header to find forged
// Authentication-Results fields, and control/authpolicy.

const head = tokens([...HOSTILE, "Authentication-Results:", "authentication-results :", "mx.example.test", "MX.EXAMPLE.TEST", "(", ")", '"', ";", "\n", "\n ", "\n\t", "Subject: x"], 40);

describe("stripForged() on hostile headers", () => {
  it("never throws, takes bounded time, only removes lines, and leaves no field with our id", () => {
    fc.assert(
      fc.property(head, (h) => {
        const r = timed(() => stripForged(h, "mx.example.test"));
        assert.ok(r.head.length <= h.length);
        const lines = h.split("\n");
        for (const l of r.head.split("\n")) assert.ok(lines.includes(l), "every line kept is a line of the input");
        const again = stripForged(r.head, "mx.example.test");
        assert.equal(again.removed, 0, "nothing with our id is left");
      }),
      params(3000),
    );
  });
  it("authservIds() never throws and gives lowercased ids", () => {
    fc.assert(fc.property(head, (v) => timed(() => authservIds(v)).forEach((id) => assert.equal(id, id.toLowerCase()))), params(3000));
  });
  it("formatAuthResults() gives one field: no bare line end outside its folds", () => {
    fc.assert(
      fc.property(fc.array(head, { maxLength: 5 }), (entries) => {
        const f = formatAuthResults("mx.example.test", entries);
        assert.ok(f.endsWith("\n"));
        for (const line of f.slice(0, -1).split("\n").slice(1)) assert.ok(line.startsWith("\t"), JSON.stringify(f));
        assert.doesNotMatch(f, /[\r\0\x80-\xff]/);
      }),
      params(2000),
    );
  });
  it("parseAuthPolicy() never throws", () => {
    fc.assert(fc.property(fc.array(head, { maxLength: 4 }), (lines) => void timed(() => parseAuthPolicy(lines))), params(2000));
  });
});
