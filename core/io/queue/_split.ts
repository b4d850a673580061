/**
 * The split directories qm added to qmail's layout (defer/, hold/, dsn/): a queue
 * made before them has none, so the first writer makes them, with the
 * queue's owner and mode 0700 (dsn/: 0750), as `qm init` would have.
 */
import { chownSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { SPLIT } from "../../lib/queue/layout.ts";

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
