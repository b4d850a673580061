import { appendFileSync, closeSync, fsyncSync, openSync, readdirSync, readSync, renameSync, statSync, writeSync, constants } from "node:fs";
import { join } from "node:path";
import { formatQuotaSpec, overQuota, parseMaildirSize, parseQuotaSpec, RECALC_AT, sizeFromName, usageLine, type MaildirSize, type Quota } from "../../lib/local/maildirsize.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText, isMissing } from "../base/errno.ts";

// Maildir++ quotas on disk (core/lib/local/maildirsize.ts): read
// `maildirsize`, recalculate it when the spec says so (new/ and cur/ of the
// Maildir and of each `.Folder`, written by temporary file and rename), and
// add one line per delivered message with one O_APPEND write, as Courier's
// deliverquota and Dovecot do. No maildirsize (or no quota on its first
// line): no quota.

const READ_MAX = 64 * 1024;
const FOLDERS_MAX = 10_000;

/**
 * The Maildir's quota state, null when it has none. A file that cannot be
 * read is a temporary failure. With recalc false the file is never
 * rewritten (a reader that is not the mailbox's owner): its sums are taken
 * as they stand.
 */
export function readMaildirSize(dir: string, opts: { recalc?: boolean } = {}): Result<MaildirSize | null> {
  let text: string;
  try {
    const fd = openSync(join(dir, "maildirsize"), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(READ_MAX);
      const n = readSync(fd, buf, 0, READ_MAX, 0);
      text = buf.subarray(0, n).toString("latin1");
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (isMissing(err)) return ok(null);
    return temp(`Unable to read ${join(dir, "maildirsize")}: ${errText(err)}`, "4.2.1");
  }
  const m = parseMaildirSize(text);
  if (!m || !m.recalc || opts.recalc === false) return ok(m);
  return recalculate(dir, m.quota);
}

/** Sums every message's size and rewrites maildirsize as quota line + one usage line. */
export function recalculate(dir: string, quota: Quota): Result<MaildirSize> {
  let bytes = 0;
  let count = 0;
  try {
    const folders = [dir, ...readdirSync(dir).filter((n) => n.startsWith(".") && n !== "." && n !== "..").slice(0, FOLDERS_MAX).map((n) => join(dir, n))];
    for (const f of folders) {
      for (const sub of ["new", "cur"]) {
        let names: string[];
        try {
          names = readdirSync(join(f, sub));
        } catch (err) {
          if (isMissing(err) || (err as { code?: string }).code === "ENOTDIR") continue;
          throw err;
        }
        for (const name of names) {
          if (name.startsWith(".")) continue;
          const s = sizeFromName(name) ?? statSize(join(f, sub, name));
          if (s === null) continue;
          bytes += s;
          count++;
        }
      }
    }
    const tmp = join(dir, "tmp", `maildirsize.${process.pid}.${Date.now()}`);
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, `${formatQuotaSpec(quota)}\n${usageLine(bytes, count)}`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, "maildirsize"));
  } catch (err) {
    return temp(`Unable to recalculate ${join(dir, "maildirsize")}: ${errText(err)}`, "4.2.1");
  }
  return ok({ quota, usedBytes: bytes, usedCount: count, recalc: false });
}

function statSize(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null; // gone meanwhile (a reader moved it): not counted
  }
}

/**
 * Whether a message of `size` bytes fits: "none" (no quota), "fits", or why
 * not. `limit` (a virtual user's quota line) is written into maildirsize
 * first when the file has none or another.
 */
export function quotaRefusal(dir: string, size: number, limit?: string | null): Result<"none" | "fits" | { readonly full: string }> {
  const m = limit ? withLimit(dir, limit) : readMaildirSize(dir);
  if (m.kind !== "ok") return m;
  if (!m.value) return ok("none");
  if (!overQuota(m.value, size)) return ok("fits");
  const q = m.value.quota;
  return ok({ full: `The mailbox is full: ${m.value.usedBytes} of ${q.bytes || "unlimited"} bytes and ${m.value.usedCount} of ${q.count || "unlimited"} messages used, this message has ${size} bytes` });
}

function withLimit(dir: string, limit: string): Result<MaildirSize | null> {
  const quota = parseQuotaSpec(limit);
  const m = readMaildirSize(dir);
  if (m.kind !== "ok" || !quota || (m.value && formatQuotaSpec(m.value.quota) === formatQuotaSpec(quota))) return m;
  return recalculate(dir, quota);
}

/** After a delivery: one usage line (best effort: the message is delivered either way; a later recalculation corrects). */
export function addUsage(dir: string, size: number): void {
  try {
    if (statSync(join(dir, "maildirsize")).size >= RECALC_AT * 4) return; // the next reader recalculates it
    appendFileSync(join(dir, "maildirsize"), usageLine(size, 1), { flag: "a" });
  } catch {
    // no maildirsize (no quota) or not writable: nothing to record
  }
}
