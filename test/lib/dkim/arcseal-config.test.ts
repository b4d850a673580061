import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseArcSeal } from "../../../core/lib/dkim/config.ts";

describe("parseArcSeal()", () => {
  it("takes exactly one domain:selector:keyfile line", () => {
    assert.deepEqual(parseArcSeal(["Example.ORG:arc1:dkim/arc.key"]), { kind: "ok", value: { domain: "example.org", selector: "arc1", keyfile: "dkim/arc.key" } });
  });
  it("refuses none, two, or a bad line, naming control/arcseal", () => {
    for (const lines of [[], ["a.test:s:k", "b.test:s:k"], ["a.test:s"], ["bad domain:s:k"], ["a.test:s:"], [":::"]]) {
      const r = parseArcSeal(lines);
      assert.equal(r.kind, "temp", JSON.stringify(lines));
      if (r.kind === "temp") assert.match(r.reason, /control\/arcseal/);
    }
  });
});
