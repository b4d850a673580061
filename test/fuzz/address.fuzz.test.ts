import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { addrText, formatItem, listAddrs, parseAddressList, quote } from "../../core/lib/inject/address.ts";
import { tokenize } from "../../core/lib/inject/token822.ts";
import { HOSTILE, params, timed, tokens } from "../support/fuzz.ts";

// RFC 822 address lists from message headers (qm inject, forward, bounces):
// written by anyone who can send mail.

const body = tokens([...HOSTILE, "Name", "<a@b>", "a@b.c", "grp:", ";", "(c)", '"q"', "[1.2.3.4]", "\\"], 25);

describe("tokenize() and parseAddressList()", () => {
  it("answer any field body with items or a perm failure, in bounded time", () => {
    fc.assert(
      fc.property(body, (b) => {
        const t = timed(() => tokenize(b));
        if (t.kind !== "ok") assert.match(t.status, /^5\./);
        const r = timed(() => parseAddressList(b));
        if (r.kind !== "ok") return assert.match(r.status, /^5\./);
        for (const it of r.value) assert.ok(typeof formatItem(it) === "string");
      }),
      params(5000),
    );
  });

  it("parses back what formatItem() wrote: the same envelope addresses", () => {
    fc.assert(
      fc.property(body, (b) => {
        if (b.includes("\\")) return; // a backslash in a domain does not survive: see the todo test below
        const r = parseAddressList(b);
        if (r.kind !== "ok") return;
        const text = r.value.map(formatItem).filter((s) => s !== "").join(", ");
        const again = parseAddressList(text);
        assert.equal(again.kind, "ok", `formatted ${JSON.stringify(text)} from ${JSON.stringify(b)} does not parse`);
        if (again.kind !== "ok") return;
        // qmail drops one trailing "." (then one "@") on every parse, so "b.c.." shrinks a little each pass
        const norm = (items: Parameters<typeof listAddrs>[0]) => listAddrs(items).map((a) => addrText(a).replace(/[.@]+$/, ""));
        assert.deepEqual(norm(again.value), norm(r.value), `through ${JSON.stringify(text)}`);
      }),
      params(3000),
    );
  });

  it("quote() makes any local part parse back to itself, and one with a control character a perm failure", () => {
    fc.assert(
      fc.property(tokens(HOSTILE, 8), (local) => {
        if (local === "") return;
        const r = parseAddressList(`${quote(local)}@example.org`);
        if (/[\x00-\x1f\x7f]/.test(local)) return assert.equal(r.kind, "perm");
        assert.equal(r.kind, "ok", JSON.stringify(quote(local)));
        if (r.kind === "ok") assert.deepEqual(listAddrs(r.value).map(addrText), [`${local}@example.org`]);
      }),
      params(3000),
    );
  });

  // Found by the round-trip property above (fuzz, 2026-11-29): an escaped
  // special inside a domain atom could not be written back parsably. The fix
  // refuses such a domain outright, permanently, rather than queue it.
  it("refuses a domain holding an escaped special, so nothing unparsable is written back", () => {
    for (const input of ["a@b.c\\<", "a@b\\,c", "a@\"b c\""]) {
      const r = parseAddressList(input);
      if (r.kind === "ok") {
        const text = r.value.map(formatItem).join(", ");
        assert.equal(parseAddressList(text).kind, "ok", `formatItem wrote ${JSON.stringify(text)}`);
      } else {
        assert.equal(r.kind, "perm", input);
      }
    }
    assert.equal(parseAddressList("a@b.c\\<").kind, "perm");
  });
});
