/**
 * The queue manager's ends of queue/lock (docs/qmail.md §1.6, §2.1): the trigger
 * FIFO, read as a stream so that any writer wakes send at once, and the
 * sendmutex that keeps a second queue manager out.
 */
import { closeSync, constants, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "../base/errno.ts";

export interface Trigger {
  close(): void;
}

/**
 * Opens lock/trigger read-write (so it never sees EOF when writers come and
 * go) and reads it in a loop: each read waits in the runtime's I/O thread
 * until some writer writes, and one read takes every byte written so far,
 * so wake-ups coalesce. (A net.Socket over the FIFO would avoid the waiting
 * thread on Node, but a compiled Bun binary never sees data on it.)
 */
export async function openTrigger(queue: string, wake: () => void): Promise<Result<Trigger>> {
  let fh: FileHandle;
  try {
    fh = await open(join(queue, "lock", "trigger"), constants.O_RDWR);
  } catch (err) {
    return temp(`unable to open lock/trigger: ${errText(err)}`);
  }
  let closed = false;
  const buf = new Uint8Array(4096);
  void (async () => {
    while (!closed) {
      try {
        await fh.read(buf, 0, buf.length, null);
      } catch {
        break;
      }
      if (!closed) wake();
    }
    await fh.close().catch(() => {});
  })();
  return ok({
    close: () => {
      if (closed) return;
      closed = true;
      void fh.write(new Uint8Array(1)).catch(() => {}); // ends the waiting read
    },
  });
}

/**
 * lock/sendmutex holds the pid of the running queue manager, created with
 * O_EXCL; `qm qctl` making a change itself holds it too, its pid followed
 * by " qctl". A holder that died (SIGKILL included) leaves a pid no process has:
 * the next one moves the stale file aside with rename() and checks that what
 * it moved is that dead pid before trying again, so two starters racing over
 * a stale lock cannot both win.
 */
export function takeSendMutex(queue: string, who: "send" | "qctl" = "send"): Result<{ release(): void }> {
  const path = join(queue, "lock", "sendmutex");
  for (let tries = 0; tries < 5; tries++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, who === "qctl" ? `${process.pid} qctl\n` : `${process.pid}\n`);
      closeSync(fd);
      return ok({ release: () => releaseIfOurs(path) });
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") return temp(`unable to create lock/sendmutex: ${errText(err)}`);
    }
    const holder = readPid(path);
    if (holder !== null && holder !== process.pid && alive(holder)) return temp(`qm send is already running (pid ${holder})`);
    const aside = `${path}.stale.${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // someone else moved it: try again
    }
    if (readPid(aside) !== holder) {
      // we moved a fresh lock of a racing starter: put it back and give way
      try {
        linkSync(aside, path); // fails if yet another starter got in: then it holds the lock
      } catch {}
      try {
        unlinkSync(aside);
      } catch {}
      return temp("qm send is already running");
    }
    try {
      unlinkSync(aside);
    } catch {}
  }
  return temp("unable to take lock/sendmutex");
}

/**
 * takeSendMutex for a starting queue manager: a `qm qctl` that holds the
 * mutex for a change of its own (its pid is followed by "qctl") is waited
 * for, up to `waitMs`; another queue manager is not.
 */
export async function takeSendMutexAfterQctl(queue: string, waitMs: number): Promise<Result<{ release(): void }>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const r = takeSendMutex(queue);
    if (r.kind === "ok" || r.reason.startsWith("unable to create") || Date.now() >= deadline) return r;
    let text: string | null = null;
    try {
      text = readFileSync(join(queue, "lock", "sendmutex"), "latin1");
    } catch {}
    const m = text === null ? null : /^(\d+) qctl\n/.exec(text);
    const qctlHolds = m !== null && alive(Number(m[1]));
    if (!qctlHolds && text !== null) return r; // another queue manager (text null: released meanwhile, try again)
    await new Promise((res) => setTimeout(res, 100));
  }
}

function readPid(path: string): number | null {
  try {
    const m = /^(\d+)/.exec(readFileSync(path, "latin1"));
    return m ? Number(m[1]) : -1;
  } catch {
    return null;
  }
}

function releaseIfOurs(path: string): void {
  if (readPid(path) === process.pid) {
    try {
      unlinkSync(path);
    } catch {}
  }
}

function alive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}
