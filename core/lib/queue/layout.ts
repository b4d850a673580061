/**
 * The queue's layout, qmail's to the name (docs/qmail.md §1.1): a message id is the
 * inode number of its mess file; split directories are id mod 23.
 */
export const SPLIT = 23;

export const SPLIT_DIRS = ["mess", "info", "local", "remote", "defer", "hold", "dsn"] as const;
export const FLAT_DIRS = ["pid", "intd", "todo", "bounce", "lock", "maildrop"] as const;
export type SplitDir = (typeof SPLIT_DIRS)[number];
export type FlatDir = (typeof FLAT_DIRS)[number];

/**
 * A home's queue directory ($QMHOME/queue). Only the queue room builds paths
 * into the queue (test/layering.test.ts); other rooms ask these functions.
 */
export function queueDir(home: string): string {
  return `${home.replace(/\/+$/, "")}/queue`;
}
/** queue/maildrop/: a submitter that may not write the queue leaves its message there. */
export function maildropDir(home: string): string {
  return `${queueDir(home)}/maildrop`;
}
/** The files in queue/lock/: the trigger FIFO, send's mutex, the fence its spawners hold (io/queue/fence.ts), remote's table of hosts that time out (where qmail keeps it), and remote's MTA-STS policy cache and TLS-RPT records (directories of the remote user's). */
export type LockFile = "trigger" | "sendmutex" | "fence" | "tcpto" | "sts" | "tlsrpt";
export function lockFile(home: string, name: LockFile): string {
  return `${queueDir(home)}/lock/${name}`;
}

/** queue/lock/queued/socket, where qm queued takes listeners' messages (qm-queued(8)). */
export function queuedSocket(home: string): string {
  return `${queueDir(home)}/lock/queued/socket`;
}

/** queue-relative path of a message's file in a split directory: "mess/7/12345". */
export function splitPath(dir: SplitDir, id: number): string {
  return `${dir}/${id % SPLIT}/${id}`;
}
/** queue-relative path in a flat directory: "todo/12345". */
export function flatPath(dir: Exclude<FlatDir, "lock" | "maildrop">, id: number): string {
  return `${dir}/${id}`;
}

/** Modes of qmail's queue (owner column in the spec): [path, mode]. */
export const QUEUE_MODES: readonly (readonly [string, number])[] = [
  ["", 0o751], // others may reach maildrop/ and lock/trigger, never list
  ["pid", 0o700],
  ["intd", 0o700],
  ["todo", 0o750],
  ["mess", 0o750],
  ["info", 0o700],
  ["local", 0o700],
  ["remote", 0o700],
  ["bounce", 0o700],
  ["defer", 0o700], // qm's: delivery status records (status.ts); a queue made before them gets them on first use
  ["hold", 0o700], // qm's: hold and delete marks (qm-qctl(8))
  ["dsn", 0o750], // qm's: RFC 3461 parameters and notices under way (io/queue/dsn.ts); rspawn reads them, as it reads mess/
  ["lock", 0o751],
  ["maildrop", 0o1733],
];

/** A todo/ or split-dir entry name is a message id only when it is all digits. */
export function parseId(name: string): number | null {
  return /^[1-9]\d{0,15}$/.test(name) ? Number(name) : null;
}
