import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { badAddress, decodeEnvelope, encodeEnvelope, MAX_ADDR, readEnvelope, uniqueRecipients } from "../../../core/lib/queue/envelope.ts";
import { fromBytes, toBytes } from "../../../core/lib/base/bytes.ts";

const raw = (s: string) => toBytes(s);

describe("encodeEnvelope()", () => {
  it("writes F sender, T recipients, each NUL-terminated, then one extra NUL", () => {
    assert.equal(fromBytes(encodeEnvelope({ sender: "a@b", recipients: ["c@d", "e@f"] })), "Fa@b\0Tc@d\0Te@f\0\0");
  });
  it("writes the null sender as a bare F", () => {
    assert.equal(fromBytes(encodeEnvelope({ sender: "", recipients: [] })), "F\0\0");
  });
});

describe("decodeEnvelope()", () => {
  const CASES = [
    ["Fa@b\0Tc@d\0\0", { sender: "a@b", recipients: ["c@d"] }],
    ["F\0\0", { sender: "", recipients: [] }],
    ["F\0T\0\0", { sender: "", recipients: [""] }],
  ] as const;
  for (const [input, want] of CASES) {
    it(`decodes ${JSON.stringify(input)}`, () => {
      const r = decodeEnvelope(raw(input));
      assert.equal(r.kind, "ok");
      if (r.kind === "ok") assert.deepEqual(r.value, want);
    });
  }
  const BAD = [
    ["", "temp", "ended early"],
    ["X\0\0", "temp", "format"],
    ["Fa@b\0Xc@d\0\0", "temp", "format"],
    ["Fa@b\0Tc@d\0", "temp", "ended early"],
    ["Fa@b\0Tc@d", "temp", "ended early"],
    ["Fa@b", "temp", "ended early"],
    ["Fa@b\0\0garbage", "temp", "format"],
  ] as const;
  for (const [input, kind, why] of BAD) {
    it(`refuses ${JSON.stringify(input)} as ${kind} (${why})`, () => {
      const r = decodeEnvelope(raw(input));
      assert.equal(r.kind, kind);
      assert.match("reason" in r ? r.reason.toLowerCase() : "", new RegExp(why));
    });
  }
  it("accepts an address of MAX_ADDR - 1 bytes and refuses one of MAX_ADDR permanently", () => {
    const fits = "a".repeat(MAX_ADDR - 1);
    assert.equal(decodeEnvelope(raw(`F${fits}\0\0`)).kind, "ok");
    const r = decodeEnvelope(raw(`F\0T${"a".repeat(MAX_ADDR)}\0\0`));
    assert.equal(r.kind, "perm");
    if (r.kind === "perm") assert.equal(r.status, "5.1.3");
  });
  it("badAddress() draws the line where decodeEnvelope() does: MAX_ADDR - 1 bytes pass, MAX_ADDR do not", () => {
    for (const n of [MAX_ADDR - 2, MAX_ADDR - 1, MAX_ADDR, MAX_ADDR + 1]) {
      const a = "a".repeat(n);
      const decoded = decodeEnvelope(raw(`F${a}\0T${a}\0\0`)).kind === "ok";
      assert.equal(badAddress({ sender: a, recipients: [a] }) === null, decoded, `${n} bytes`);
      assert.equal(decoded, n < MAX_ADDR, `${n} bytes`);
    }
    assert.equal(badAddress({ sender: "", recipients: ["a\0b"] }), "a\0b");
  });
  it("keeps CR, LF, 8-bit and invalid UTF-8 bytes of an address unchanged", () => {
    const bytes = new Uint8Array([0x46, 0x61, 0x0d, 0x0a, 0xff, 0xc3, 0x28, 0x40, 0x62, 0, 0]);
    const r = decodeEnvelope(bytes);
    assert.equal(r.kind, "ok");
    if (r.kind === "ok") assert.deepEqual(encodeEnvelope(r.value), bytes);
  });
  it("round-trips 10 000 recipients", () => {
    const recipients = Array.from({ length: 10_000 }, (_, i) => `user${i}@example.test`);
    const r = decodeEnvelope(encodeEnvelope({ sender: "s@x", recipients }));
    assert.equal(r.kind, "ok");
    if (r.kind === "ok") assert.deepEqual(r.value.recipients, recipients);
  });
  it("stops at a 1 MB address without a NUL, permanently", () => {
    const r = decodeEnvelope(raw(`F${"x".repeat(1 << 20)}`));
    assert.equal(r.kind, "perm");
  });
});

