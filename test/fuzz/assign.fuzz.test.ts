import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileAssign, getpwCandidates, lookupAssign } from "../../core/lib/local/assign.ts";
import { buildCdb } from "../../core/lib/base/cdb.ts";
import { byteString, params, timed, tokens } from "../support/fuzz.ts";

// users/assign is root's file, but the local part looked up in users/cdb is
// the sender's choice.

const name = fc.stringMatching(/^[a-z0-9][a-z0-9.]{0,8}$/);
const entry = fc.record({ wild: fc.boolean(), local: name, user: name, uid: fc.integer({ min: 1, max: 60000 }), gid: fc.integer({ min: 1, max: 60000 }), dash: fc.constantFrom("", "-"), ext: fc.constantFrom("", "x", "list") });

describe("compileAssign() and lookupAssign()", () => {
  it("find each = line's user for its exact local part", () => {
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.local, maxLength: 20 }), (entries) => {
        const text = entries.map((e) => `=${e.local}:${e.user}:${e.uid}:${e.gid}:/home/${e.user}:${e.dash}:${e.ext}:\n`).join("") + ".\n";
        const recs = compileAssign(text);
        assert.equal(recs.kind, "ok");
        if (recs.kind !== "ok") return;
        const db = buildCdb(recs.value);
        for (const e of entries) {
          const hit = lookupAssign(db, e.local.toUpperCase());
          assert.deepEqual(hit, { user: e.user, uid: e.uid, gid: e.gid, home: `/home/${e.user}`, dash: e.dash, ext: e.ext });
        }
      }),
      params(500),
    );
  });

  it("answers any users/assign text with records or a temp failure", () => {
    const text = tokens(["=", "+", ":", "\n", ".\n", "0", "a", "/home/a", "-", "\0", "\xff"], 40);
    fc.assert(
      fc.property(text, (t) => {
        const r = timed(() => compileAssign(t));
        if (r.kind !== "ok") return assert.match(r.status, /^4\./);
        const db = buildCdb(r.value);
        lookupAssign(db, "a");
      }),
      params(3000),
    );
  });

  it("answers any local part against any users/cdb with an assignment (numeric uid/gid) or null, in bounded time", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: byteString(8).map((s) => Buffer.from(s, "latin1")), data: byteString(40).map((s) => Buffer.from(s, "latin1")) }), { maxLength: 30 }), byteString(2000), (recs, l) => {
        const hit = timed(() => lookupAssign(buildCdb(recs), l), 200);
        if (hit) assert.ok(Number.isInteger(hit.uid) && Number.isInteger(hit.gid) && hit.uid >= 0);
        // each candidate is the whole local part, or a prefix that ends just before a "-" with the rest as ext
        for (const c of getpwCandidates(l)) {
          assert.ok(c.name.length < 32 && c.name !== "");
          assert.equal(c.name, l.slice(0, c.name.length).toLowerCase());
          if (c.dash === "") assert.ok(c.name.length === l.length && c.ext === "");
          else assert.ok(c.dash === "-" && l[c.name.length] === "-" && c.ext === l.slice(c.name.length + 1));
        }
      }),
      params(1000),
    );
  });
});
