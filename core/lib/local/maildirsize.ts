/**
 * Maildir++ quotas (Courier's maildirquota, as Courier and Dovecot write
 * them): the file `maildirsize` in the Maildir holds the quota on its first
 * line (`<bytes>S`, `<messages>C`, comma-separated; 0 or absent: no limit),
 * then lines `<bytes> <messages>`, signed, one per change; the usage is
 * their sum. A file of 5120 bytes or more, or one whose lines do not parse,
 * is recalculated from the messages' sizes (`,S=<size>` in a name, else the
 * file's size). Pure: core/io/local/quota.ts reads and writes it.
 */

export interface Quota {
  readonly bytes: number; // 0: no limit
  readonly count: number; // 0: no limit
}

export interface MaildirSize {
  readonly quota: Quota;
  readonly usedBytes: number;
  readonly usedCount: number;
  /** The usage lines must be recalculated from the messages. */
  readonly recalc: boolean;
}

/** A file this long is recalculated (the spec's 5120 bytes). */
export const RECALC_AT = 5120;
const MAX_NUMBER = Number.MAX_SAFE_INTEGER;

/** `<n>S,<n>C` in any order; unknown parts are skipped; null when nothing parses. */
export function parseQuotaSpec(line: string): Quota | null {
  let bytes = 0;
  let count = 0;
  let seen = false;
  for (const part of line.split(",")) {
    const m = /^\s*(\d{1,16})([SC])\s*$/.exec(part);
    if (!m) continue;
    const n = Math.min(Number(m[1]), MAX_NUMBER);
    if (m[2] === "S") bytes = n;
    else count = n;
    seen = true;
  }
  return seen ? { bytes, count } : null;
}

export function formatQuotaSpec(q: Quota): string {
  const parts = [...(q.bytes > 0 ? [`${q.bytes}S`] : []), ...(q.count > 0 ? [`${q.count}C`] : [])];
  return parts.length > 0 ? parts.join(",") : "0S";
}

/** The file's text → quota and usage; null when its first line is no quota (then no quota applies). */
export function parseMaildirSize(text: string): MaildirSize | null {
  const nl = text.indexOf("\n");
  const quota = parseQuotaSpec(nl < 0 ? text : text.slice(0, nl));
  if (!quota) return null;
  let usedBytes = 0;
  let usedCount = 0;
  let recalc = text.length >= RECALC_AT || nl < 0 || !text.endsWith("\n");
  for (const line of (nl < 0 ? "" : text.slice(nl + 1)).split("\n")) {
    if (line.trim() === "") continue;
    const m = /^\s*(-?\d{1,16})\s+(-?\d{1,16})\s*$/.exec(line);
    if (!m) {
      recalc = true;
      continue;
    }
    usedBytes += Number(m[1]);
    usedCount += Number(m[2]);
  }
  return { quota, usedBytes: Math.max(0, usedBytes), usedCount: Math.max(0, usedCount), recalc };
}

/** Would one more message of `size` bytes go over the quota? */
export function overQuota(m: MaildirSize, size: number): boolean {
  return (m.quota.bytes > 0 && m.usedBytes + size > m.quota.bytes) || (m.quota.count > 0 && m.usedCount + 1 > m.quota.count);
}

export function usageLine(bytes: number, count: number): string {
  return `${bytes} ${count}\n`;
}

/** The size a Maildir++ name carries (`,S=<n>` before any `:`), or null. */
export function sizeFromName(name: string): number | null {
  const m = /,S=(\d{1,16})(?:[,:]|$)/.exec(name.split(":")[0] ?? "");
  return m ? Number(m[1]) : null;
}
