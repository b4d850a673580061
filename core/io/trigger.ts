/**
 * The queue manager's ends of queue/lock (qmail.md §1.6, §2.1): the trigger
 * FIFO, read as a stream so that any writer wakes send at once, and the
 * sendmutex that keeps a second queue manager out.
 */
import { closeSync, constants, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import { ok, temp, type Result } from "../lib/result.ts";
import { errText } from "./errno.ts";

export interface Trigger {
  close(): void;
}

/**
 * Opens lock/trigger O_RDWR|O_NONBLOCK (so it never sees EOF when writers
 * come and go) and calls `wake` once per burst of bytes: wake-ups coalesce.
 */
export function openTrigger(queue: string, wake: () => void): Result<Trigger> {
  let fd: number;
  try {
    fd = openSync(join(queue, "lock", "trigger"), constants.O_RDWR | constants.O_NONBLOCK);
  } catch (err) {
    return temp(`unable to open lock/trigger: ${errText(err)}`);
  }
  const sock = new Socket({ fd, readable: true, writable: false });
  let pending = false;
  sock.on("data", () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      wake();
    });
  });
  sock.on("error", () => {});
  sock.unref();
  return ok({ close: () => sock.destroy() });
}

/**
 * lock/sendmutex holds the pid of the running queue manager, created with
 * O_EXCL. A holder that died (SIGKILL included) leaves a pid no process has:
 * the next one moves the stale file aside with rename() and checks that what
 * it moved is that dead pid before trying again, so two starters racing over
 * a stale lock cannot both win.
 */
export function takeSendMutex(queue: string): Result<{ release(): void }> {
  const path = join(queue, "lock", "sendmutex");
  for (let tries = 0; tries < 5; tries++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, `${process.pid}\n`);
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
