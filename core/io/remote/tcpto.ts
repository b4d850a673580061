import { readFile, rename, writeFile } from "node:fs/promises";
import { lockFile } from "../../lib/queue/layout.ts";
import { emptyTable, isDown, recordAttempt, TABLE_SIZE } from "../../lib/remote/tcpto.ts";

// queue/lock/tcpto has one writer: the running `qm rspawn`, which keeps the
// table in memory, zeroes the file when it starts (as qmail-rspawn) and
// rewrites it after each change: by rename where it may write queue/lock (a
// home of one user), else in place (a root install: qm init gives the file,
// not the directory, to the remote user). A one-shot `qm remote` only reads
// it, so node's missing flock is never needed; a read that meets a write half
// done sees some entries old and some new, which only changes whom it skips.

export interface Tcpto {
  isDown(ip: string): boolean;
  record(ip: string, timedOut: boolean): void;
}

function tcptoPath(home: string): string {
  return lockFile(home, "tcpto");
}

/** The table on disk; an empty one when missing, unreadable or the wrong size. */
export async function readTcpto(home: string): Promise<Uint8Array> {
  try {
    const b = await readFile(tcptoPath(home));
    return b.length === TABLE_SIZE ? new Uint8Array(b) : emptyTable();
  } catch {
    return emptyTable();
  }
}

const now = () => Math.floor(Date.now() / 1000);

/** Read-only view for a one-shot `qm remote`: it skips downed hosts but records nothing. */
export function readOnlyTcpto(table: Uint8Array): Tcpto {
  return { isDown: (ip) => isDown(table, ip, now(), process.pid), record: () => {} };
}

/** The writer's view (`qm rspawn`): starts from zero, saves every change; a failed save only costs memory on disk. */
export function ownedTcpto(home: string): Tcpto & { flush(): Promise<void> } {
  let table = emptyTable();
  let saving: Promise<void> = save(home, table);
  let dirty = false;
  const flush = (): Promise<void> => {
    saving = saving.then(() => {
      if (!dirty) return;
      dirty = false;
      return save(home, table);
    });
    return saving;
  };
  return {
    isDown: (ip) => isDown(table, ip, now(), process.pid),
    record(ip, timedOut) {
      const next = recordAttempt(table, ip, timedOut, now());
      if (next.every((b, i) => b === table[i])) return;
      table = next;
      dirty = true;
      void flush();
    },
    flush,
  };
}

async function save(home: string, table: Uint8Array): Promise<void> {
  const path = tcptoPath(home);
  try {
    await writeFile(`${path}.tmp`, table);
    await rename(`${path}.tmp`, path);
  } catch {
    try {
      await writeFile(path, table, { flag: "r+" }); // queue/lock is not ours, the file is (fixed size: no truncation needed)
    } catch {
      // neither: the memory in this process still works
    }
  }
}
