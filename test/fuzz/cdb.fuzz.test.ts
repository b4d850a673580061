import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildCdb, cdbFind, cdbFindAll } from "../../core/lib/base/cdb.ts";
import { params, timed } from "../support/fuzz.ts";

// users/cdb, morercpthosts.cdb and the aliases cdb are files someone else
// wrote; a damaged or hostile one must give answers or misses, not a crash or
// a read outside the file.

const key = fc.uint8Array({ maxLength: 12 });
const records = fc.array(fc.record({ key, data: fc.uint8Array({ maxLength: 20 }) }), { maxLength: 60 });

describe("buildCdb() and cdbFindAll()", () => {
  it("find every value stored under a key, in order", () => {
    fc.assert(
      fc.property(records, key, (recs, probe) => {
        const db = buildCdb(recs);
        for (const r of recs) {
          const want = recs.filter((x) => Buffer.from(x.key).equals(Buffer.from(r.key))).map((x) => Buffer.from(x.data));
          assert.deepEqual(cdbFindAll(db, r.key).map((v) => Buffer.from(v)), want);
        }
        if (!recs.some((r) => Buffer.from(r.key).equals(Buffer.from(probe)))) assert.equal(cdbFind(db, probe), null);
      }),
      params(1000),
    );
  });

  it("answer lookups in random or damaged files with a value from inside the file or a miss", () => {
    const damaged = fc.tuple(records, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }), fc.nat()).map(([recs, flips, cut]) => {
      const db = Buffer.from(buildCdb(recs));
      for (const [at, v] of flips) db[at % db.length] = v;
      return { db: db.subarray(0, db.length - (cut % 64)), keys: recs.map((r) => r.key) };
    });
    fc.assert(
      fc.property(fc.oneof(damaged, fc.uint8Array({ maxLength: 4000 }).map((db) => ({ db, keys: [] as Uint8Array[] }))), key, ({ db, keys }, probe) => {
        for (const k of [probe, ...keys]) {
          const found = timed(() => cdbFindAll(db, k));
          for (const v of found) {
            assert.equal(v.buffer, db.buffer, "a value that is not a view into the file");
            assert.ok(v.byteOffset + v.length <= db.byteOffset + db.length);
          }
        }
      }),
      params(1500),
    );
  });

  it("bounds the probe loop by the file size even when a table claims 2^32 slots", () => {
    const db = new Uint8Array(2048 + 16);
    const dv = new DataView(db.buffer);
    for (let i = 0; i < 256; i++) {
      dv.setUint32(i * 8, 2048, true);
      dv.setUint32(i * 8 + 4, 0xffffffff, true);
    }
    assert.deepEqual(timed(() => cdbFindAll(db, Buffer.from("x")), 100), []);
  });
});