describe("readEnvelope()", () => {
  /** A chunk source over `bytes` cut into pieces of `size`; counts the bytes it hands out. */
  function source(bytes: Uint8Array, size: number): { next: () => Promise<Uint8Array | null>; given: () => number } {
    let at = 0;
    return {
      next: async () => {
        if (at >= bytes.length) return null;
        const c = bytes.subarray(at, at + size);
        at += c.length;
        return c;
      },
      given: () => at,
    };
  }
  it("finds the end wherever the chunks are cut, and hands back the bytes after it", async () => {
    const bytes = raw("Fa@b\0Tc@d\0Te@f\0\0after");
    for (let size = 1; size <= bytes.length; size++) {
      const r = await readEnvelope(source(bytes, size).next, 1000);
      assert.equal(r.kind, "ok", `chunks of ${size}`);
      if (r.kind !== "ok") continue;
      assert.deepEqual(r.value.envelope, { sender: "a@b", recipients: ["c@d", "e@f"] });
      assert.equal(r.value.length, 16);
      const rest = fromBytes(r.value.rest);
      assert.ok("after".startsWith(rest), `chunks of ${size}: rest ${JSON.stringify(rest)}`);
    }
  });
  const CODES = [
    ["", 54],
    ["Fa@b\0Tc@d\0", 54],
    ["X\0\0", 91],
    ["\0\0", 91],
    ["Fa@b\0Xc\0\0", 91],
    [`F\0T${"a".repeat(MAX_ADDR)}`, 11],
  ] as const;
  for (const [input, code] of CODES) {
    it(`gives qmail-queue's ${code} for ${JSON.stringify(input.slice(0, 20))}`, async () => {
      const r = await readEnvelope(source(raw(input), 7).next, 1 << 20);
      assert.equal(r.kind === "ok" ? 0 : r.code, code);
    });
  }
  it("stops after max bytes without an end (91) and reads no further", async () => {
    const s = source(new Uint8Array(1 << 20).fill(0x41), 4096);
    const r = await readEnvelope(s.next, 65536);
    assert.equal(r.kind === "ok" ? 0 : r.code, 91);
    assert.ok(s.given() <= 65536 + 4096, `read ${s.given()} bytes`);
  });
  it("reads each byte of a long envelope once and stops at its end", async () => {
    const recips = Array.from({ length: 20000 }, (_, i) => `T${i}@example.test\0`).join("");
    const bytes = raw(`Fs@x\0${recips}\0${"m".repeat(100000)}`);
    const s = source(bytes, 65536);
    const r = await readEnvelope(s.next, 16 << 20);
    assert.equal(r.kind, "ok");
    if (r.kind === "ok") assert.equal(r.value.envelope.recipients.length, 20000);
    assert.ok(s.given() <= (r.kind === "ok" ? r.value.length : 0) + 65536);
  });
});

describe("uniqueRecipients()", () => {
  it("keeps each recipient once, the first spelling, in order: the domain's case does not count, the local part's does", () => {
    const env = { sender: "s@x.test", recipients: ["a@Example.TEST", "b@example.test", "a@example.test", "A@example.test", "a@EXAMPLE.test", "b@example.test", "noat", "noat", "NOAT"] };
    assert.deepEqual(uniqueRecipients(env), { sender: "s@x.test", recipients: ["a@Example.TEST", "b@example.test", "A@example.test", "noat", "NOAT"] });
  });
  it("takes the last @ as the domain's start and leaves an envelope without duplicates as it was", () => {
    const env = { sender: "", recipients: ['"a@b"@X.test', '"a@b"@x.TEST', "c@d"] };
    assert.deepEqual(uniqueRecipients(env).recipients, ['"a@b"@X.test', "c@d"]);
    const clean = { sender: "", recipients: ["a@x", "b@x"] };
    assert.equal(uniqueRecipients(clean), clean);
  });
  it("makes 1000 copies of one address one", () => {
    assert.deepEqual(uniqueRecipients({ sender: "", recipients: Array(1000).fill("postmaster@example.test") }).recipients, ["postmaster@example.test"]);
  });
});

describe("DSN records (qm's M and N, docs/queue.md §4)", () => {
  const dsn = { ret: "HDRS" as const, envid: "id 1", rcpts: new Map([["b@y", { notify: ["SUCCESS", "DELAY"] as const, orcpt: "rfc822;B@y" }]]) };
  const env = { sender: "a@x", recipients: ["b@y", "c@y"], dsn };
  it("are written only when asked (a qmail-queue program never sees them)", () => {
    assert.equal(fromBytes(encodeEnvelope(env)), "Fa@x\0Tb@y\0Tc@y\0\0");
    assert.equal(fromBytes(encodeEnvelope(env, { dsn: true })), "Fa@x\0MHDRS id+201\0NSUCCESS,DELAY rfc822;B@y\0Tb@y\0Tc@y\0\0");
  });
  it("round-trip through decodeEnvelope()", () => {
    assert.deepEqual(decodeEnvelope(encodeEnvelope(env, { dsn: true })), { kind: "ok", value: env });
  });
  it("refuse misplaced or malformed records (91 territory: a format error)", () => {
    for (const bad of ["Fa\0MFULL -\0MFULL -\0Tb\0\0", "Fa\0Tb\0MFULL -\0\0", "Fa\0NNEVER -\0\0", "Fa\0NNEVER -\0NNEVER -\0Tb\0\0", "Fa\0MBODY -\0Tb\0\0", "Fa\0NSOMETIMES -\0Tb\0\0", "Fa\0N- rfc822;a+zz\0Tb\0\0", "Fa\0MFULL\0Tb\0\0"]) {
      const r = decodeEnvelope(toBytes(bad));
      assert.equal(r.kind, "temp", JSON.stringify(bad));
    }
  });
  it("uniqueRecipients() keeps them", () => {
    assert.equal(uniqueRecipients({ ...env, recipients: ["b@y", "b@Y"] }).dsn, dsn);
  });
});
