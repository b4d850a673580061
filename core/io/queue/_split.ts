/**
 * The split directories qm added to qmail's layout (defer/, hold/, dsn/): a queue
 * made before them has none, so the first writer makes them, with the
 * queue's owner and mode 0700 (dsn/: 0750), as `qm init` would have.
 */
import { chownSync, closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { splitPath, SPLIT } from "../../lib/queue/layout.ts";
import { writeAll } from "../base/sys.ts";

export function ensureSplitDir(queue: string, dir: "defer" | "hold" | "dsn", id: number): void {
  const sub = join(queue, dir, String(id % SPLIT));
  if (statSync(sub, { throwIfNoEntry: false })?.isDirectory()) return;
  const owner = statSync(queue);
  const root = (process.getuid?.() ?? -1) === 0;
  for (const d of [join(queue, dir), sub]) {
    try {
      mkdirSync(d, { mode: dir === "dsn" ? 0o750 : 0o700 });
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
      continue;
    }
    if (root && owner.uid !== 0) chownSync(d, owner.uid, owner.gid);
  }
}

/** dir/<N>/<id> replaced whole: written to <id>.tmp (fsynced when `durable`), then renamed over it. Throws on failure. */
export function replaceSplitFile(queue: string, dir: "defer" | "dsn", id: number, bytes: Uint8Array, mode: number, durable: boolean): void {
  const path = join(queue, splitPath(dir, id));
  ensureSplitDir(queue, dir, id);
  const fd = openSync(`${path}.tmp`, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
  try {
    writeAll(fd, bytes);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.tmp`, path);
}
