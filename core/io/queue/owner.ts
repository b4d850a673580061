import { statSync } from "node:fs";
import { join } from "node:path";

/**
 * As root, after lspawn has started: send becomes the owner of queue/ when
 * that owner (not root) also owns info/, the files send writes.
 */
export function dropToQueueOwner(queue: string): boolean {
  if ((process.getuid?.() ?? -1) !== 0 || !process.setuid || !process.setgid) return false;
  const q = statSync(queue, { throwIfNoEntry: false });
  const info = statSync(join(queue, "info"), { throwIfNoEntry: false });
  if (!q || !info || q.uid === 0 || info.uid !== q.uid) return false;
  process.setgid(q.gid);
  process.setuid(q.uid);
  return true;
}
