import { createHash, randomBytes } from "node:crypto";
import { chownSync, mkdirSync } from "node:fs";
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { decodeGreyRecord, encodeGreyRecord, greyDecide, type GreylistConfig } from "../../lib/smtpd/greylist.ts";
import { errText } from "../base/errno.ts";
import { getpwnam } from "../base/passwd.ts";
import { uid } from "../base/sys.ts";

/**
 * The greylisting store (qm-smtpd(8), "Greylisting"): $QMHOME/greylist/,
 * owned by the user the listener runs as, one small file a triple under
 * one of 256 buckets (`greylist/ab/<sha-256 of the triple>`), holding
 * "first last passed". Every listener process (and an inetd smtpd running
 * as that user) shares it, and it outlives restarts. A record is replaced
 * by writing a temporary file and renaming it over, so a reader never sees
 * half of one; two processes deciding the same new triple at once both
 * answer 451, which costs the sender nothing. Expired records are removed
 * as they are met, and one bucket is swept now and then.
 */
export const GREYLIST_DIR = "greylist";
const SWEEP_EVERY_MS = 60_000;

/**
 * At the listener's start, before it drops privileges: make the directory
 * and, as root, give it to `user` (the account the listener will run as).
 */
export async function prepareGreylistDir(home: string, user: string): Promise<Result<void>> {
  const dir = join(home, GREYLIST_DIR);
  try {
    mkdirSync(dir, { mode: 0o700, recursive: true });
    if (uid() !== 0) return ok(undefined);
    const pw = await getpwnam(user);
    if (pw) chownSync(dir, pw.uid, pw.gid);
    return ok(undefined);
  } catch (err) {
    return temp(`Unable to prepare ${dir}: ${errText(err)}`, "4.3.0");
  }
}

let lastSweep = 0;
let nextBucket = 0;

/** Looks the triple up, notes this attempt, says whether it passes; an error is the caller's (it accepts). */
export async function greyCheck(home: string, triple: string, cfg: GreylistConfig, now: number): Promise<Result<{ pass: boolean; wait: number }>> {
  const hash = createHash("sha256").update(triple, "latin1").digest("hex");
  const bucket = join(home, GREYLIST_DIR, hash.slice(0, 2));
  const file = join(bucket, hash.slice(2));
  const tmp = join(home, GREYLIST_DIR, `tmp.${process.pid}.${randomBytes(6).toString("hex")}`);
  try {
    const text = await readFile(file, "latin1").catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? null : Promise.reject(err)));
    const d = greyDecide(text === null ? null : decodeGreyRecord(text), now, cfg);
    await mkdir(bucket, { recursive: true, mode: 0o700 });
    await writeFile(tmp, encodeGreyRecord(d.record), { mode: 0o600 });
    await rename(tmp, file);
    if (now - lastSweep >= SWEEP_EVERY_MS) {
      lastSweep = now;
      void sweep(join(home, GREYLIST_DIR, (nextBucket++ % 256).toString(16).padStart(2, "0")), cfg, now);
    }
    return ok({ pass: d.pass, wait: d.wait });
  } catch (err) {
    await unlink(tmp).catch(() => {});
    return temp(`greylist store ${join(home, GREYLIST_DIR)}: ${errText(err)}`, "4.3.0");
  }
}

/** Removes the bucket's records not seen for `lifetime`. Quiet: the next sweep tries again. */
async function sweep(bucket: string, cfg: GreylistConfig, now: number): Promise<void> {
  try {
    for (const name of await readdir(bucket)) {
      const path = join(bucket, name);
      const st = await stat(path);
      if (now - st.mtimeMs > cfg.lifetime * 1000) await unlink(path);
    }
  } catch {
    // a missing bucket, a race with another process's sweep
  }
}
