/**
 * djb's constant database (docs/qmail.md §11.5), over Uint8Array: the byte layout
 * cdbmake and tinycdb write and read. Pure: the caller reads and writes files.
 */
const HEADER = 2048;

/** h = 5381; h = ((h << 5) + h) ^ c, mod 2^32. */
export function cdbHash(key: Uint8Array): number {
  let h = 5381;
  for (const c of key) h = (((h << 5) + h) ^ c) >>> 0;
  return h;
}

export interface CdbRecord {
  readonly key: Uint8Array;
  readonly data: Uint8Array;
}

/** Builds a whole cdb file from records in insertion order. Throws RangeError past 4 GiB. */
export function buildCdb(records: Iterable<CdbRecord>): Uint8Array {
  const entries: { hash: number; pos: number }[] = [];
  const parts: Uint8Array[] = [];
  let pos = HEADER;
  for (const { key, data } of records) {
    const head = new Uint8Array(8);
    const dv = new DataView(head.buffer);
    dv.setUint32(0, key.length, true);
    dv.setUint32(4, data.length, true);
    parts.push(head, key, data);
    entries.push({ hash: cdbHash(key), pos });
    pos += 8 + key.length + data.length;
  }
  const buckets: { hash: number; pos: number }[][] = Array.from({ length: 256 }, () => []);
  for (const e of entries) buckets[e.hash & 255]!.push(e);
  const header = new Uint8Array(HEADER);
  const hv = new DataView(header.buffer);
  const tables: Uint8Array[] = [];
  for (let i = 0; i < 256; i++) {
    const bucket = buckets[i]!;
    const len = bucket.length * 2;
    hv.setUint32(i * 8, pos, true);
    hv.setUint32(i * 8 + 4, len, true);
    const table = new Uint8Array(len * 8);
    const tv = new DataView(table.buffer);
    for (const e of bucket) {
      let slot = (e.hash >>> 8) % len;
      while (tv.getUint32(slot * 8 + 4, true) !== 0) slot = (slot + 1) % len;
      tv.setUint32(slot * 8, e.hash, true);
      tv.setUint32(slot * 8 + 4, e.pos, true);
    }
    tables.push(table);
    pos += table.length;
  }
  if (pos > 0xffffffff) throw new RangeError("cdb would exceed 4 GiB");
  const out = new Uint8Array(pos);
  out.set(header, 0);
  let at = HEADER;
  for (const p of [...parts, ...tables]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Every data value stored under `key`, in insertion order; [] on a miss or a damaged file. */
export function cdbFindAll(db: Uint8Array, key: Uint8Array): Uint8Array[] {
  if (db.length < HEADER) return [];
  const dv = new DataView(db.buffer, db.byteOffset, db.byteLength);
  const h = cdbHash(key);
  const tpos = dv.getUint32((h & 255) * 8, true);
  const tlen = dv.getUint32((h & 255) * 8 + 4, true);
  if (tlen === 0 || tpos + tlen * 8 > db.length) return [];
  const found: Uint8Array[] = [];
  let slot = (h >>> 8) % tlen;
  for (let n = 0; n < tlen; n++) {
    const epos = tpos + slot * 8;
    const rpos = dv.getUint32(epos + 4, true);
    if (rpos === 0) break;
    if (dv.getUint32(epos, true) === h && rpos + 8 <= db.length) {
      const klen = dv.getUint32(rpos, true);
      const dlen = dv.getUint32(rpos + 4, true);
      const kstart = rpos + 8;
      if (klen === key.length && kstart + klen + dlen <= db.length && equal(db.subarray(kstart, kstart + klen), key)) {
        found.push(db.subarray(kstart + klen, kstart + klen + dlen));
      }
    }
    slot = (slot + 1) % tlen;
  }
  return found;
}

/** The first value stored under `key`, or null. */
export function cdbFind(db: Uint8Array, key: Uint8Array): Uint8Array | null {
  return cdbFindAll(db, key)[0] ?? null;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
