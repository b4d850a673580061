/**
 * Downed-host memory (docs/qmail.md §5.6), as qmail's queue/lock/tcpto but wide
 * enough for IPv6: 64 records × 24 bytes. A record: bytes 0–15 the address
 * (IPv4 as ::ffff:a.b.c.d), byte 16 the count of recent timeouts (≤ 10),
 * bytes 20–23 LE32 unix time of the last counted timeout; the rest zero.
 */
export const RECORDS = 64;
const RECORD_SIZE = 24;
export const TABLE_SIZE = RECORDS * RECORD_SIZE;
const COUNT_MAX = 10;
const RECOUNT_AFTER = 120; // seconds: timeouts closer together count once

export function emptyTable(): Uint8Array {
  return new Uint8Array(TABLE_SIZE);
}

/** An IPv4 or IPv6 text address → 16 bytes; null when it is neither. */
export function addressBytes(ip: string): Uint8Array | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  const out = new Uint8Array(16);
  if (v4) {
    const q = v4.slice(1).map(Number);
    if (q.some((o) => o > 255)) return null;
    out.set([0xff, 0xff, ...q], 10);
    return out;
  }
  let text = ip.toLowerCase();
  const tail = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const b = addressBytes(tail[2] ?? "");
    if (!b) return null;
    text = `${tail[1]}${((b[12]! << 8) | b[13]!).toString(16)}:${((b[14]! << 8) | b[15]!).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 1 && fill !== 0) || (halves.length === 2 && fill < 1)) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...rest];
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? "";
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    out[i * 2] = parseInt(g, 16) >> 8;
    out[i * 2 + 1] = parseInt(g, 16) & 0xff;
  }
  return out;
}

function find(table: Uint8Array, addr: Uint8Array): number {
  for (let i = 0; i < RECORDS; i++) {
    const off = i * RECORD_SIZE;
    if (table[off + 16] !== 0 && addr.every((b, j) => table[off + j] === b)) return off;
  }
  return -1;
}
function when(table: Uint8Array, off: number): number {
  return (table[off + 20]! | (table[off + 21]! << 8) | (table[off + 22]! << 16) | (table[off + 23]! << 24)) >>> 0;
}
function setWhen(table: Uint8Array, off: number, t: number): void {
  for (let k = 0; k < 4; k++) table[off + 20 + k] = (t >>> (8 * k)) & 0xff;
}

/** qmail's tcpto(): skip an address with ≥ 2 recent timeouts, for (60 + (pid & 31)) << 6 seconds. */
export function isDown(table: Uint8Array, ip: string, now: number, pid: number): boolean {
  const addr = addressBytes(ip);
  const off = addr && table.length === TABLE_SIZE ? find(table, addr) : -1;
  if (off < 0 || table[off + 16]! < 2) return false;
  return now - when(table, off) < (60 + (pid & 31)) << 6;
}

/** qmail's tcpto_err(): after a connect attempt. Returns a new table. */
export function recordAttempt(table: Uint8Array, ip: string, timedOut: boolean, now: number): Uint8Array {
  const addr = addressBytes(ip);
  const t = table.length === TABLE_SIZE ? table.slice() : emptyTable();
  if (!addr) return t;
  let off = find(t, addr);
  if (!timedOut) {
    if (off >= 0) t.fill(0, off, off + RECORD_SIZE);
    return t;
  }
  if (off >= 0) {
    if (now - when(t, off) < RECOUNT_AFTER) return t;
    t[off + 16] = Math.min(COUNT_MAX, t[off + 16]! + 1);
    setWhen(t, off, now);
    return t;
  }
  off = victim(t);
  t.fill(0, off, off + RECORD_SIZE);
  t.set(addr, off);
  t[off + 16] = 1;
  setWhen(t, off, now);
  return t;
}

/** A free slot, else the one with the smallest when + (count << 10). */
function victim(t: Uint8Array): number {
  let best = 0;
  let bestScore = Infinity;
  for (let i = 0; i < RECORDS; i++) {
    const off = i * RECORD_SIZE;
    if (t[off + 16] === 0) return off;
    const score = when(t, off) + (t[off + 16]! << 10);
    if (score < bestScore) [best, bestScore] = [off, score];
  }
  return best;
}
