import { randomBytes } from "node:crypto";
import { closeSync, linkSync, mkdirSync, openSync, unlinkSync, constants } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fsyncFd, fsyncPath, writeAll } from "../base/sys.ts";
import { maildirName } from "../../lib/local/maildir-name.ts";
import { ok, perm, temp, type Result } from "../../lib/base/result.ts";
import { addUsage, quotaRefusal } from "./quota.ts";
import { errText, fromErrno } from "../base/errno.ts";
import type { MessageSource } from "./message-source.ts";

// Maildir delivery (docs/qmail.md §4.5, §13): tmp/<unique>, fsync, link to
// new/<unique>, fsync new/ (on Linux the link is durable only then), unlink
// tmp/. Never overwrites: O_EXCL, then link() which fails on an existing
// name. Every failure is temporary, and ok only after the fsync of new/.

let seq = 0;
const TRIES = 3;
// random bytes drawn 4 KB at a time: one call a name cost more than the name's other work
let pool = new Uint8Array(0);
let poolAt = 0;
function random4(): Uint8Array {
  if (poolAt + 4 > pool.length) { pool = randomBytes(4096); poolAt = 0; }
  poolAt += 4;
  return pool.subarray(poolAt - 4, poolAt);
}
let host: string | undefined;

export function uniqueName(now = Date.now(), usec = Math.floor((performance.now() % 1000) * 1000)): string {
  return maildirName({
    sec: Math.floor(now / 1000),
    usec: (now % 1000) * 1000 + (usec % 1000),
    pid: process.pid,
    seq: ++seq,
    random: random4(),
    host: (host ??= hostname()),
  });
}

export interface MaildirOptions {
  /** Make a missing maildir first (control/maildircreate). */
  readonly create?: boolean;
  /**
   * Honour a Maildir++ quota (maildirsize, core/io/local/quota.ts): a
   * message that would go over it fails, 5.2.2 ("perm") or 4.2.2 ("temp",
   * control/quotawarn); a delivered one is added to maildirsize.
   */
  readonly quota?: "perm" | "temp";
  /** A quota line to hold the maildir to (a virtual user's, control/virtualusers). */
  readonly limit?: string | null;
  /** fsyncs in the thread pool, where concurrent deliveries share journal commits (qm local-worker); else in this thread. */
  readonly pooled?: boolean;
}

/**
 * Writes `head` then the message into maildir `dir`; the unique name on
 * success. With `create` (control/maildircreate), a maildir that is missing
 * (or lacks tmp/, new/ or cur/) is made first, mode 0700, by the uid
 * delivering; its parent must exist.
 */
export async function deliverMaildir(dir: string, head: Uint8Array, msg: MessageSource, opts: MaildirOptions = {}): Promise<Result<string>> {
  let fd = -1;
  let name = "";
  let made = false;
  for (let i = 0; i < TRIES && fd < 0; i++) {
    name = uniqueName();
    try {
      fd = openSync(join(dir, "tmp", name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOENT" && opts.create && !made) {
        const m = await fillMaildir(dir);
        if (m.kind !== "ok") return m;
        made = true;
        i--;
        continue;
      }
      if (code !== "EEXIST") return temp(`Unable to open ${join(dir, "tmp")}: ${errText(err)}`, "4.2.1");
    }
  }
  if (fd < 0) return temp("Unable to find a unique name in maildir tmp/", "4.2.1");
  const tmp = join(dir, "tmp", name);
  let size = head.length;
  let tracked = false;
  try {
    writeAll(fd, head);
    for await (const chunk of msg.chunks()) {
      writeAll(fd, chunk);
      size += chunk.length;
    }
    await fsyncFd(fd, !opts.pooled);
    closeSync(fd);
    fd = -1;
    const q = opts.quota ? quotaRefusal(dir, size, opts.limit) : ok("none" as const);
    if (q.kind !== "ok") {
      unlinkSync(tmp);
      return q;
    }
    if (typeof q.value === "object") {
      unlinkSync(tmp);
      return opts.quota === "perm" ? perm(q.value.full, "5.2.2") : temp(q.value.full, "4.2.2");
    }
    tracked = q.value === "fits";
    linkSync(tmp, join(dir, "new", name));
  } catch (err) {
    if (fd >= 0) try { closeSync(fd); } catch { /* the error below is what matters */ }
    try { unlinkSync(tmp); } catch { /* nothing more to undo */ }
    return temp(`Unable to write maildir ${dir}: ${errText(err)}`, "4.2.1");
  }
  try {
    await fsyncPath(join(dir, "new"), { directory: true, blocking: !opts.pooled });
  } catch (err) {
    // new/<name> may not survive a crash: a failure, so the delivery is tried again (a duplicate at worst)
    try { unlinkSync(join(dir, "new", name)); unlinkSync(tmp); } catch { /* the retry delivers it anew */ }
    return temp(`Unable to fsync ${join(dir, "new")}: ${errText(err)}`, "4.2.1");
  }
  try { unlinkSync(tmp); } catch { /* delivered; a stray tmp file is cleaned by readers after 36 h */ }
  if (tracked) addUsage(dir, size);
  return ok(name);
}



/** Maildir on demand: dir, tmp/, new/, cur/ as far as missing (never the parent), made durable. */
async function fillMaildir(dir: string): Promise<Result<void>> {
  try {
    for (const d of [dir, join(dir, "tmp"), join(dir, "new"), join(dir, "cur")]) {
      try {
        mkdirSync(d, { mode: 0o700 });
      } catch (err) {
        if ((err as { code?: string }).code !== "EEXIST") throw err;
      }
    }
    await fsyncPath(dir, { directory: true, blocking: true });
    await fsyncPath(join(dir, ".."), { directory: true, blocking: true });
    return ok(undefined);
  } catch (err) {
    return temp(`Unable to make maildir ${dir}: ${errText(err)}`, "4.2.1");
  }
}

/** maildirmake: dir plus tmp/ new/ cur/, mode 0700. An existing dir is an error, as in maildirmake. */
export function makeMaildir(dir: string): Result<void> {
  try {
    mkdirSync(dir, { mode: 0o700 });
    for (const sub of ["tmp", "new", "cur"]) mkdirSync(join(dir, sub), { mode: 0o700 });
    return ok(undefined);
  } catch (err) {
    return fromErrno(err, `Unable to make maildir ${dir}`);
  }
}
