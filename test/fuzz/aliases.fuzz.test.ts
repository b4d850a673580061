import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileAliases, decodeInstructions, lookupKeys, parseIncludeList, splitTop } from "../../core/lib/local/aliases.ts";
import { buildCdb, cdbFind } from "../../core/lib/base/cdb.ts";
import { fromBytes, toBytes } from "../../core/lib/base/bytes.ts";
import { HOSTILE, params, timed, tokens } from "../support/fuzz.ts";

// /etc/aliases (newaliases) and :include: files: hand-edited, often
// generated from other systems; the compiled instructions drive forwards,
// programs and file deliveries.

const D = { defaultHost: "example.test", defaultDomain: "example.test", plusDomain: "example.test" };
const text = tokens([...HOSTILE, "root", "postmaster", ":", ": ", ", ", "\n", "\n ", "\n\t", "#", "|/bin/prog", "/var/mail/x", ":include:/etc/list", "<a@b>", "(comment)", '"q r"', "owner-list"], 30);

describe("compileAliases()", () => {
  it("answers any text with records or a perm failure naming a line; every instruction is one line", () => {
    fc.assert(
      fc.property(text, (t) => {
        const r = timed(() => compileAliases(t, D));
        if (r.kind !== "ok") return assert.match(r.reason, /^aliases(:| line \d+:)/);
        for (const rec of r.value) {
          const key = fromBytes(rec.key);
          assert.ok(key.startsWith(":") || key.startsWith("?"), key);
          if (!key.startsWith(":")) continue;
          for (const ins of decodeInstructions(fromBytes(rec.data))) {
            assert.match(ins[0] ?? "", /^[&|>./]$/, JSON.stringify(ins));
            assert.ok(!ins.includes("\n") && !ins.includes("\0"), `a line break in ${JSON.stringify(ins)}`);
            if (ins.startsWith("&")) assert.ok(ins.length <= 801);
          }
        }
      }),
      params(3000),
    );
  });

  it("finds every alias it compiled, with its completed addresses", () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/);
    const target = fc.stringMatching(/^[a-z][a-z0-9]{0,8}(@[a-z]{1,8}\.test)?$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, fc.array(target, { minLength: 1, maxLength: 4 })), { selector: (e) => e[0], maxLength: 15 }), (entries) => {
        const r = compileAliases(entries.map(([n, ts]) => `${n}: ${ts.join(", ")}\n`).join(""), D);
        assert.equal(r.kind, "ok");
        if (r.kind !== "ok") return;
        const db = buildCdb(r.value);
        for (const [n, ts] of entries) {
          const key = lookupKeys(":", `${n.toUpperCase()}@example.test`).map((k) => cdbFind(db, toBytes(k))).find((v) => v !== null);
          assert.ok(key, `alias ${n} not found`);
          assert.deepEqual(decodeInstructions(fromBytes(key)), ts.map((t) => `&${t.includes("@") ? t : `${t}@example.test`}`));
        }
      }),
      params(500),
    );
  });
});

describe("splitTop() and parseIncludeList()", () => {
  it("split any text in bounded time without losing a top-level item", () => {
    fc.assert(
      fc.property(text, (t) => {
        const parts = timed(() => splitTop(t, ","));
        assert.ok(parts.length >= 1 && parts.every((p) => !/\s\s/.test(p) && p === p.trim()));
        for (const l of timed(() => parseIncludeList(t, D))) assert.ok(!l.includes("\n") && l !== "");
      }),
      params(3000),
    );
  });
});
