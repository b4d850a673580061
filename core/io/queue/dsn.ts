/**
 * queue/dsn/<N>/<id>: what a message's sender asked for in RFC 3461
 * parameters, and the notices under way (core/lib/queue/dsn.ts's record;
 * qm-queue(5)). Written by preprocessing with info/ (durable with its batch),
 * rewritten whole (tmp, fsync, rename) when a delay warning has gone out,
 * appended to (fsynced) for each success to report; removed before info/ at
 * a message's end. A stale file of an earlier message with the same inode is
 * removed when the new one is preprocessed. Mode 0644 in a 0750 directory,
 * as mess/: qm rspawn (group qmail) reads what to pass on to the next hop.
 */
import { closeSync, constants, existsSync, fsyncSync, openSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { writeAll } from "../base/sys.ts";
import { fromBytes, toBytes } from "../../lib/base/bytes.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { formatDsnRecord, parseDsnRecord, parseMRecord, parseNRecord, type DsnState, type MessageDsn, type RcptDsn } from "../../lib/queue/dsn.ts";
import { flatPath, splitPath, SPLIT } from "../../lib/queue/layout.ts";
import { errText, isMissing } from "../base/errno.ts";
import { ensureSplitDir, replaceSplitFile } from "./_split.ts";

const path = (queue: string, id: number): string => join(queue, splitPath("dsn", id));

/** The record, or null when there is none; a damaged one reads as none (notices are advisory). */
export function readDsn(queue: string, id: number): Result<DsnState | null> {
  try {
    return ok(parseDsnRecord(fromBytes(readFileSync(path(queue, id)))));
  } catch (err) {
    return isMissing(err) || (err as { code?: string }).code === "ENOTDIR" ? ok(null) : temp(`unable to read dsn/${id % SPLIT}/${id}: ${errText(err)}`);
  }
}

/** A new message's record, not yet durable: the caller's batch fsyncs it (its directory is returned). */
export function writeNewDsn(queue: string, id: number, d: MessageDsn): string {
  ensureSplitDir(queue, "dsn", id);
  const fd = openSync(path(queue, id), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    writeAll(fd, toBytes(formatDsnRecord({ dsn: d, warned: false, done: [] })));
  } finally {
    closeSync(fd);
  }
  return join(queue, "dsn", String(id % SPLIT));
}

/** The record rewritten whole, durably: tmp, fsync, rename. */
export function writeDsn(queue: string, id: number, s: DsnState): Result<void> {
  try {
    replaceSplitFile(queue, "dsn", id, toBytes(formatDsnRecord(s)), 0o644, true);
    return ok(undefined);
  } catch (err) {
    return temp(`unable to write dsn/${id % SPLIT}/${id}: ${errText(err)}`);
  }
}

/** One line appended durably (a success to report: the D mark follows it). */
export function appendDsn(queue: string, id: number, line: string): Result<void> {
  const p = path(queue, id);
  try {
    if (!existsSync(p)) return writeDsn(queue, id, { dsn: { rcpts: new Map() }, warned: false, done: [] }).kind === "ok" ? appendDsn(queue, id, line) : temp(`unable to create dsn/${id % SPLIT}/${id}`);
    const fd = openSync(p, constants.O_WRONLY | constants.O_APPEND);
    try {
      writeAll(fd, toBytes(line));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return ok(undefined);
  } catch (err) {
    return temp(`unable to append to dsn/${id % SPLIT}/${id}: ${errText(err)}`);
  }
}

/** Gone, with any tmp file; a failure is thrown to the caller (finishMessage, a delete). */
export function removeDsn(queue: string, id: number): void {
  for (const f of [path(queue, id), `${path(queue, id)}.tmp`]) {
    try {
      unlinkSync(f);
    } catch (err) {
      if (!isMissing(err) && (err as { code?: string }).code !== "ENOTDIR") throw err;
    }
  }
}

/** The record of the message whose mess file is `messPath` (qm rspawn has only that path); null when none or unreadable. */
export function readDsnOfMess(messPath: string): DsnState | null {
  const m = /^(.*)\/mess\/(\d+)\/(\d+)$/.exec(messPath);
  if (!m) return null;
  const r = readDsn(m[1]!, Number(m[3]));
  return r.kind === "ok" ? r.value : null;
}

/** For qm qctl show: dsn/ once qm send took the message in, else the M and N records of its todo/ file; null when none. */
export function readMessageDsn(queue: string, id: number): DsnState | null {
  const kept = readDsn(queue, id);
  if (kept.kind === "ok" && kept.value) return kept.value;
  let todo: string;
  try {
    todo = fromBytes(readFileSync(join(queue, flatPath("todo", id))));
  } catch {
    return null;
  }
  let m: ReturnType<typeof parseMRecord> = null;
  let n: RcptDsn | null = null;
  const rcpts = new Map<string, RcptDsn>();
  for (const f of todo.split("\0")) {
    if (f[0] === "M") m = parseMRecord(f.slice(1));
    else if (f[0] === "N") n = parseNRecord(f.slice(1));
    else if (f[0] === "T") {
      if (n) rcpts.set(f.slice(1), n);
      n = null;
    }
  }
  return m || rcpts.size > 0 ? { dsn: { ...m, rcpts }, warned: false, done: [] } : null;
}
