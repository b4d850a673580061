/**
 * queue/defer/<N>/<id>, the delivery status record (core/lib/queue/status.ts).
 * Advisory, off the durability path: written whole to a tmp file and renamed,
 * never fsynced; read tolerantly (a missing, damaged or oversized record is no
 * record).
 */
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fromBytes, toBytes } from "../../lib/base/bytes.ts";
import { splitPath, SPLIT } from "../../lib/queue/layout.ts";
import { formatStatus, parseStatus, recordAttempts, type Attempt, type StatusRecord } from "../../lib/queue/status.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "../base/errno.ts";
import { replaceSplitFile } from "./_split.ts";

/** A record larger than this is not read (1000 recipients with long errors fit several times over). */
export const MAX_STATUS_BYTES = 8 << 20;

export function readStatus(queue: string, id: number): StatusRecord | null {
  let fd: number;
  try {
    fd = openSync(join(queue, splitPath("defer", id)), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_STATUS_BYTES) return null;
    const buf = new Uint8Array(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    return parseStatus(fromBytes(buf.subarray(0, got)));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export function writeStatus(queue: string, id: number, r: StatusRecord): Result<void> {
  try {
    replaceSplitFile(queue, "defer", id, toBytes(formatStatus(r)), 0o600, false); // advisory: no fsync
    return ok(undefined);
  } catch (err) {
    return temp(`unable to write defer/${id % SPLIT}/${id}: ${errText(err)}`);
  }
}

/** After a pass that left recipients deferred: one more attempt each, read-merge-write. */
export function noteDeferrals(queue: string, id: number, birth: number, attempts: readonly Attempt[]): Result<void> {
  if (attempts.length === 0) return ok(undefined);
  return writeStatus(queue, id, recordAttempts(readStatus(queue, id), birth, attempts));
}

export function removeStatus(queue: string, id: number): void {
  try {
    unlinkSync(join(queue, splitPath("defer", id)));
  } catch {
    // advisory: a leftover record is recognised by its birth and ignored
  }
}
