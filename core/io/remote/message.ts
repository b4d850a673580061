import { closeSync, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import { ok, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "../base/errno.ts";

// The message a remote delivery sends: read once, streamed, never held whole
// in memory. Its size, when known, goes into MAIL FROM's SIZE=.

export interface RemoteMessage {
  readonly size?: number;
  readonly chunks: () => AsyncIterable<Uint8Array>;
  /** Releases the file descriptor (when the message was never read). */
  readonly close: () => Promise<void>;
}

const HIGH_WATER = 64 * 1024;

/**
 * A mess file by path (rspawn); refused unless it is a regular file. Opened
 * synchronously (a local file: a thread-pool round trip costs more than the
 * call), and a message up to HIGH_WATER is read whole at once, so the body
 * follows the 354 in the same turn of the event loop.
 */
export async function openMessageFile(path: string): Promise<Result<RemoteMessage>> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    return fromErrno(err, "Unable to open message file");
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      return fromErrno({ code: "EISDIR", message: "not a regular file" }, "Unable to open message file");
    }
    let open = true;
    const close = (): void => {
      if (open) closeSync(fd);
      open = false;
    };
    return ok({
      size: st.size,
      chunks: () => {
        if (st.size > HIGH_WATER) {
          open = false;
          return createReadStream("", { fd, highWaterMark: HIGH_WATER, autoClose: true });
        }
        const whole = readWhole(fd, st.size);
        close();
        return (async function* () {
          yield whole;
        })();
      },
      close: async () => close(),
    });
  } catch (err) {
    closeSync(fd);
    return fromErrno(err, "Unable to open message file");
  }
}

/** The whole small file; a file that grew is read to its end, one that shrank is cut where it ends. */
function readWhole(fd: number, size: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < 1 + HIGH_WATER; i++) {
    const buf = new Uint8Array(Math.max(size - total, 4096));
    const n = readSync(fd, buf, 0, buf.length, total);
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
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
