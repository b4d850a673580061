/**
 * The queue's directories, made for `qm init` (qmail's layout and modes,
 * core/lib/queue/layout.ts): idempotent, and as root given to the queue's
 * owner. Errors are thrown with their errno code; init reports them.
 */
import { spawnSync } from "node:child_process";
import { chmod, chown, lstat, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { lockFile, queueDir, QUEUE_MODES, SPLIT, SPLIT_DIRS } from "../../lib/queue/layout.ts";

/** Makes `home`'s queue/; `owner` (root only) gets every directory, the trigger and the fence. */
export async function createQueue(home: string, owner: { readonly uid: number; readonly gid: number } | null): Promise<void> {
  const queue = queueDir(home);
  for (const [rel, mode] of QUEUE_MODES) {
    const dir = join(queue, rel);
    await mkdir(dir, { recursive: true, mode });
    await chmod(dir, mode);
    if (owner) await chown(dir, owner.uid, owner.gid);
    if ((SPLIT_DIRS as readonly string[]).includes(rel)) {
      for (let i = 0; i < SPLIT; i++) {
        await mkdir(join(dir, String(i)), { recursive: true, mode });
        if (owner) await chown(join(dir, String(i)), owner.uid, owner.gid);
      }
    }
  }
  const trigger = lockFile(home, "trigger");
  const st = await lstat(trigger).catch(() => null);
  if (!st) {
    const r = spawnSync("mkfifo", ["-m", "0622", trigger]);
    if (r.status !== 0) throw Object.assign(new Error(`mkfifo failed: ${r.stderr?.toString() ?? r.error}`), { code: "EIO" });
  }
  await chmod(trigger, 0o622);
  if (owner) await chown(trigger, owner.uid, owner.gid);
  const fence = lockFile(home, "fence"); // held by qm send's spawners (io/queue/fence.ts)
  if (!(await lstat(fence).catch(() => null))) {
    const r = spawnSync("mkfifo", ["-m", "0600", fence], { timeout: 10_000 });
    if (r.status !== 0) throw Object.assign(new Error(`mkfifo failed: ${r.stderr?.toString() ?? r.error}`), { code: "EIO" });
  }
  await chmod(fence, 0o600);
  if (owner) await chown(fence, owner.uid, owner.gid);
}
