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

/** control/senderlogins: each authenticated user and the envelope senders it may use. */
export type SenderLogins = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * `user:sender[,sender]...` lines (list lines, so # comments and blank
 * lines are skipped); a sender is an address or `@domain`; several lines for
 * one user add up; users and senders compare case-insensitively. A line
 * without a colon names no one and is ignored.
 */
export function parseSenderLogins(lines: readonly string[]): SenderLogins {
  const map = new Map<string, Set<string>>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const user = line.slice(0, colon).trim().toLowerCase();
    const set = map.get(user) ?? new Set<string>();
    for (const s of line.slice(colon + 1).split(/[ \t,]+/)) if (s !== "") set.add(s.toLowerCase());
    map.set(user, set);
  }
  return map;
}

/** May `user` send as `sender`? Without the file (null) anyone may; with it, only listed senders, never <>. */
export function senderAllowed(logins: SenderLogins | null, user: string, sender: string): boolean {
  if (logins === null) return true;
  const mine = logins.get(user.toLowerCase());
  if (!mine || sender === "") return false;
  const a = sender.toLowerCase();
  const at = a.lastIndexOf("@");
  return mine.has(a) || (at >= 0 && mine.has(a.slice(at)));
}
