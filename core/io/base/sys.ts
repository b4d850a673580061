import { closeSync, constants, fsync, fsyncSync, openSync, writeSync } from "node:fs";

/**
 * fsync an open file: in the thread pool, so fsyncs started together share a
 * journal commit; `blocking` (a process that queues one message and exits):
 * in this thread, with no pool to start.
 */
export async function fsyncFd(fd: number, blocking = false): Promise<void> {
  if (blocking) return fsyncSync(fd);
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsync a file or directory by path (a directory: so a link or rename in it survives a crash); open and close are synchronous. */
export async function fsyncPath(path: string, opts: { readonly directory?: boolean; readonly blocking?: boolean } = {}): Promise<void> {
  const fd = openSync(path, constants.O_RDONLY | (opts.directory ? constants.O_DIRECTORY : 0));
  try {
    await fsyncFd(fd, opts.blocking);
  } finally {
    closeSync(fd);
  }
}

/** Every byte to an open descriptor (writeSync may write less than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** The home qm works in: $QMHOME, else /var/qm. */
export function qmHome(): string {
  return process.env.QMHOME || "/var/qm";
}

/** Real uid, or -1 where the runtime has none. */
export function uid(): number {
  return typeof process.getuid === "function" ? process.getuid() : -1;
}
