import { createReadStream, fstatSync } from "node:fs";
import { open } from "node:fs/promises";
import { ok, type Result } from "../lib/result.ts";
import { fromErrno } from "./errno.ts";

// The message a remote delivery sends: read once, streamed, never held whole
// in memory. Its size, when known, goes into MAIL FROM's SIZE=.

export interface RemoteMessage {
  readonly size?: number;
  readonly chunks: () => AsyncIterable<Uint8Array>;
  /** Releases the file descriptor (when the message was never read). */
  readonly close: () => Promise<void>;
}

const HIGH_WATER = 64 * 1024;

/** A mess file by path (rspawn); refused unless it is a regular file. */
export async function openMessageFile(path: string): Promise<Result<RemoteMessage>> {
  try {
    const fh = await open(path, "r");
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      return fromErrno({ code: "EISDIR", message: "not a regular file" }, "Unable to open message file");
    }
    let used = false;
    return ok({
      size: st.size,
      chunks: () => {
        used = true;
        return fh.createReadStream({ highWaterMark: HIGH_WATER, autoClose: true });
      },
      close: async () => {
        if (!used) await fh.close();
      },
    });
  } catch (err) {
    return fromErrno(err, "Unable to open message file");
  }
}

/** fd 0 (qm remote): a regular file gives its size; a pipe is streamed as it comes. */
export function stdinMessage(): RemoteMessage {
  let size: number | undefined;
  try {
    const st = fstatSync(0);
    if (st.isFile()) size = st.size;
  } catch {
    size = undefined;
  }
  return {
    size,
    chunks: () => (size !== undefined ? createReadStream("", { fd: 0, highWaterMark: HIGH_WATER, autoClose: false }) : process.stdin),
    close: async () => {},
  };
}
