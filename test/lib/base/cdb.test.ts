import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildCdb, cdbFind, cdbFindAll, cdbHash } from "../../../core/lib/base/cdb.ts";

const e = (s: string) => new TextEncoder().encode(s);
const d = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe("cdbHash()", () => {
  it("starts at 5381 and follows h = (h * 33) ^ c mod 2^32", () => {
    assert.equal(cdbHash(e("")), 5381);
    assert.equal(cdbHash(e("a")), ((5381 * 33) ^ 97) >>> 0);
    let h = 5381;
    for (const c of e("a much longer key to wrap 32 bits")) h = Number((BigInt(h) * 33n) % 2n ** 32n) ^ c;
    assert.equal(cdbHash(e("a much longer key to wrap 32 bits")), h >>> 0);
  });
});

describe("buildCdb()", () => {
  it("writes the 2048-byte header, records, then tables: an empty db is 2048 bytes", () => {
    const db = buildCdb([]);
    assert.equal(db.length, 2048);
    const dv = new DataView(db.buffer);
    for (let i = 0; i < 256; i++) {
      assert.equal(dv.getUint32(i * 8, true), 2048);
      assert.equal(dv.getUint32(i * 8 + 4, true), 0);
    }
  });
  it("stores one record as klen, dlen, key, data at offset 2048", () => {
    const db = buildCdb([{ key: e("one"), data: e("1") }]);
    const dv = new DataView(db.buffer);
    assert.equal(dv.getUint32(2048, true), 3);
    assert.equal(dv.getUint32(2052, true), 1);
    assert.equal(d(db.subarray(2056, 2060)), "one1");
    assert.equal(db.length, 2048 + 8 + 4 + 16); // one table of 2 entries
  });
});

describe("cdbFind()", () => {
  it("finds each of 5000 keys and misses keys not stored", () => {
    const records = Array.from({ length: 5000 }, (_, i) => ({ key: e(`key${i}`), data: e(`value${i}`) }));
    const db = buildCdb(records);
    for (let i = 0; i < 5000; i += 7) assert.equal(d(cdbFind(db, e(`key${i}`))), `value${i}`);
    assert.equal(cdbFind(db, e("key5000")), null);
    assert.equal(cdbFind(db, e("")), null);
  });
  it("returns repeated keys in insertion order, the first for cdbFind", () => {
    const db = buildCdb([{ key: e("k"), data: e("1") }, { key: e("x"), data: e("") }, { key: e("k"), data: e("2") }]);
    assert.deepEqual(cdbFindAll(db, e("k")).map(d), ["1", "2"]);
    assert.equal(d(cdbFind(db, e("k"))), "1");
    assert.equal(d(cdbFind(db, e("x"))), "");
  });
  it("never throws on a truncated or garbage file", () => {
    const db = buildCdb(Array.from({ length: 100 }, (_, i) => ({ key: e(`k${i}`), data: e(`v${i}`) })));
    for (const cut of [0, 1, 100, 2047, 2048, 2100, db.length - 1]) {
      for (let i = 0; i < 100; i += 13) cdbFindAll(db.subarray(0, cut), e(`k${i}`));
    }
    const junk = new Uint8Array(4096).map((_, i) => (i * 7919) & 255);
    assert.doesNotThrow(() => cdbFindAll(junk, e("anything")));
  });
});
