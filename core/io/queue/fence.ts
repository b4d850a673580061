/**
 * queue/lock/fence (qm-qctl(8)): a FIFO that a queue manager's spawners
 * (qm lspawn, qm rspawn) hold open for writing for as long as they live; they
 * get it from qm send as their descriptor 3, and do not pass it on to the
 * deliveries they start. The send mutex frees the moment its holder dies,
 * SIGKILL included, but its spawners may live on for a moment (they notice
 * their parent's death within a fraction of a second and exit) and in that
 * moment could still start a delivery they had read from their pipe. Whoever
 * takes the mutex and then acknowledges a hold or a delete (qm qctl making a
 * change itself, a new qm send before it starts any delivery or answers the
 * control socket) first waits for the fence to open: a FIFO read gives end
 * of file only once no process at all holds it for writing, so after that no
 * spawner of an earlier queue manager is left to start anything.
 */
import { spawnSync } from "node:child_process";
import { chownSync, closeSync, constants, lstatSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText, isMissing } from "../base/errno.ts";

const POLL_MS = 50;

const fencePath = (queue: string): string => join(queue, "lock", "fence");

/**
 * Makes the FIFO when it is missing (a queue made before it), mode 0600,
 * the queue owner's, and opens it for writing (O_RDWR: a FIFO opened so
 * never waits for a reader). The caller holds the send mutex; it hands the
 * descriptor to each spawner it starts and closes its own once they run.
 */
export function openFence(queue: string): Result<number> {
  const path = fencePath(queue);
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) {
      const r = spawnSync("mkfifo", ["-m", "0600", path], { timeout: 10_000 });
      if (r.status !== 0 && !lstatSync(path, { throwIfNoEntry: false })) return temp(`unable to make lock/fence: ${r.stderr?.toString().trim() || r.error?.message || "mkfifo failed"}`);
      if ((process.getuid?.() ?? -1) === 0) {
        const q = statSync(queue);
        chownSync(path, q.uid, q.gid);
      }
    } else if (!st.isFIFO()) return temp("lock/fence is not a FIFO");
    return ok(openSync(path, constants.O_RDWR | constants.O_NONBLOCK));
  } catch (err) {
    return temp(`unable to open lock/fence: ${errText(err)}`);
  }
}

/**
 * Waits until no process holds the fence for writing (no spawner of an
 * earlier queue manager is left), at most `timeoutMs`. A queue without the
 * FIFO has had no spawner holding it. The caller holds the send mutex, so no
 * new holder can appear meanwhile.
 */
export async function waitFence(queue: string, timeoutMs: number): Promise<Result<void>> {
  let fd: number;
  try {
    fd = openSync(fencePath(queue), constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return isMissing(err) ? ok(undefined) : temp(`unable to open lock/fence: ${errText(err)}`);
  }
  const deadline = Date.now() + timeoutMs;
  const buf = new Uint8Array(64);
  try {
    for (;;) {
      try {
        if (readSync(fd, buf, 0, buf.length, null) === 0) return ok(undefined); // end of file: no writer left
        continue; // nobody writes to it; a stray byte is just read away
      } catch (err) {
        if ((err as { code?: string }).code !== "EAGAIN") return temp(`unable to read lock/fence: ${errText(err)}`);
      }
      if (Date.now() >= deadline) return temp(FENCE_BUSY);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    closeSync(fd);
  }
}

export const FENCE_BUSY = "spawners of a stopped qm send are still running (they hold lock/fence)";
