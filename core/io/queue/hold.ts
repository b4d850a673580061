/**
 * Hold and delete marks, queue/hold/<N>/<id> (qm-qctl(8)). A message with a
 * mark is not delivered: "hold" until it is released, "delete" while it is
 * being removed. The mark is written before anything else of the message is
 * touched and removed after, so a crash in between leaves a message that is
 * held, never one half delivered: whoever takes the send mutex next finishes
 * a "delete" (finishDeletes in qctl, qm send at start).
 */
import { closeSync, constants, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseId, splitPath, SPLIT } from "../../lib/queue/layout.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { fsyncPath } from "../base/sys.ts";
import { errText, isMissing } from "../base/errno.ts";
import { ensureSplitDir } from "./_split.ts";

export type Mark = "hold" | "delete";

/** The message's mark, or null. A mark that says anything else counts as "hold": when in doubt, do not deliver. */
export function readMark(queue: string, id: number): Mark | null {
  let text: string;
  try {
    // asked for every message taken in: a lookup that finds nothing costs less than a failed open's error
    if (!statSync(join(queue, splitPath("hold", id)), { throwIfNoEntry: false })) return null;
    text = readFileSync(join(queue, splitPath("hold", id)), "latin1");
  } catch (err) {
    return isMissing(err) || (err as { code?: string }).code === "ENOTDIR" ? null : "hold";
  }
  return text === "delete\n" ? "delete" : "hold";
}

/** Writes the mark durably (tmp file, fsync, rename, fsync of the directory) before returning ok. */
export async function setMark(queue: string, id: number, mark: Mark): Promise<Result<void>> {
  const path = join(queue, splitPath("hold", id));
  const tmp = `${path}.tmp`;
  try {
    ensureSplitDir(queue, "hold", id);
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      writeSync(fd, `${mark}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    await fsyncPath(join(queue, "hold", String(id % SPLIT)), { directory: true });
    return ok(undefined);
  } catch (err) {
    return temp(`unable to write hold/${id % SPLIT}/${id}: ${errText(err)}`);
  }
}

/** Removes the mark durably; no mark is fine. */
export async function clearMark(queue: string, id: number): Promise<Result<void>> {
  try {
    unlinkSync(join(queue, splitPath("hold", id)));
    await fsyncPath(join(queue, "hold", String(id % SPLIT)), { directory: true });
  } catch (err) {
    if (!isMissing(err) && (err as { code?: string }).code !== "ENOTDIR") return temp(`unable to remove hold/${id % SPLIT}/${id}: ${errText(err)}`);
  }
  return ok(undefined);
}

/** Every message with a mark; a queue without hold/ has none. */
export function scanMarks(queue: string): Result<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SPLIT; i++) {
    try {
      for (const name of readdirSync(join(queue, "hold", String(i)))) {
        const id = parseId(name);
        if (id !== null) out.push(id);
      }
    } catch (err) {
      if (!isMissing(err)) return temp(`unable to read hold/${i}: ${errText(err)}`);
    }
  }
  return ok(out.sort((a, b) => a - b));
}
