import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { authservIds, formatAuthResults, headerEnd, stripForged } from "../../../core/lib/dkim/auth-results.ts";

describe("authservIds()", () => {
  it("reads the authserv-id as RFC 8601 does, and as a careless reader would", () => {
    const cases: [string, string | null][] = [
      [" mx.example.test; spf=pass", "mx.example.test"],
      [" MX.Example.Test.; none", "mx.example.test"],
      [" mx.example.test 1; dkim=pass", "mx.example.test"],
      [" (comment) mx.example.test; spf=pass", "mx.example.test"],
      [" (nested (comment)) mx.example.test;", "mx.example.test"],
      [' "mx.example.test"; spf=pass', "mx.example.test"],
      ["\n\tmx.example.test;\n\tspf=pass", "mx.example.test"],
      [" (mx.example.test) other.test; spf=pass", "other.test"],
      ["", null],
      [" ;", null],
    ];
    for (const [value, id] of cases) assert.equal(authservIds(value)[0] ?? null, id, JSON.stringify(value));
    // the first word inside a leading comment counts too: a reader that skips no comments sees it
    assert.ok(authservIds(" (mx.example.test) other.test; spf=pass").includes("mx.example.test"));
    assert.ok(authservIds(" (unclosed mx.example.test; spf=pass").includes("unclosed"));
  });
});

describe("stripForged()", () => {
  const head = [
    "Received: from x",
    "Authentication-Results: mx.example.test; dkim=pass",
    " header.d=bank.test",
    "authentication-results : (c) MX.EXAMPLE.TEST; spf=pass",
    "Authentication-Results: other.test; spf=pass",
    "\tsmtp.mailfrom=a@b",
    "X-Authentication-Results: mx.example.test; none",
    "Subject: hi",
  ].join("\n");
  it("removes each field, folded lines and all, that names our authserv-id; keeps others' and look-alikes", () => {
    const r = stripForged(head, "mx.example.test");
    assert.equal(r.removed, 2);
    assert.equal(r.head, ["Received: from x", "Authentication-Results: other.test; spf=pass", "\tsmtp.mailfrom=a@b", "X-Authentication-Results: mx.example.test; none", "Subject: hi"].join("\n"));
  });
  it("leaves a header without such fields as it was", () => {
    assert.deepEqual(stripForged("A: b\n c\nD: e\n", "mx.example.test"), { head: "A: b\n c\nD: e\n", removed: 0 });
  });
  it("is linear on many fields and long folded values", () => {
    const many = Array.from({ length: 20000 }, () => "Authentication-Results: mx.example.test;\n spf=pass").join("\n");
    assert.equal(stripForged(many, "mx.example.test").removed, 20000);
    const long = `Authentication-Results: ${"(".repeat(100000)}`;
    assert.equal(stripForged(long, "mx.example.test").removed, 0);
  });
});

describe("headerEnd()", () => {
  it("is the index after the header block's last line", () => {
    assert.equal(headerEnd("A: b\n\nbody\n"), 5);
    assert.equal(headerEnd("\nbody"), 0);
    assert.equal(headerEnd("A: b\n"), 5);
  });
});

describe("formatAuthResults()", () => {
  it("puts one result a line, LF-ended; none when there is nothing to say", () => {
    assert.equal(formatAuthResults("mx.example.test", ["spf=pass smtp.mailfrom=a@b", "dkim=none"]), "Authentication-Results: mx.example.test;\n\tspf=pass smtp.mailfrom=a@b;\n\tdkim=none\n");
    assert.equal(formatAuthResults("mx.example.test", []), "Authentication-Results: mx.example.test; none\n");
  });
  it("turns line ends, NUL and 8-bit bytes in a result into ?, so no field can be smuggled in", () => {
    assert.equal(formatAuthResults("m", ["spf=fail (a\nX-Evil: 1\r\0\xe9)"]), "Authentication-Results: m;\n\tspf=fail (a?X-Evil: 1???)\n");
  });
});
