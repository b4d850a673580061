import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HEADER_ONLY, parseAuthPolicy } from "../../../core/lib/dkim/authpolicy.ts";

describe("parseAuthPolicy()", () => {
  it("is header only for every check when no line says otherwise", () => {
    assert.deepEqual(parseAuthPolicy([]), { kind: "ok", value: HEADER_ONLY });
  });
  it("reads check:action lines, any case and spacing; a later line wins", () => {
    assert.deepEqual(parseAuthPolicy(["spf:reject", " DMARC : Reject "]), { kind: "ok", value: { spf: "reject", dmarc: "reject" } });
    assert.deepEqual(parseAuthPolicy(["spf:reject", "spf:header"]), { kind: "ok", value: HEADER_ONLY });
  });
  it("refuses anything else, naming the line (a typo must not turn a reject off silently)", () => {
    for (const bad of ["dmarc:rejet", "dkim:reject", "spf", "spf:reject:now", ":", "constructor:reject", "spf:__proto__", "spf:reject # note", "x".repeat(5000)]) {
      const r = parseAuthPolicy([bad]);
      assert.equal(r.kind, "temp", bad);
      if (r.kind === "temp") {
        assert.match(r.reason, /^control\/authpolicy: unusable line /);
        assert.ok(r.reason.length < 300, "the line is cut in the message");
      }
    }
  });
});
