/**
 * users/assign and users/cdb (docs/qmail.md §3.3) and qmail-getpw's prefix rule
 * (§3.2). Pure: the caller reads the files.
 */
import { fromBytes, toBytes } from "../base/bytes.ts";
import { cdbFind, type CdbRecord } from "../base/cdb.ts";
import { ok, temp, type Result } from "../base/result.ts";

/** Where a local part is delivered: qmail-local's user, home, dash and ext, with the uid/gid to run as. */
export interface Assignment {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly dash: string;
  readonly ext: string;
  /** A virtual user's mailbox (control/virtualusers): the default delivery instead of control/defaultdelivery. */
  readonly mailbox?: string;
  /** ... and its Maildir++ quota line. */
  readonly quota?: string | null;
}

const MAX_ASSIGN_LINES = 1_000_000;

/** users/assign text → cdb records, as qmail-newu writes them. Bad format is temp (qmail-newu exits 111). */
export function compileAssign(text: string): Result<CdbRecord[]> {
  if (text.includes("\0")) return temp("users/assign: bad format: NUL", "4.3.0");
  const records: CdbRecord[] = [];
  const wild: string[] = [];
  let pos = 0;
  for (let n = 0; n < MAX_ASSIGN_LINES; n++) {
    const nl = text.indexOf("\n", pos);
    if (pos < text.length && text[pos] === ".") return finish(records, wild);
    if (nl < 0) return temp("users/assign: bad format: no final . line", "4.3.0");
    const line = text.slice(pos, nl);
    pos = nl + 1;
    const fields = line.slice(1).split(":");
    if (fields.length < 8 || (fields[0] === "" && line[0] !== "+")) return temp(`users/assign: bad format: ${line.slice(0, 80)}`, "4.3.0");
    const key = fields[0]!.toLowerCase();
    const data = fields.slice(1, 7).join("\0");
    if (line[0] === "+") {
      const last = key[key.length - 1];
      if (last !== undefined && !wild.includes(last)) wild.push(last);
      records.push({ key: toBytes(`!${key}`), data: toBytes(data) });
    } else {
      records.push({ key: toBytes(`!${key}\0`), data: toBytes(data) });
    }
  }
  return temp("users/assign: too many lines", "4.3.0");
}
function finish(records: CdbRecord[], wild: string[]): Result<CdbRecord[]> {
  return ok([...records, { key: new Uint8Array(0), data: toBytes(wild.join("")) }]);
}

/** Characters control/extdelimiters may name: punctuation that no file name or route reads specially. */
const DELIMITER_OK = /^[-+=_#~!$%^&*]$/;

/** control/extdelimiters' first line → its delimiter characters; "-" when it names none. */
export function parseDelimiters(line: string | null): string {
  const chars = [...new Set([...(line ?? "")])].filter((c) => DELIMITER_OK.test(c));
  return chars.length > 0 ? chars.join("") : "-";
}

/** qmail-lspawn's users/cdb lookup: exact "=" first, then "+" prefixes ending in a wildcard char. */
export function lookupAssign(db: Uint8Array, local: string): Assignment | null {
  const probe = `!${local.toLowerCase()}\0`;
  const exact = cdbFind(db, toBytes(probe));
  if (exact) return decode(exact, "");
  const wild = fromBytes(cdbFind(db, new Uint8Array(0)) ?? new Uint8Array(0));
  for (let len = probe.length - 1; len >= 1; len--) {
    const prefix = probe.slice(0, len);
    if (len !== 1 && !wild.includes(prefix[len - 1]!)) continue;
    const hit = cdbFind(db, toBytes(prefix));
    if (hit) return decode(hit, local.slice(len - 1));
  }
  return null;
}
function decode(data: Uint8Array, tail: string): Assignment | null {
  const f = fromBytes(data).split("\0");
  if (f.length < 6) return null;
  const uid = Number(f[1]);
  const gid = Number(f[2]);
  if (!/^\d+$/.test(f[1]!) || !/^\d+$/.test(f[2]!)) return null;
  return { user: f[0]!, uid, gid, home: f[3]!, dash: f[4]!, ext: f[5]! + tail };
}

/**
 * qmail-getpw candidates, longest first: the whole local, then each prefix
 * ending before a delimiter (control/extdelimiters, default "-"). The dash
 * is always "-", whichever delimiter split the address: `ann+tag` and
 * `ann-tag` both read `.qmail-tag`.
 */
export function getpwCandidates(local: string, delimiters = "-"): { name: string; dash: string; ext: string }[] {
  const out: { name: string; dash: string; ext: string }[] = [];
  for (let i = local.length; i >= 0; i--) {
    if (i < local.length && !delimiters.includes(local[i]!)) continue;
    if (i >= 32 || i === 0) continue;
    const whole = i === local.length;
    out.push({ name: local.slice(0, i).toLowerCase(), dash: whole ? "" : "-", ext: whole ? "" : local.slice(i + 1) });
  }
  return out;
}
