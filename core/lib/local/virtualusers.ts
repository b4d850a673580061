/**
 * control/virtualusers (qm's own): mail users without system accounts, one
 * a line, `address:uid:gid:mailbox[:quota[:hash]]`:
 *   address  user@domain, matched without regard to case
 *   uid, gid the ids the delivery runs as (never uid 0)
 *   mailbox  an absolute Maildir path ending in "/"; its parent directory
 *            is the user's home (it must exist and belong to uid)
 *   quota    optional Maildir++ quota (`<bytes>S`, `<count>C`, or bytes)
 *   hash     optional password hash, kept for an AUTH back end (unused yet)
 * Empty lines and `#` lines are skipped; a later line for an address wins.
 * Pure: core/io/local/users.ts reads the file.
 */
import { ok, temp, type Result } from "../base/result.ts";
import { formatQuotaSpec, parseQuotaSpec } from "./maildirsize.ts";

export interface VirtualUser {
  readonly address: string; // lowercased
  readonly uid: number;
  readonly gid: number;
  readonly mailbox: string;
  /** A Maildir++ quota line (`100000S`), or null. */
  readonly quota: string | null;
  readonly hash: string | null;
}

const MAX_LINES = 1_000_000;
const MAX_FIELD = 1000;

export function parseVirtualUsers(text: string): Result<ReadonlyMap<string, VirtualUser>> {
  const out = new Map<string, VirtualUser>();
  const lines = text.split("\n");
  if (lines.length > MAX_LINES) return temp("control/virtualusers: too many lines", "4.3.0");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/[ \t\r]+$/, "");
    if (line === "" || line.startsWith("#")) continue;
    const u = parseLine(line);
    if (!u) return temp(`control/virtualusers: bad line ${i + 1}`, "4.3.0");
    out.set(u.address, u);
  }
  return ok(out);
}

function parseLine(line: string): VirtualUser | null {
  const f = line.split(":");
  if (f.length < 4 || f.length > 6 || f.some((x) => x.length > MAX_FIELD || x.includes("\0"))) return null;
  const [address, uid, gid, mailbox, quota = "", hash = ""] = f as [string, string, string, string, string?, string?];
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1 || /[\s<>]/.test(address)) return null;
  if (!/^\d{1,10}$/.test(uid) || !/^\d{1,10}$/.test(gid) || Number(uid) === 0) return null;
  if (!mailbox.startsWith("/") || !mailbox.endsWith("/") || mailbox === "/" || mailbox.split("/").some((c) => c === "..")) return null;
  let q: string | null = null;
  if (quota !== "") {
    const spec = /^\d{1,16}$/.test(quota) ? parseQuotaSpec(`${quota}S`) : parseQuotaSpec(quota);
    if (!spec) return null;
    q = formatQuotaSpec(spec);
  }
  return { address: address.toLowerCase(), uid: Number(uid), gid: Number(gid), mailbox, quota: q, hash: hash === "" ? null : hash };
}

/** The user's home: the mailbox's parent directory. */
export function virtualHome(u: VirtualUser): string {
  const trimmed = u.mailbox.replace(/\/+$/, "");
  return trimmed.slice(0, trimmed.lastIndexOf("/")) || "/";
}

/**
 * The virtual user an address names: the address itself, or, when the
 * local part starts with one of control/virtualdomains' prefixes (`P-user`,
 * as qm send makes it), the address without it.
 */
export function findVirtualUser(users: ReadonlyMap<string, VirtualUser>, local: string, domain: string, prefixes: Iterable<string>): VirtualUser | null {
  if (users.size === 0) return null;
  const lower = local.toLowerCase();
  const exact = users.get(`${lower}@${domain.toLowerCase()}`);
  if (exact) return exact;
  for (const p of prefixes) {
    if (p === "" || !lower.startsWith(`${p.toLowerCase()}-`)) continue;
    const hit = users.get(`${lower.slice(p.length + 1)}@${domain.toLowerCase()}`);
    if (hit) return hit;
  }
  return null;
}
