import { closeSync, fsyncSync, openSync, constants } from "node:fs";
import { open } from "node:fs/promises";

/** fsync a directory, so a link or rename in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The home qm works in: $QMHOME, else /var/qm. */
export function qmHome(): string {
  return process.env.QMHOME || "/var/qm";
}

/** Real uid, or -1 where the runtime has none. */
export function uid(): number {
  return typeof process.getuid === "function" ? process.getuid() : -1;
}
