import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, statSync, unlinkSync, constants } from "node:fs";
import { createFromQuoter } from "../../lib/local/mbox-quote.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "../base/errno.ts";
import { fsyncPath, writeAll } from "../base/sys.ts";
import { dirname } from "node:path";
import type { MessageSource } from "./message-source.ts";

// mbox delivery (docs/qmail.md §4.5): a dot-lock (<path>.lock, O_EXCL) for up to
// 30 s, append From_ + Return-Path + Delivered-To + the quoted message + one
// blank line, fsync (and the directory's when the file was created here);
// any failure truncates the file back to where it was.

const NL = Uint8Array.of(0x0a);
const LOCK_WAIT_MS = 30_000;
const LOCK_STALE_MS = 10 * 60_000;

export interface MboxOptions {
  readonly lockWaitMs?: number;
}

export async function deliverMbox(path: string, head: Uint8Array, msg: MessageSource, opts: MboxOptions = {}): Promise<Result<void>> {
  const lock = await dotLock(`${path}.lock`, opts.lockWaitMs ?? LOCK_WAIT_MS);
  if (lock.kind !== "ok") return lock;
  try {
    return await append(path, head, msg);
  } finally {
    if (lock.value) try { unlinkSync(`${path}.lock`); } catch { /* gone already */ }
  }
}

async function append(path: string, head: Uint8Array, msg: MessageSource): Promise<Result<void>> {
  let fd: number;
  let created = false;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") return temp(`Unable to open ${path}: ${errText(err)}`, "4.2.1");
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NONBLOCK, 0o600);
      created = true;
    } catch (err2) {
      return temp(`Unable to open ${path}: ${errText(err2)}`, "4.2.1");
    }
  }
  let start = -1;
  try {
    start = fstatSync(fd).size;
    writeAll(fd, head);
    const q = createFromQuoter();
    for await (const chunk of msg.chunks()) writeAll(fd, q.push(chunk));
    writeAll(fd, q.end());
    writeAll(fd, NL);
    fsyncSync(fd);
    if (created) await fsyncPath(dirname(path), { directory: true, blocking: true }); // the new name, on any file system
    closeSync(fd);
    return ok(undefined);
  } catch (err) {
    try {
      if (start >= 0) { ftruncateSync(fd, start); fsyncSync(fd); }
    } catch { /* the error below is what matters */ }
    try { closeSync(fd); } catch { /* closed or never valid */ }
    return temp(`Unable to write ${path}: ${errText(err)}`, "4.2.1");
  }
}

/** true: we hold the lock; false: no lock possible here (directory not writable), deliver unlocked as qmail does. */
async function dotLock(lock: string, waitMs: number): Promise<Result<boolean>> {
  const until = Date.now() + waitMs;
  for (let n = 0; n < 10_000; n++) {
    try {
      closeSync(openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
      return ok(true);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") return ok(false);
    }
    if (stale(lock)) { try { unlinkSync(lock); } catch { /* raced */ } continue; }
    if (Date.now() >= until) return temp(`${lock}: locked for ${Math.round(waitMs / 1000)} seconds`, "4.2.1");
    await new Promise((r) => setTimeout(r, 100));
  }
  return temp(`${lock}: unable to lock`, "4.2.1");
}
function stale(lock: string): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false;
  }
}
