import { toBytes } from "../base/bytes.ts";
import { cdbFind } from "../base/cdb.ts";

/**
 * qmail-smtpd's list lookups (docs/qmail.md §6.3). rcpthosts: a missing file
 * (null) accepts every domain; else the domain or any suffix starting at a
 * "." must be listed, in rcpthosts or as a key of morercpthosts.cdb.
 */
export function acceptsDomain(domain: string, rcpthosts: ReadonlySet<string> | null, mrh: Uint8Array | null): boolean {
  if (rcpthosts === null) return true;
  const d = domain.toLowerCase();
  const keys = [d];
  for (let i = 0; i < d.length; i++) if (d[i] === ".") keys.push(d.slice(i));
  return keys.some((k) => rcpthosts.has(k) || (mrh !== null && cdbFind(mrh, toBytes(k)) !== null));
}

/** badmailfrom: the whole address or "@domain" (from the last "@"), case-insensitively. */
export function inBadMailFrom(addr: string, list: ReadonlySet<string>): boolean {
  if (list.size === 0) return false;
  const a = addr.toLowerCase();
  const at = a.lastIndexOf("@");
  return list.has(a) || (at >= 0 && list.has(a.slice(at)));
}

/** qmail-newmrh: each line lowercased becomes a key with empty data. */
export function mrhRecords(lines: readonly string[]): { key: Uint8Array; data: Uint8Array }[] {
  return lines.map((l) => ({ key: toBytes(l.toLowerCase()), data: new Uint8Array(0) }));
}
