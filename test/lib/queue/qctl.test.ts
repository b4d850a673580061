import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_REASON, formatAge, formatListEntry, matches, messageJson, parseQctlArgs } from "../../../core/lib/queue/qctl.ts";
import type { QueuedMessage } from "../../../core/lib/queue/qread.ts";
import { params, timed } from "../../support/fuzz.ts";

describe("parseQctlArgs()", () => {
  const GOOD = [
    [["list"], { op: "list", sel: { ids: [] }, json: false }],
    [["list", "--json", "--domain", "Far.TEST", "--sender=<>", "--older", "60"], { op: "list", sel: { ids: [], domain: "far.test", sender: "<>", older: 60 }, json: true }],
    [["show", "#123"], { op: "show", sel: { ids: [123] }, json: false }],
    [["delete", "1", "2", "--", "3"], { op: "delete", sel: { ids: [1, 2, 3] }, json: false }],
    [["delete", "--sender", "-evil@x.test"], { op: "delete", sel: { ids: [], sender: "-evil@x.test" }, json: false }],
    [["flush"], { op: "flush", sel: { ids: [] }, json: false }],
    [["flush", "--domain", "far.test"], { op: "flush", sel: { ids: [], domain: "far.test" }, json: false }],
    [["requeue", "--all"], { op: "requeue", sel: { ids: [], all: true }, json: false }],
  ] as const;
  for (const [argv, want] of GOOD) {
    it(`reads ${argv.join(" ")}`, () => {
      const r = parseQctlArgs(argv);
      assert.equal(r.kind, "ok", JSON.stringify(r));
      assert.deepEqual(r.kind === "ok" ? { op: r.value.op, sel: r.value.sel, json: r.value.json } : null, want);
    });
  }
  it("takes a bounce reason, with a default", () => {
    const r = parseQctlArgs(["bounce", "--reason", "spam run", "5"]);
    assert.deepEqual(r.kind === "ok" && [r.value.reason, r.value.sel.ids], ["spam run", [5]]);
    const d = parseQctlArgs(["bounce", "5"]);
    assert.equal(d.kind === "ok" && d.value.reason, DEFAULT_REASON);
  });

  const BAD = [
    [[], /No operation given/],
    [["constructor"], /Unknown operation constructor/],
    [["__proto__"], /Unknown operation/],
    [["list", "7"], /Not a message id: 7/],
    [["show"], /needs a message id/],
    [["show", "1", "2"], /one message id/],
    [["delete"], /needs a message id/],
    [["delete", "0"], /Not a message id: 0/],
    [["delete", "12x"], /Not a message id/],
    [["delete", "99999999999999999"], /Not a message id/],
    [["delete", "-1"], /Not a message id/],
    [["delete", "1", "--domain", "x.test"], /not both/],
    [["delete", "--domain", "x.test", "--sender", "a@b"], /not both/],
    [["hold", "--domain", "x.test"], /does not take --domain/],
    [["list", "--older", "soon"], /--older needs a number/],
    [["list", "--older"], /--older needs a value/],
    [["list", "--json=yes"], /takes no value/],
    [["list", "--json", "--json"], /given twice/],
    [["list", "--domain", "a@b"], /--domain needs a domain/],
    [["requeue"], /needs a message id/],
    [["bounce", "--reason", "  ", "1"], /--reason needs a text/],
    [["bounce", "--reason", "x".repeat(1001), "1"], /--reason needs a text/],
  ] as const;
  for (const [argv, re] of BAD) {
    it(`refuses ${JSON.stringify(argv).slice(0, 60)} as permanent`, () => {
      const r = parseQctlArgs(argv);
      assert.equal(r.kind, "perm");
      assert.match(r.kind === "perm" ? r.reason : "", re);
    });
  }
  it("never throws on any argv (property)", () => {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 8 }), (argv) => void timed(() => parseQctlArgs(argv))), params(500));
  });
});

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const MSG: QueuedMessage = {
  id: 42,
  time: NOW - 3725_000,
  size: 678,
  sender: "Joe@Example.test",
  bouncing: false,
  held: false,
  recipients: [
    { channel: "local", done: true, addr: "a@example.test" },
    { channel: "remote", done: false, addr: "b@Far.test", nextTry: NOW / 1000 + 60, attempts: 2, lastTry: NOW / 1000 - 60, error: "451 later\nsecond line\n" },
    { channel: "remote", done: false, addr: "c\u00e9@far.test", nextTry: NOW / 1000 - 5 },
  ],
};

describe("matches()", () => {
  it("selects by a pending recipient's domain, the sender (any case) and age", () => {
    assert.equal(matches(MSG, { ids: [], domain: "far.test" }, NOW), true);
    assert.equal(matches(MSG, { ids: [], domain: "example.test" }, NOW), false, "a done recipient does not count");
    assert.equal(matches(MSG, { ids: [], sender: "joe@example.TEST" }, NOW), true);
    assert.equal(matches(MSG, { ids: [], sender: "<>" }, NOW), false);
    assert.equal(matches({ ...MSG, sender: "" }, { ids: [], sender: "<>" }, NOW), true);
    assert.equal(matches(MSG, { ids: [], older: 3700 }, NOW), true);
    assert.equal(matches(MSG, { ids: [], older: 3800 }, NOW), false);
  });
});

describe("formatListEntry() / messageJson()", () => {
  it("gives each recipient its state, attempts, next try and last error", () => {
    assert.equal(
      formatListEntry(MSG, NOW),
      "#42  1h02m  678  <Joe@Example.test>\n" +
        "  done     local   a@example.test\n" +
        "  pending  remote  b@Far.test  attempts 2  next 2026-12-06T12:01:00.000Z  last: 451 later / second line\n" +
        "  pending  remote  c_@far.test  next now\n",
    );
    assert.match(formatListEntry({ ...MSG, held: true, bouncing: true }, NOW), /^#42 .*  held  bouncing\n  done .*\n  held {5}remote/);
  });
  it("gives JSON with UTF-8 text and ISO times", () => {
    const j = messageJson(MSG, NOW, (s) => new TextDecoder().decode(Uint8Array.from(s, (c) => c.charCodeAt(0))));
    assert.equal(j.age, 3725);
    const r = j.recipients as Record<string, unknown>[];
    assert.deepEqual(r[1], { address: "b@Far.test", channel: "remote", state: "pending", attempts: 2, lastError: "451 later\nsecond line\n", lastTry: "2026-12-06T11:59:00.000Z", nextTry: "2026-12-06T12:01:00.000Z" });
    assert.equal(r[2]!.address, "c\ufffd@far.test");
    assert.equal(r[0]!.nextTry, null);
  });
  it("formats ages", () => {
    assert.deepEqual([0, 59, 187, 7500, 277200, -4].map(formatAge), ["0s", "59s", "3m07s", "2h05m", "3d05h", "0s"]);
  });
});
