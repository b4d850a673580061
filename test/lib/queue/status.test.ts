import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { findStatus, formatStatus, MAX_ENTRIES, MAX_ERROR, MAX_LINE, parseStatus, recordAttempts, type StatusRecord } from "../../../core/lib/queue/status.ts";
import { byteString, params, timed } from "../../support/fuzz.ts";

const REC: StatusRecord = {
  birth: 1765000000,
  recipients: [
    { channel: "remote", addr: "bob@far.test", attempts: 3, lastTry: 1765000100, nextTry: 1765000500, error: "Connected to 192.0.2.1 but sender was rejected.\nRemote host said: 451 try later\n" },
    { channel: "local", addr: "a b%c\u00e9@example.test", attempts: 1, lastTry: 1765000010, nextTry: 1765000110, error: "" },
  ],
};

describe("formatStatus() / parseStatus()", () => {
  it("round-trips a record, escaping spaces, line breaks, % and 8-bit bytes", () => {
    const text = formatStatus(REC);
    assert.equal(text.split("\n").length, 4);
    assert.match(text, /^qm-status 1 1765000000\nremote 3 1765000100 1765000500 bob@far\.test Connected%20to%20/);
    assert.match(text, /local 1 1765000010 1765000110 a%20b%25c%e9@example\.test \n$/);
    assert.deepEqual(parseStatus(text), REC);
  });

  const HOSTILE: readonly (readonly [string, string])[] = [
    ["empty", ""],
    ["wrong magic", "qm-status 2 5\nremote 1 2 3 a@b x\n"],
    ["birth not a number", "qm-status 1 -5\n"],
    ["birth too long", `qm-status 1 ${"9".repeat(16)}\n`],
    ["binary", "\0\0\xff\xfe"],
  ];
  for (const [name, text] of HOSTILE) it(`answers null to a record with ${name}`, () => assert.equal(parseStatus(text), null));

  it("skips lines that do not parse and keeps the good ones", () => {
    const good = "remote 1 2 3 ok@x.test fine\n";
    const bad = [
      "smtp 1 2 3 a@b x", // unknown channel
      "remote -1 2 3 a@b x", // negative
      "remote 1 2 a@b x", // a field missing
      "remote 1 2 3 a@b x y", // a field too many (a raw space)
      "remote 1 2 3 a@b %zz", // bad escape
      "remote 1 2 3 a@b %4", // cut escape
      "remote 1 2 3 a\tb@x x", // a raw control byte
      "remote 1 2 3 a@b\u00e9 x", // a raw 8-bit byte
      `remote 1 2 3 a@b ${"x".repeat(MAX_LINE)}`, // over MAX_LINE
      "remote 1e3 2 3 a@b x",
      "__proto__ 1 2 3 a@b x",
    ];
    const r = parseStatus(`qm-status 1 7\n${bad.join("\n")}\n${good}remote 9 9 9 cut@x.test no-newline`);
    assert.deepEqual(r, { birth: 7, recipients: [{ channel: "remote", attempts: 1, lastTry: 2, nextTry: 3, addr: "ok@x.test", error: "fine" }] });
  });

  it(`reads at most ${MAX_ENTRIES} recipients`, () => {
    const r = parseStatus(`qm-status 1 1\n${"local 1 1 1 a@b x\n".repeat(MAX_ENTRIES + 5)}`);
    assert.equal(r?.recipients.length, MAX_ENTRIES);
  });

  it("never throws and round-trips any byte strings (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        timed(() => parseStatus(s));
        timed(() => parseStatus(`qm-status 1 1\n${s}`));
      }),
      params(300),
    );
    fc.assert(
      fc.property(byteString(200).filter((a) => a !== ""), byteString(MAX_ERROR), fc.nat(), (addr, error, n) => {
        const rec: StatusRecord = { birth: n, recipients: [{ channel: "remote", addr, attempts: n, lastTry: n, nextTry: n + 1, error }] };
        assert.deepEqual(parseStatus(formatStatus(rec)), rec);
      }),
      params(300),
    );
  });
});

describe("recordAttempts()", () => {
  it("counts attempts per channel and address, keeping the others", () => {
    let r = recordAttempts(null, 10, [{ channel: "remote", addr: "b@x", at: 20, next: 30, error: "first" }]);
    r = recordAttempts(r, 10, [
      { channel: "remote", addr: "b@x", at: 40, next: 90, error: "second" },
      { channel: "local", addr: "b@x", at: 40, next: 50, error: "local" },
    ]);
    assert.deepEqual(findStatus(r, 10, "remote", "b@x"), { channel: "remote", addr: "b@x", attempts: 2, lastTry: 40, nextTry: 90, error: "second" });
    assert.equal(findStatus(r, 10, "local", "b@x")?.attempts, 1);
    assert.equal(r.recipients.length, 2);
  });

  it("starts afresh over a record of an earlier message with the same inode (another birth)", () => {
    const old = recordAttempts(null, 10, [{ channel: "remote", addr: "b@x", at: 20, next: 30, error: "old" }]);
    const r = recordAttempts(old, 11, [{ channel: "remote", addr: "b@x", at: 20, next: 30, error: "new" }]);
    assert.equal(findStatus(r, 11, "remote", "b@x")?.attempts, 1);
    assert.equal(findStatus(old, 11, "remote", "b@x"), null);
  });

  it(`keeps ${MAX_ERROR} bytes of an error`, () => {
    const r = recordAttempts(null, 1, [{ channel: "remote", addr: "b@x", at: 2, next: 3, error: "e".repeat(MAX_ERROR * 5) }]);
    assert.equal(r.recipients[0]!.error.length, MAX_ERROR);
  });
});
